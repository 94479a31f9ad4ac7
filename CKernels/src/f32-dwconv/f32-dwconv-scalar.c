// Depthwise convolution reference: one output at a time, taps in (ky, kx) order from the bias, no FMA contraction.
#include "../kernels.h"

SPW_SCALAR_REFERENCE_FILE

void spw_f32_dwconv_ukernel_1x1__scalar(
    const spw_f32_dwconv_params* p, const float* input, const float* weights, const float* bias,
    float* output) {
  SPW_DEBUG_ASSERT(p->c_begin <= p->c_end && p->c_end <= p->channels);
  SPW_DEBUG_ASSERT(p->stride_h > 0 && p->stride_w > 0 && p->dilation_h > 0 && p->dilation_w > 0);
  const ptrdiff_t ih = (ptrdiff_t)p->input_height, iw = (ptrdiff_t)p->input_width;
  const ptrdiff_t oh = (ptrdiff_t)p->output_height, ow = (ptrdiff_t)p->output_width;
  const ptrdiff_t kh = (ptrdiff_t)p->kernel_height, kw = (ptrdiff_t)p->kernel_width;
  const ptrdiff_t sh = (ptrdiff_t)p->stride_h, sw = (ptrdiff_t)p->stride_w;
  const ptrdiff_t dh = (ptrdiff_t)p->dilation_h, dw = (ptrdiff_t)p->dilation_w;
  const ptrdiff_t pt = (ptrdiff_t)p->pad_top, pl = (ptrdiff_t)p->pad_left;
  for (size_t c = p->c_begin; c < p->c_end; c++) {
    const float* in = input + c * (size_t)(ih * iw);
    const float* w = weights + c * (size_t)(kh * kw);
    float* out = output + c * (size_t)(oh * ow);
    const float b = bias != NULL ? bias[c] : 0.0f;
    for (ptrdiff_t oy = 0; oy < oh; oy++) {
      for (ptrdiff_t ox = 0; ox < ow; ox++) {
        float acc = b;
        for (ptrdiff_t ky = 0; ky < kh; ky++) {
          const ptrdiff_t iy = oy * sh - pt + ky * dh;
          if (iy < 0 || iy >= ih) continue;
          for (ptrdiff_t kx = 0; kx < kw; kx++) {
            const ptrdiff_t ix = ox * sw - pl + kx * dw;
            if (ix < 0 || ix >= iw) continue;
            acc += w[ky * kw + kx] * in[iy * iw + ix];
          }
        }
        out[oy * ow + ox] = spw_clamp_f32(acc, p->output_min, p->output_max);
      }
    }
  }
}
