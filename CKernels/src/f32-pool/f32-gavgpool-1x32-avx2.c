// Global average pooling, AVX2: four 8-lane partial sums per channel, a masked tail, one horizontal sum.
#include "../kernels.h"

#if SPW_ARCH_X86
#include <immintrin.h>

SPW_TARGET_BEGIN_AVX2

void spw_f32_gavgpool_ukernel_1x32__avx2(const spw_f32_gavgpool_params* p, const float* input, float* output) {
  SPW_DEBUG_ASSERT(p->c_begin <= p->c_end && p->c_end <= p->channels);
  const size_t n = p->spatial_size;
  const __m256i tail_mask =
      _mm256_cmpgt_epi32(_mm256_set1_epi32((int32_t)(n & 7)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  for (size_t c = p->c_begin; c < p->c_end; c++) {
    const float* in = input + c * n;
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps(), s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
      s0 = _mm256_add_ps(s0, _mm256_loadu_ps(in + i));
      s1 = _mm256_add_ps(s1, _mm256_loadu_ps(in + i + 8));
      s2 = _mm256_add_ps(s2, _mm256_loadu_ps(in + i + 16));
      s3 = _mm256_add_ps(s3, _mm256_loadu_ps(in + i + 24));
    }
    for (; i + 8 <= n; i += 8) s0 = _mm256_add_ps(s0, _mm256_loadu_ps(in + i));
    if (i < n) s1 = _mm256_add_ps(s1, _mm256_maskload_ps(in + i, tail_mask));
    const __m256 s = _mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3));
    __m128 h = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
    h = _mm_add_ps(h, _mm_movehl_ps(h, h));
    h = _mm_add_ss(h, _mm_movehdup_ps(h));
    output[c] = n > 0 ? _mm_cvtss_f32(h) / (float)n : 0.0f;
  }
}

SPW_TARGET_END

#endif  // SPW_ARCH_X86
