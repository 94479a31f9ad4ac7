// Global average pooling of uint8, AVX2: per channel, vpsadbw against zero sums 32 bytes into four 64-bit lanes
// (exact), two accumulators, a partial load for the tail; the zero point is taken off once, n * zero_point, in
// wrapping int32 like the reference's running sum; the channel's requantization is the reference's own (qu8.h).
#include "../kernels.h"
#include "../qu8.h"

#if SPW_ARCH_X86
#include <immintrin.h>

SPW_TARGET_BEGIN_AVX2

#include "../x86-avx2-qu8.h"

void spw_qu8_gavgpool_ukernel_1x32__avx2(const spw_qu8_gavgpool_params* p, const uint8_t* input, uint8_t* output) {
  SPW_DEBUG_ASSERT(p->c_begin <= p->c_end && p->c_end <= p->channels);
  const spw_qu8_bounds bounds = spw_qu8_make_bounds(p->output_zero_point, p->output_min, p->output_max);
  const size_t n = p->spatial_size;
  const __m256i zero = _mm256_setzero_si256();
  const int32_t correction = spw_wrap_mul_s32((int32_t)(uint32_t)n, -(int32_t)p->input_zero_point);
  for (size_t c = p->c_begin; c < p->c_end; c++) {
    const uint8_t* in = input + c * n;
    __m256i s0 = zero, s1 = zero;
    __m128i t = _mm_setzero_si128();
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
      s0 = _mm256_add_epi64(s0, _mm256_sad_epu8(_mm256_loadu_si256((const __m256i*)(in + i)), zero));
      s1 = _mm256_add_epi64(s1, _mm256_sad_epu8(_mm256_loadu_si256((const __m256i*)(in + i + 32)), zero));
    }
    for (; i + 16 <= n; i += 16) {
      t = _mm_add_epi64(t, _mm_sad_epu8(_mm_loadu_si128((const __m128i*)(in + i)), _mm_setzero_si128()));
    }
    if (i < n) t = _mm_add_epi64(t, _mm_sad_epu8(spw_load_u8_partial(in + i, n - i), _mm_setzero_si128()));
    const __m256i s = _mm256_add_epi64(s0, s1);
    __m128i h = _mm_add_epi64(_mm_add_epi64(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1)), t);
    h = _mm_add_epi64(h, _mm_unpackhi_epi64(h, h));
    const int32_t sum = (int32_t)(uint32_t)_mm_cvtsi128_si64(h);  // modulo 2^32, as the reference's
    output[c] = spw_qu8_requantize(spw_wrap_add_s32(sum, correction), p->multiplier, bounds);
  }
}

SPW_TARGET_END

#endif  // SPW_ARCH_X86
