// CRC-32C with the ARMv8 CRC32 extension (crc32cx), one stream of 8-byte words.
#include "../kernels.h"

#if SPW_ARCH_ARM64
#include <arm_acle.h>
#include <string.h>

#if defined(__clang__)
  #define SPW_TARGET_ARMCRC __attribute__((target("crc")))
#else
  #define SPW_TARGET_ARMCRC __attribute__((target("+crc")))
#endif

SPW_TARGET_ARMCRC
uint32_t spw_u8_crc32c_ukernel_1x8__armcrc(uint32_t state, const uint8_t* data, size_t length) {
  uint32_t crc = state;
  while (length != 0 && ((uintptr_t)data & 7) != 0) {
    crc = __crc32cb(crc, *data++);
    length--;
  }
  for (; length >= 32; length -= 32, data += 32) {
    uint64_t w0, w1, w2, w3;
    memcpy(&w0, data, 8);
    memcpy(&w1, data + 8, 8);
    memcpy(&w2, data + 16, 8);
    memcpy(&w3, data + 24, 8);
    crc = __crc32cd(crc, w0);
    crc = __crc32cd(crc, w1);
    crc = __crc32cd(crc, w2);
    crc = __crc32cd(crc, w3);
  }
  for (; length >= 8; length -= 8, data += 8) {
    uint64_t w;
    memcpy(&w, data, 8);
    crc = __crc32cd(crc, w);
  }
  while (length-- != 0) crc = __crc32cb(crc, *data++);
  return crc;
}

#endif  // SPW_ARCH_ARM64
