// GEMM epilogue, AVX-512F: 64 columns per step, then 16, then a masked tail.
#include "../kernels.h"

#if SPW_ARCH_X86
#include <immintrin.h>

SPW_TARGET_BEGIN_AVX512F

SPW_INLINE __m512 bias_act(__m512 y, __m512 vb, __m512 vmin, __m512 vmax) {
  return _mm512_min_ps(vmax, _mm512_max_ps(vmin, _mm512_add_ps(y, vb)));
}

// With a residual: one vector at a time, (y + bias) + residual in that order.
static void bias_res_act_rows(const spw_f32_bias_act_params* p, const float* bias, float* data, __m512 vmin,
                              __m512 vmax, __mmask16 tail_mask) {
  const size_t cols = p->cols;
  for (size_t r = 0; r < p->rows; r++) {
    const __m512 vb = _mm512_set1_ps(bias != NULL ? bias[r] : 0.0f);
    float* y = data + r * p->row_stride;
    const float* res = p->residual + r * p->residual_stride;
    size_t c = 0;
    for (; c + 16 <= cols; c += 16) {
      const __m512 sum = _mm512_add_ps(_mm512_add_ps(_mm512_loadu_ps(y + c), vb), _mm512_loadu_ps(res + c));
      _mm512_storeu_ps(y + c, _mm512_min_ps(vmax, _mm512_max_ps(vmin, sum)));
    }
    if (c < cols) {
      const __m512 sum = _mm512_add_ps(_mm512_add_ps(_mm512_maskz_loadu_ps(tail_mask, y + c), vb),
                                       _mm512_maskz_loadu_ps(tail_mask, res + c));
      _mm512_mask_storeu_ps(y + c, tail_mask, _mm512_min_ps(vmax, _mm512_max_ps(vmin, sum)));
    }
  }
}

void spw_f32_bias_act_ukernel_1x64__avx512f(const spw_f32_bias_act_params* p, const float* bias, float* data) {
  SPW_DEBUG_ASSERT(p->rows == 0 || p->row_stride >= p->cols);
  const __m512 vmin = _mm512_set1_ps(p->output_min), vmax = _mm512_set1_ps(p->output_max);
  const size_t cols = p->cols;
  const __mmask16 tail_mask = (__mmask16)((1u << (cols & 15)) - 1u);
  if (p->residual != NULL) {
    bias_res_act_rows(p, bias, data, vmin, vmax, tail_mask);
    return;
  }
  for (size_t r = 0; r < p->rows; r++) {
    const __m512 vb = _mm512_set1_ps(bias != NULL ? bias[r] : 0.0f);
    float* y = data + r * p->row_stride;
    size_t c = 0;
    for (; c + 64 <= cols; c += 64) {
      const __m512 y0 = bias_act(_mm512_loadu_ps(y + c), vb, vmin, vmax);
      const __m512 y1 = bias_act(_mm512_loadu_ps(y + c + 16), vb, vmin, vmax);
      const __m512 y2 = bias_act(_mm512_loadu_ps(y + c + 32), vb, vmin, vmax);
      const __m512 y3 = bias_act(_mm512_loadu_ps(y + c + 48), vb, vmin, vmax);
      _mm512_storeu_ps(y + c, y0);
      _mm512_storeu_ps(y + c + 16, y1);
      _mm512_storeu_ps(y + c + 32, y2);
      _mm512_storeu_ps(y + c + 48, y3);
    }
    for (; c + 16 <= cols; c += 16) _mm512_storeu_ps(y + c, bias_act(_mm512_loadu_ps(y + c), vb, vmin, vmax));
    if (c < cols) {
      _mm512_mask_storeu_ps(y + c, tail_mask, bias_act(_mm512_maskz_loadu_ps(tail_mask, y + c), vb, vmin, vmax));
    }
  }
}

SPW_TARGET_END

#endif  // SPW_ARCH_X86
