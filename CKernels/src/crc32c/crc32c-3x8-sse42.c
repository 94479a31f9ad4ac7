// CRC-32C with the SSE4.2 crc32 instruction, three independent streams.
//
// crc32 r64 has a latency of 3 cycles and a throughput of 1 per cycle, so one dependent chain runs at a third of
// the peak. Large buffers are cut into chunks of three blocks of `n` bytes whose CRCs are computed side by side
// (blocks 2 and 3 from a zero register) and then combined: crc(A ++ B ++ C) = A * x^(16n) ^ B * x^(8n) ^ C mod P.
// The shift by x^(8n) is a carry-less multiply by the constant K(n) = x^(8n-33) mod P followed by crc32 of the
// 64-bit product, which multiplies by x^33 more and reduces mod P (the product of two bit-reflected 32-bit values
// is itself shifted by one bit, hence 33 and not 32).
#include "../kernels.h"

#if SPW_ARCH_X86
#include <immintrin.h>
#include <string.h>

SPW_TARGET_BEGIN_SSE42_PCLMUL

static inline uint64_t load_u64(const uint8_t* p) {
  uint64_t word;
  memcpy(&word, p, sizeof(word));
  return word;
}

// state * x^(8n) mod P for the constant k = K(n).
static inline uint32_t shift_crc(uint32_t state, uint32_t k) {
  const __m128i product = _mm_clmulepi64_si128(_mm_cvtsi32_si128((int)state), _mm_cvtsi32_si128((int)k), 0x00);
  return (uint32_t)_mm_crc32_u64(0, (uint64_t)_mm_cvtsi128_si64(product));
}

// Consumes 3 * block bytes; k1 = K(block), k2 = K(2 * block).
SPW_INLINE uint32_t crc_3way(uint32_t state, const uint8_t* p, size_t block, uint32_t k1, uint32_t k2) {
  uint64_t c0 = state, c1 = 0, c2 = 0;
  const uint8_t* p1 = p + block;
  const uint8_t* p2 = p + 2 * block;
  for (size_t i = 0; i < block; i += 8) {
    c0 = _mm_crc32_u64(c0, load_u64(p + i));
    c1 = _mm_crc32_u64(c1, load_u64(p1 + i));
    c2 = _mm_crc32_u64(c2, load_u64(p2 + i));
  }
  return shift_crc((uint32_t)c0, k2) ^ shift_crc((uint32_t)c1, k1) ^ (uint32_t)c2;
}

uint32_t spw_u8_crc32c_ukernel_3x8__sse42(uint32_t state, const uint8_t* data, size_t length) {
  uint32_t crc = state;
  while (length != 0 && ((uintptr_t)data & 7) != 0) {
    crc = _mm_crc32_u8(crc, *data++);
    length--;
  }
  // K(n) = x^(8n-33) mod P, bit-reflected (see the file comment).
  for (; length >= 3 * 4096; length -= 3 * 4096, data += 3 * 4096) {
    crc = crc_3way(crc, data, 4096, 0x82F89C77u, 0x54A86326u);
  }
  for (; length >= 3 * 256; length -= 3 * 256, data += 3 * 256) {
    crc = crc_3way(crc, data, 256, 0xB9E02B86u, 0xDD7E3B0Cu);
  }
  for (; length >= 3 * 64; length -= 3 * 64, data += 3 * 64) {
    crc = crc_3way(crc, data, 64, 0x9E4ADDF8u, 0x0D3B6092u);
  }
  uint64_t crc64 = crc;
  for (; length >= 8; length -= 8, data += 8) crc64 = _mm_crc32_u64(crc64, load_u64(data));
  crc = (uint32_t)crc64;
  while (length-- != 0) crc = _mm_crc32_u8(crc, *data++);
  return crc;
}

SPW_TARGET_END

#endif  // SPW_ARCH_X86
