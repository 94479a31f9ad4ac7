// CPU feature detection, once per process.
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "../common.h"

#if SPW_ARCH_ARM64 && defined(__linux__)
  #include <sys/auxv.h>
  #ifndef HWCAP_ASIMD
    #define HWCAP_ASIMD (1UL << 1)
  #endif
  #ifndef HWCAP_CRC32
    #define HWCAP_CRC32 (1UL << 7)
  #endif
  #ifndef HWCAP_ASIMDDP
    #define HWCAP_ASIMDDP (1UL << 20)
  #endif
#elif SPW_ARCH_ARM64 && defined(__APPLE__)
  #include <sys/sysctl.h>
#endif

static uint32_t g_features;
static pthread_once_t g_features_once = PTHREAD_ONCE_INIT;

static uint32_t detect_features(void) {
  uint32_t f = 0;
#if SPW_ARCH_X86 && defined(__GNUC__)
  // __builtin_cpu_supports checks OSXSAVE/XCR0 too, so AVX and AVX-512 bits mean "usable", not just "present".
  __builtin_cpu_init();
  if (__builtin_cpu_supports("sse4.2")) f |= SPW_CPU_SSE42;
  if (__builtin_cpu_supports("pclmul")) f |= SPW_CPU_PCLMUL;
  if (__builtin_cpu_supports("avx")) f |= SPW_CPU_AVX;
  if (__builtin_cpu_supports("avx2")) f |= SPW_CPU_AVX2;
  if (__builtin_cpu_supports("fma")) f |= SPW_CPU_FMA;
  if (__builtin_cpu_supports("f16c")) f |= SPW_CPU_F16C;
  if (__builtin_cpu_supports("avx512f")) f |= SPW_CPU_AVX512F;
  if (__builtin_cpu_supports("avx512bw")) f |= SPW_CPU_AVX512BW;
  if (__builtin_cpu_supports("avx512dq")) f |= SPW_CPU_AVX512DQ;
  if (__builtin_cpu_supports("avx512vl")) f |= SPW_CPU_AVX512VL;
  if (__builtin_cpu_supports("avx512vnni")) f |= SPW_CPU_AVX512VNNI;
  if (__builtin_cpu_supports("avx512bf16")) f |= SPW_CPU_AVX512BF16;
  if (__builtin_cpu_supports("avx512vbmi")) f |= SPW_CPU_AVX512VBMI;
  if (__builtin_cpu_supports("avxvnni")) f |= SPW_CPU_AVXVNNI;
#elif SPW_ARCH_ARM64 && defined(__linux__)
  const unsigned long hwcap = getauxval(AT_HWCAP);
  if (hwcap & HWCAP_ASIMD) f |= SPW_CPU_ARM_NEON;
  if (hwcap & HWCAP_CRC32) f |= SPW_CPU_ARM_CRC32;
  if (hwcap & HWCAP_ASIMDDP) f |= SPW_CPU_ARM_DOTPROD;
#elif SPW_ARCH_ARM64 && defined(__APPLE__)
  // Every Apple arm64 CPU has NEON and CRC32; dot product from FEAT_DotProd (A13 and later).
  f |= SPW_CPU_ARM_NEON | SPW_CPU_ARM_CRC32;
  int value = 0;
  size_t size = sizeof(value);
  if (sysctlbyname("hw.optional.arm.FEAT_DotProd", &value, &size, NULL, 0) == 0 && value != 0) {
    f |= SPW_CPU_ARM_DOTPROD;
  }
#endif
  return f;
}

static void init_features(void) { g_features = detect_features(); }

uint32_t spw_cpu_features(void) {
  pthread_once(&g_features_once, init_features);
  return g_features;
}

static const struct {
  uint32_t bit;
  const char* name;
} k_feature_names[] = {
  {SPW_CPU_SSE42, "sse4.2"},           {SPW_CPU_PCLMUL, "pclmul"},         {SPW_CPU_AVX, "avx"},
  {SPW_CPU_AVX2, "avx2"},              {SPW_CPU_FMA, "fma"},               {SPW_CPU_F16C, "f16c"},
  {SPW_CPU_AVX512F, "avx512f"},        {SPW_CPU_AVX512BW, "avx512bw"},     {SPW_CPU_AVX512DQ, "avx512dq"},
  {SPW_CPU_AVX512VL, "avx512vl"},      {SPW_CPU_AVX512VNNI, "avx512vnni"}, {SPW_CPU_AVX512BF16, "avx512bf16"},
  {SPW_CPU_AVX512VBMI, "avx512vbmi"},  {SPW_CPU_AVXVNNI, "avxvnni"},       {SPW_CPU_ARM_NEON, "neon"},
  {SPW_CPU_ARM_CRC32, "crc32"},        {SPW_CPU_ARM_DOTPROD, "dotprod"},
};

size_t spw_cpu_features_describe(char* buffer, size_t capacity) {
  const uint32_t features = spw_cpu_features();
  size_t length = 0;
  bool fits = buffer != NULL && capacity > 0;
  if (fits) buffer[0] = '\0';
  for (size_t i = 0; i < sizeof(k_feature_names) / sizeof(k_feature_names[0]); i++) {
    if ((features & k_feature_names[i].bit) == 0) continue;
    const char* name = k_feature_names[i].name;
    const size_t name_length = strlen(name);
    const size_t needed = length + (length != 0 ? 1 : 0) + name_length;
    fits = fits && needed < capacity;  // stop at the first name that does not fit: no gaps
    if (fits) {
      if (length != 0) buffer[length] = ' ';
      memcpy(buffer + needed - name_length, name, name_length + 1);
    }
    length = needed;
  }
  return length;
}
