// im2col for NCHW convolutions: one column-matrix row per (channel, ky, kx), built from contiguous copies and
// zero fills (stride 1 rows are memcpy runs; other strides a strided copy loop).
#include <string.h>

#include "../kernels.h"

void spw_f32_im2col_ukernel_1x1__scalar(const spw_f32_im2col_params* p, const float* input, float* columns) {
  SPW_DEBUG_ASSERT(p->c_begin <= p->c_end && p->c_end <= p->group_channels);
  SPW_DEBUG_ASSERT(p->channel_offset + p->group_channels <= p->input_channels);
  SPW_DEBUG_ASSERT(p->oy_begin <= p->oy_end && p->oy_end <= p->output_height);
  SPW_DEBUG_ASSERT(p->stride_h > 0 && p->stride_w > 0 && p->dilation_h > 0 && p->dilation_w > 0);
  const ptrdiff_t ih = (ptrdiff_t)p->input_height, iw = (ptrdiff_t)p->input_width;
  const ptrdiff_t ow = (ptrdiff_t)p->output_width;
  const ptrdiff_t kh = (ptrdiff_t)p->kernel_height, kw = (ptrdiff_t)p->kernel_width;
  const ptrdiff_t sh = (ptrdiff_t)p->stride_h, sw = (ptrdiff_t)p->stride_w;
  const ptrdiff_t dh = (ptrdiff_t)p->dilation_h, dw = (ptrdiff_t)p->dilation_w;
  const ptrdiff_t pt = (ptrdiff_t)p->pad_top, pl = (ptrdiff_t)p->pad_left;
  const ptrdiff_t oy_begin = (ptrdiff_t)p->oy_begin, oy_end = (ptrdiff_t)p->oy_end;
  const size_t ld = (size_t)((oy_end - oy_begin) * ow);
  for (size_t c = p->c_begin; c < p->c_end; c++) {
    const float* in = input + (p->channel_offset + c) * (size_t)(ih * iw);
    for (ptrdiff_t ky = 0; ky < kh; ky++) {
      for (ptrdiff_t kx = 0; kx < kw; kx++) {
        float* dst = columns + ((c * (size_t)kh + (size_t)ky) * (size_t)kw + (size_t)kx) * ld;
        // Output columns [ox_begin, ox_end) read inside the input row.
        const ptrdiff_t ix0 = kx * dw - pl;
        ptrdiff_t ox_begin, ox_end;
        spw_tap_range(ix0, sw, ow, 0, iw, &ox_begin, &ox_end);
        for (ptrdiff_t oy = oy_begin; oy < oy_end; oy++, dst += ow) {
          const ptrdiff_t iy = oy * sh - pt + ky * dh;
          if (iy < 0 || iy >= ih) {
            memset(dst, 0, (size_t)ow * sizeof(float));
            continue;
          }
          const float* row = in + iy * iw;
          if (ox_begin > 0) memset(dst, 0, (size_t)ox_begin * sizeof(float));
          if (sw == 1) {
            if (ox_end > ox_begin) {
              memcpy(dst + ox_begin, row + ix0 + ox_begin, (size_t)(ox_end - ox_begin) * sizeof(float));
            }
          } else {
            for (ptrdiff_t ox = ox_begin; ox < ox_end; ox++) dst[ox] = row[ix0 + ox * sw];
          }
          if (ox_end < ow) memset(dst + ox_end, 0, (size_t)(ow - ox_end) * sizeof(float));
        }
      }
    }
  }
}
