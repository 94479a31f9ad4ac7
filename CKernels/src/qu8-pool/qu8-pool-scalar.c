// uint8 pooling references: max pool and global average pool, one output at a time.
#include "../qu8.h"

SPW_SCALAR_REFERENCE_FILE

void spw_qu8_maxpool_ukernel_1x1__scalar(const spw_qu8_maxpool_params* p, const uint8_t* input, uint8_t* output) {
  SPW_DEBUG_ASSERT(p->c_begin <= p->c_end && p->c_end <= p->channels);
  SPW_DEBUG_ASSERT(p->stride_h > 0 && p->stride_w > 0 && p->dilation_h > 0 && p->dilation_w > 0);
  const ptrdiff_t ih = (ptrdiff_t)p->input_height, iw = (ptrdiff_t)p->input_width;
  const ptrdiff_t oh = (ptrdiff_t)p->output_height, ow = (ptrdiff_t)p->output_width;
  for (size_t c = p->c_begin; c < p->c_end; c++) {
    const uint8_t* in = input + c * (size_t)(ih * iw);
    uint8_t* out = output + c * (size_t)(oh * ow);
    for (ptrdiff_t oy = 0; oy < oh; oy++) {
      for (ptrdiff_t ox = 0; ox < ow; ox++) {
        uint8_t m = 0;  // the smallest value: a window without taps gives 0
        for (ptrdiff_t ky = 0; ky < (ptrdiff_t)p->kernel_height; ky++) {
          const ptrdiff_t iy = oy * (ptrdiff_t)p->stride_h - (ptrdiff_t)p->pad_top + ky * (ptrdiff_t)p->dilation_h;
          if (iy < 0 || iy >= ih) continue;
          for (ptrdiff_t kx = 0; kx < (ptrdiff_t)p->kernel_width; kx++) {
            const ptrdiff_t ix =
                ox * (ptrdiff_t)p->stride_w - (ptrdiff_t)p->pad_left + kx * (ptrdiff_t)p->dilation_w;
            if (ix < 0 || ix >= iw) continue;
            const uint8_t v = in[iy * iw + ix];
            if (v > m) m = v;
          }
        }
        out[oy * ow + ox] = m;
      }
    }
  }
}

void spw_qu8_gavgpool_ukernel_1x1__scalar(const spw_qu8_gavgpool_params* p, const uint8_t* input, uint8_t* output) {
  SPW_DEBUG_ASSERT(p->c_begin <= p->c_end && p->c_end <= p->channels);
  const spw_qu8_bounds bounds = spw_qu8_make_bounds(p->output_zero_point, p->output_min, p->output_max);
  const size_t n = p->spatial_size;
  for (size_t c = p->c_begin; c < p->c_end; c++) {
    const uint8_t* in = input + c * n;
    int32_t acc = 0;
    for (size_t i = 0; i < n; i++) acc = spw_wrap_add_s32(acc, (int32_t)in[i] - (int32_t)p->input_zero_point);
    output[c] = spw_qu8_requantize(acc, p->multiplier, bounds);
  }
}
