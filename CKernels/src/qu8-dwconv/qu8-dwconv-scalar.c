// uint8 depthwise convolution reference: one output at a time, in-bounds taps only (a padding tap reads the zero
// point and adds 0), sums in wrapping int32, the shared requantization.
#include "../qu8.h"

SPW_SCALAR_REFERENCE_FILE

void spw_qu8_dwconv_ukernel_1x1__scalar(
    const spw_qu8_dwconv_params* p, const uint8_t* input, const int8_t* weights, const int32_t* bias,
    const float* scales, uint8_t* output) {
  SPW_DEBUG_ASSERT(p->c_begin <= p->c_end && p->c_end <= p->channels);
  SPW_DEBUG_ASSERT(p->stride_h > 0 && p->stride_w > 0 && p->dilation_h > 0 && p->dilation_w > 0);
  const ptrdiff_t ih = (ptrdiff_t)p->input_height, iw = (ptrdiff_t)p->input_width;
  const ptrdiff_t oh = (ptrdiff_t)p->output_height, ow = (ptrdiff_t)p->output_width;
  const ptrdiff_t kh = (ptrdiff_t)p->kernel_height, kw = (ptrdiff_t)p->kernel_width;
  const ptrdiff_t sh = (ptrdiff_t)p->stride_h, sw = (ptrdiff_t)p->stride_w;
  const ptrdiff_t dh = (ptrdiff_t)p->dilation_h, dw = (ptrdiff_t)p->dilation_w;
  const ptrdiff_t pt = (ptrdiff_t)p->pad_top, pl = (ptrdiff_t)p->pad_left;
  const int32_t zero_point = p->input_zero_point;
  const spw_qu8_bounds bounds = spw_qu8_make_bounds(p->output_zero_point, p->output_min, p->output_max);
  for (size_t c = p->c_begin; c < p->c_end; c++) {
    const uint8_t* in = input + c * (size_t)(ih * iw);
    const int8_t* w = weights + c * (size_t)(kh * kw);
    uint8_t* out = output + c * (size_t)(oh * ow);
    for (ptrdiff_t oy = 0; oy < oh; oy++) {
      for (ptrdiff_t ox = 0; ox < ow; ox++) {
        int32_t acc = bias != NULL ? bias[c] : 0;
        for (ptrdiff_t ky = 0; ky < kh; ky++) {
          const ptrdiff_t iy = oy * sh - pt + ky * dh;
          if (iy < 0 || iy >= ih) continue;
          for (ptrdiff_t kx = 0; kx < kw; kx++) {
            const ptrdiff_t ix = ox * sw - pl + kx * dw;
            if (ix < 0 || ix >= iw) continue;
            acc = spw_wrap_add_s32(acc, (int32_t)w[ky * kw + kx] * ((int32_t)in[iy * iw + ix] - zero_point));
          }
        }
        out[oy * ow + ox] = spw_qu8_requantize(acc, scales[c], bounds);
      }
    }
  }
}
