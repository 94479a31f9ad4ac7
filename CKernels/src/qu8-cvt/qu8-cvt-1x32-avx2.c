// Quantize and dequantize, AVX2: 32 elements per step, the reference's fp32 operations lane by lane (vdivps for
// the quantization, as the reference divides: a multiplication by 1/scale would round differently). The tail loads
// with vmaskmovps or partial byte loads and stores with partial stores, so nothing past `count` is touched.
#include "../kernels.h"
#include "../qu8.h"

#if SPW_ARCH_X86
#include <immintrin.h>

SPW_TARGET_BEGIN_AVX2

#include "../x86-avx2.h"
#include "../x86-avx2-qu8.h"

void spw_f32_qu8_cvt_ukernel_1x32__avx2(const spw_qu8_cvt_params* p, const float* input, uint8_t* output) {
  const spw_avx2_qu8_bounds bounds = spw_avx2_qu8_broadcast_bounds(spw_qu8_make_bounds(p->zero_point, 0, 255));
  const __m256 scale = _mm256_set1_ps(p->scale);
  const size_t n = p->count;
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m256i q0 = spw_avx2_qu8_clamp_round(_mm256_div_ps(_mm256_loadu_ps(input + i), scale), &bounds);
    const __m256i q1 = spw_avx2_qu8_clamp_round(_mm256_div_ps(_mm256_loadu_ps(input + i + 8), scale), &bounds);
    const __m256i q2 = spw_avx2_qu8_clamp_round(_mm256_div_ps(_mm256_loadu_ps(input + i + 16), scale), &bounds);
    const __m256i q3 = spw_avx2_qu8_clamp_round(_mm256_div_ps(_mm256_loadu_ps(input + i + 24), scale), &bounds);
    _mm256_storeu_si256((__m256i*)(output + i), spw_avx2_pack_u8x32(q0, q1, q2, q3));
  }
  for (; i < n; i += 8) {
    const size_t m = spw_min_size(8, n - i);
    const __m256i mask = spw_avx2_lane_mask(0, spw_avx2_iota(), (ptrdiff_t)m);
    const __m256i q = spw_avx2_qu8_clamp_round(_mm256_div_ps(_mm256_maskload_ps(input + i, mask), scale), &bounds);
    spw_store_u8_partial(output + i, spw_avx2_pack_u8x8(q), m);
  }
}

void spw_qu8_f32_cvt_ukernel_1x32__avx2(const spw_qu8_cvt_params* p, const uint8_t* input, float* output) {
  const __m256i zero_point = _mm256_set1_epi32(p->zero_point);
  const __m256 scale = _mm256_set1_ps(p->scale);
  const size_t n = p->count;
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m128i lo = _mm_loadu_si128((const __m128i*)(input + i));
    const __m128i hi = _mm_loadu_si128((const __m128i*)(input + i + 16));
    const __m128i parts[4] = {lo, _mm_srli_si128(lo, 8), hi, _mm_srli_si128(hi, 8)};
    for (int j = 0; j < 4; j++) {
      const __m256i q = _mm256_sub_epi32(_mm256_cvtepu8_epi32(parts[j]), zero_point);
      _mm256_storeu_ps(output + i + 8 * j, _mm256_mul_ps(_mm256_cvtepi32_ps(q), scale));
    }
  }
  for (; i < n; i += 8) {
    const size_t m = spw_min_size(8, n - i);
    const __m128i bytes = m == 8 ? _mm_loadl_epi64((const __m128i*)(input + i)) : spw_load_u8_partial(input + i, m);
    const __m256i q = _mm256_sub_epi32(_mm256_cvtepu8_epi32(bytes), zero_point);
    spw_avx2_store(output + i, _mm256_mul_ps(_mm256_cvtepi32_ps(q), scale), (ptrdiff_t)m, (ptrdiff_t)m);
  }
}

SPW_TARGET_END

#endif  // SPW_ARCH_X86
