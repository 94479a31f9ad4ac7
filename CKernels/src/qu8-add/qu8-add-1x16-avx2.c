// Quantized addition, AVX2: 16 elements per step, the reference's fp32 operations lane by lane (two mulps and an
// addps, separate intrinsics: no FMA). Each element is read before its output is written, so `output` may be `a`
// or `b`. The tail uses partial loads and stores: nothing past `count` is touched.
#include "../kernels.h"
#include "../qu8.h"

#if SPW_ARCH_X86
#include <immintrin.h>

SPW_TARGET_BEGIN_AVX2

#include "../x86-avx2-qu8.h"

typedef struct add_constants {
  __m256 a_multiplier;
  __m256 b_multiplier;
  __m256i a_zero_point;
  __m256i b_zero_point;
  spw_avx2_qu8_bounds bounds;
} add_constants;

// 8 outputs from the low 8 bytes of a and b.
SPW_INLINE __m256i add8(__m128i a, __m128i b, const add_constants* k) {
  const __m256 va = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_cvtepu8_epi32(a), k->a_zero_point)),
                                  k->a_multiplier);
  const __m256 vb = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_cvtepu8_epi32(b), k->b_zero_point)),
                                  k->b_multiplier);
  return spw_avx2_qu8_clamp_round(_mm256_add_ps(va, vb), &k->bounds);
}

void spw_qu8_add_ukernel_1x16__avx2(
    const spw_qu8_add_params* p, const uint8_t* a, const uint8_t* b, uint8_t* output) {
  const add_constants k = {
    .a_multiplier = _mm256_set1_ps(p->a_multiplier), .b_multiplier = _mm256_set1_ps(p->b_multiplier),
    .a_zero_point = _mm256_set1_epi32(p->a_zero_point), .b_zero_point = _mm256_set1_epi32(p->b_zero_point),
    .bounds = spw_avx2_qu8_broadcast_bounds(
        spw_qu8_make_bounds(p->output_zero_point, p->output_min, p->output_max)),
  };
  const size_t n = p->count;
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m128i va = _mm_loadu_si128((const __m128i*)(a + i)), vb = _mm_loadu_si128((const __m128i*)(b + i));
    const __m256i lo = add8(va, vb, &k);
    const __m256i hi = add8(_mm_srli_si128(va, 8), _mm_srli_si128(vb, 8), &k);
    _mm_storeu_si128((__m128i*)(output + i), spw_avx2_pack_u8x16(lo, hi));
  }
  if (i < n) {
    const size_t m = n - i;
    const __m128i va = spw_load_u8_partial(a + i, m), vb = spw_load_u8_partial(b + i, m);
    const __m256i lo = add8(va, vb, &k);
    const __m256i hi = add8(_mm_srli_si128(va, 8), _mm_srli_si128(vb, 8), &k);
    spw_store_u8_partial(output + i, spw_avx2_pack_u8x16(lo, hi), m);
  }
}

SPW_TARGET_END

#endif  // SPW_ARCH_X86
