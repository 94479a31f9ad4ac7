// The selection table: per ISA level, the best supported variant of each op, built once.
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "../kernels.h"

static const char* const k_isa_labels[SPW_ISA_COUNT] = {"scalar", "avx2", "avx512", "neon"};

const char* spw_isa_label(spw_isa isa) {
  return (unsigned)isa < SPW_ISA_COUNT ? k_isa_labels[isa] : "unknown";
}

// Levels usable on this architecture, lowest first.
#if SPW_ARCH_X86
static const spw_isa k_levels[] = {SPW_ISA_SCALAR, SPW_ISA_AVX2, SPW_ISA_AVX512};
#elif SPW_ARCH_ARM64
static const spw_isa k_levels[] = {SPW_ISA_SCALAR, SPW_ISA_NEON};
#else
static const spw_isa k_levels[] = {SPW_ISA_SCALAR};
#endif
#define LEVEL_COUNT (sizeof(k_levels) / sizeof(k_levels[0]))

// Position of `isa` in k_levels, or -1 when this architecture has no such level.
static int level_rank(spw_isa isa) {
  for (size_t i = 0; i < LEVEL_COUNT; i++) {
    if (k_levels[i] == isa) return (int)i;
  }
  return -1;
}

static uint32_t level_features(spw_isa isa) {
  switch (isa) {
    case SPW_ISA_AVX2: return SPW_CPU_AVX2 | SPW_CPU_FMA;
    case SPW_ISA_AVX512: return SPW_CPU_AVX512F | SPW_CPU_AVX2 | SPW_CPU_FMA;
    case SPW_ISA_NEON: return SPW_CPU_ARM_NEON;
    default: return 0;
  }
}

bool spw_isa_is_supported(spw_isa isa) {
  if (level_rank(isa) < 0) return false;
  const uint32_t needed = level_features(isa);
  return (spw_cpu_features() & needed) == needed;
}

spw_isa spw_isa_select(const char* request) {
  int rank = (int)LEVEL_COUNT - 1;
  if (request != NULL) {
    for (size_t i = 0; i < LEVEL_COUNT; i++) {
      if (strcmp(request, k_isa_labels[k_levels[i]]) == 0) rank = (int)i;
    }
  }
  while (rank > 0 && !spw_isa_is_supported(k_levels[rank])) rank--;
  return k_levels[rank];
}

static spw_kernel_config g_configs[SPW_ISA_COUNT];
static bool g_config_valid[SPW_ISA_COUNT];
static spw_isa g_selected = SPW_ISA_SCALAR;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void fill_config(spw_isa isa, spw_kernel_config* config) {
  const int rank = level_rank(isa);
  size_t count = 0;
  const spw_kernel_info* registry = spw_kernel_registry(&count);
  memset(config, 0, sizeof(*config));
  config->isa = isa;
  for (size_t i = 0; i < count; i++) {
    const spw_kernel_info* entry = &registry[i];
    const int entry_rank = level_rank(entry->isa);
    if (entry_rank < 0 || entry_rank > rank || !spw_kernel_is_supported(entry)) continue;
    config->entries[entry->op] = entry;  // later entries are preferred
  }
  const spw_kernel_info* const* e = config->entries;
  config->crc32c = e[SPW_OP_CRC32C] ? e[SPW_OP_CRC32C]->fn.crc32c : NULL;
  config->f32_dwconv = e[SPW_OP_F32_DWCONV] ? e[SPW_OP_F32_DWCONV]->fn.f32_dwconv : NULL;
  config->f32_im2col = e[SPW_OP_F32_IM2COL] ? e[SPW_OP_F32_IM2COL]->fn.f32_im2col : NULL;
  config->f32_bias_act = e[SPW_OP_F32_BIAS_ACT] ? e[SPW_OP_F32_BIAS_ACT]->fn.f32_bias_act : NULL;
  config->f32_maxpool = e[SPW_OP_F32_MAXPOOL] ? e[SPW_OP_F32_MAXPOOL]->fn.f32_pool : NULL;
  config->f32_avgpool = e[SPW_OP_F32_AVGPOOL] ? e[SPW_OP_F32_AVGPOOL]->fn.f32_pool : NULL;
  config->f32_gavgpool = e[SPW_OP_F32_GAVGPOOL] ? e[SPW_OP_F32_GAVGPOOL]->fn.f32_gavgpool : NULL;
  config->f32_spmm = e[SPW_OP_F32_SPMM] ? e[SPW_OP_F32_SPMM]->fn.f32_spmm : NULL;
  config->qs8_gemm = e[SPW_OP_QS8_GEMM] ? e[SPW_OP_QS8_GEMM]->fn.qs8_gemm : NULL;
  config->f32_qu8_cvt = e[SPW_OP_F32_QU8_CVT] ? e[SPW_OP_F32_QU8_CVT]->fn.f32_qu8_cvt : NULL;
  config->qu8_f32_cvt = e[SPW_OP_QU8_F32_CVT] ? e[SPW_OP_QU8_F32_CVT]->fn.qu8_f32_cvt : NULL;
  config->qu8_add = e[SPW_OP_QU8_ADD] ? e[SPW_OP_QU8_ADD]->fn.qu8_add : NULL;
  config->qu8_maxpool = e[SPW_OP_QU8_MAXPOOL] ? e[SPW_OP_QU8_MAXPOOL]->fn.qu8_maxpool : NULL;
  config->qu8_gavgpool = e[SPW_OP_QU8_GAVGPOOL] ? e[SPW_OP_QU8_GAVGPOOL]->fn.qu8_gavgpool : NULL;
  config->qu8_dwconv = e[SPW_OP_QU8_DWCONV] ? e[SPW_OP_QU8_DWCONV]->fn.qu8_dwconv : NULL;
}

