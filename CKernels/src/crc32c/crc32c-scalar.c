// CRC-32C reference: slice-by-8 over a little-endian 64-bit word, bytes at the ends.
#include <string.h>

#include "../kernels.h"
#include "crc32c-table.h"

static inline uint64_t load_le64(const uint8_t* p) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  uint64_t word;
  memcpy(&word, p, sizeof(word));
  return word;
#else
  uint64_t word = 0;
  for (int i = 7; i >= 0; i--) word = (word << 8) | p[i];
  return word;
#endif
}

uint32_t spw_u8_crc32c_ukernel_1x8__scalar(uint32_t state, const uint8_t* data, size_t length) {
  const uint32_t(*t)[256] = k_crc32c_table;
  uint32_t crc = state;
  while (length != 0 && ((uintptr_t)data & 7) != 0) {
    crc = (crc >> 8) ^ t[0][(crc ^ *data++) & 0xFF];
    length--;
  }
  for (; length >= 8; length -= 8, data += 8) {
    const uint64_t word = load_le64(data) ^ crc;
    crc = t[7][word & 0xFF] ^ t[6][(word >> 8) & 0xFF] ^ t[5][(word >> 16) & 0xFF] ^ t[4][(word >> 24) & 0xFF] ^
          t[3][(word >> 32) & 0xFF] ^ t[2][(word >> 40) & 0xFF] ^ t[1][(word >> 48) & 0xFF] ^ t[0][word >> 56];
  }
  while (length-- != 0) crc = (crc >> 8) ^ t[0][(crc ^ *data++) & 0xFF];
  return crc;
}
