// GEMM epilogue, AVX2: 32 columns per step, then 8, then a tail from a masked load and partial stores (rows may
// be strided, so no spill-over; a vmaskmovps store would cost ~40 cycles per row on Zen 3).
#include "../kernels.h"

#if SPW_ARCH_X86
#include <immintrin.h>

SPW_TARGET_BEGIN_AVX2

#include "../x86-avx2.h"

SPW_INLINE __m256 bias_act(__m256 y, __m256 vb, __m256 vmin, __m256 vmax) {
  return _mm256_min_ps(vmax, _mm256_max_ps(vmin, _mm256_add_ps(y, vb)));
}

SPW_INLINE __m256 bias_res_act(__m256 y, __m256 vb, __m256 res, __m256 vmin, __m256 vmax) {
  return _mm256_min_ps(vmax, _mm256_max_ps(vmin, _mm256_add_ps(_mm256_add_ps(y, vb), res)));
}

// With a residual: one vector at a time (the residual stream makes it memory-bound anyway).
static void bias_res_act_rows(const spw_f32_bias_act_params* p, const float* bias, float* data, __m256 vmin,
                              __m256 vmax, __m256i tail_mask) {
  const size_t cols = p->cols;
  for (size_t r = 0; r < p->rows; r++) {
    const __m256 vb = _mm256_set1_ps(bias != NULL ? bias[r] : 0.0f);
    float* y = data + r * p->row_stride;
    const float* res = p->residual + r * p->residual_stride;
    size_t c = 0;
    for (; c + 8 <= cols; c += 8) {
      _mm256_storeu_ps(y + c, bias_res_act(_mm256_loadu_ps(y + c), vb, _mm256_loadu_ps(res + c), vmin, vmax));
    }
    if (c < cols) {
      const __m256 tail = bias_res_act(_mm256_maskload_ps(y + c, tail_mask), vb, _mm256_maskload_ps(res + c, tail_mask),
                                       vmin, vmax);
      spw_avx2_store_partial(y + c, tail, (ptrdiff_t)(cols - c));
    }
  }
}

void spw_f32_bias_act_ukernel_1x32__avx2(const spw_f32_bias_act_params* p, const float* bias, float* data) {
  SPW_DEBUG_ASSERT(p->rows == 0 || p->row_stride >= p->cols);
  const __m256 vmin = _mm256_set1_ps(p->output_min), vmax = _mm256_set1_ps(p->output_max);
  const size_t cols = p->cols;
  const __m256i tail_mask =
      _mm256_cmpgt_epi32(_mm256_set1_epi32((int32_t)(cols & 7)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  if (p->residual != NULL) {
    bias_res_act_rows(p, bias, data, vmin, vmax, tail_mask);
    return;
  }
  for (size_t r = 0; r < p->rows; r++) {
    const __m256 vb = _mm256_set1_ps(bias != NULL ? bias[r] : 0.0f);
    float* y = data + r * p->row_stride;
    size_t c = 0;
    for (; c + 32 <= cols; c += 32) {
      const __m256 y0 = bias_act(_mm256_loadu_ps(y + c), vb, vmin, vmax);
      const __m256 y1 = bias_act(_mm256_loadu_ps(y + c + 8), vb, vmin, vmax);
      const __m256 y2 = bias_act(_mm256_loadu_ps(y + c + 16), vb, vmin, vmax);
      const __m256 y3 = bias_act(_mm256_loadu_ps(y + c + 24), vb, vmin, vmax);
      _mm256_storeu_ps(y + c, y0);
      _mm256_storeu_ps(y + c + 8, y1);
      _mm256_storeu_ps(y + c + 16, y2);
      _mm256_storeu_ps(y + c + 24, y3);
    }
    for (; c + 8 <= cols; c += 8) _mm256_storeu_ps(y + c, bias_act(_mm256_loadu_ps(y + c), vb, vmin, vmax));
    if (c < cols) {
      const __m256 tail = bias_act(_mm256_maskload_ps(y + c, tail_mask), vb, vmin, vmax);
      spw_avx2_store_partial(y + c, tail, (ptrdiff_t)(cols - c));
    }
  }
}

SPW_TARGET_END

#endif  // SPW_ARCH_X86