static void init_configs(void) {
  for (size_t i = 0; i < LEVEL_COUNT; i++) {
    const spw_isa isa = k_levels[i];
    if (!spw_isa_is_supported(isa)) continue;
    fill_config(isa, &g_configs[isa]);
    g_config_valid[isa] = true;
  }
  g_selected = spw_isa_select(getenv("SPARROW_ISA"));
}

const spw_kernel_config* spw_config_for_isa(spw_isa isa) {
  pthread_once(&g_once, init_configs);
  if ((unsigned)isa >= SPW_ISA_COUNT || !g_config_valid[isa]) return NULL;
  return &g_configs[isa];
}

const spw_kernel_config* spw_get_kernel_config(void) {
  pthread_once(&g_once, init_configs);
  return &g_configs[g_selected];
}

const char* spw_isa_name(void) { return spw_isa_label(spw_get_kernel_config()->isa); }

const char* spw_kernel_name(spw_kernel_op op) {
  if ((unsigned)op >= SPW_KERNEL_OP_COUNT) return NULL;
  const spw_kernel_info* entry = spw_get_kernel_config()->entries[op];
  return entry != NULL ? entry->name : NULL;
}

// MARK: - Dispatching entry points

uint32_t spw_crc32c_update(uint32_t crc, const void* data, size_t length) {
  return ~spw_get_kernel_config()->crc32c(~crc, (const uint8_t*)data, length);
}

uint32_t spw_crc32c(const void* data, size_t length) { return spw_crc32c_update(0, data, length); }

void spw_f32_dwconv(
    const spw_f32_dwconv_params* params, const float* input, const float* weights, const float* bias,
    float* output) {
  spw_get_kernel_config()->f32_dwconv(params, input, weights, bias, output);
}

void spw_f32_im2col(const spw_f32_im2col_params* params, const float* input, float* columns) {
  spw_get_kernel_config()->f32_im2col(params, input, columns);
}

void spw_f32_bias_act(const spw_f32_bias_act_params* params, const float* bias, float* data) {
  spw_get_kernel_config()->f32_bias_act(params, bias, data);
}

void spw_f32_maxpool(const spw_f32_pool_params* params, const float* input, float* output) {
  spw_get_kernel_config()->f32_maxpool(params, input, output);
}

void spw_f32_avgpool(const spw_f32_pool_params* params, const float* input, float* output) {
  spw_get_kernel_config()->f32_avgpool(params, input, output);
}

void spw_f32_gavgpool(const spw_f32_gavgpool_params* params, const float* input, float* output) {
  spw_get_kernel_config()->f32_gavgpool(params, input, output);
}

void spw_f32_spmm(
    const spw_f32_spmm_params* params, const float* input, const uint32_t* row_pointers, const uint32_t* offsets,
    const float* values, const float* bias, float* output) {
  spw_get_kernel_config()->f32_spmm(params, input, row_pointers, offsets, values, bias, output);
}

void spw_qs8_gemm(
    const spw_qs8_gemm_params* params, const uint8_t* input, const void* packed_weights, const void* bias,
    const float* scales, void* output) {
  spw_get_kernel_config()->qs8_gemm(params, input, packed_weights, bias, scales, output);
}

void spw_f32_qu8_cvt(const spw_qu8_cvt_params* params, const float* input, uint8_t* output) {
  spw_get_kernel_config()->f32_qu8_cvt(params, input, output);
}

void spw_qu8_f32_cvt(const spw_qu8_cvt_params* params, const uint8_t* input, float* output) {
  spw_get_kernel_config()->qu8_f32_cvt(params, input, output);
}

void spw_qu8_add(const spw_qu8_add_params* params, const uint8_t* a, const uint8_t* b, uint8_t* output) {
  spw_get_kernel_config()->qu8_add(params, a, b, output);
}

void spw_qu8_maxpool(const spw_qu8_maxpool_params* params, const uint8_t* input, uint8_t* output) {
  spw_get_kernel_config()->qu8_maxpool(params, input, output);
}

void spw_qu8_gavgpool(const spw_qu8_gavgpool_params* params, const uint8_t* input, uint8_t* output) {
  spw_get_kernel_config()->qu8_gavgpool(params, input, output);
}

void spw_qu8_dwconv(
    const spw_qu8_dwconv_params* params, const uint8_t* input, const int8_t* weights, const int32_t* bias,
    const float* scales, uint8_t* output) {
  spw_get_kernel_config()->qu8_dwconv(params, input, weights, bias, scales, output);
}
