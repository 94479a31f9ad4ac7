// Pooling references: max pool, average pool and global average pool, one output at a time.
#include <math.h>

#include "../kernels.h"

SPW_SCALAR_REFERENCE_FILE

void spw_f32_maxpool_ukernel_1x1__scalar(const spw_f32_pool_params* p, const float* input, float* output) {
  SPW_DEBUG_ASSERT(p->c_begin <= p->c_end && p->c_end <= p->channels);
  SPW_DEBUG_ASSERT(p->stride_h > 0 && p->stride_w > 0 && p->dilation_h > 0 && p->dilation_w > 0);
  const ptrdiff_t ih = (ptrdiff_t)p->input_height, iw = (ptrdiff_t)p->input_width;
  const ptrdiff_t oh = (ptrdiff_t)p->output_height, ow = (ptrdiff_t)p->output_width;
  for (size_t c = p->c_begin; c < p->c_end; c++) {
    const float* in = input + c * (size_t)(ih * iw);
    float* out = output + c * (size_t)(oh * ow);
    for (ptrdiff_t oy = 0; oy < oh; oy++) {
      for (ptrdiff_t ox = 0; ox < ow; ox++) {
        float m = -INFINITY;
        for (ptrdiff_t ky = 0; ky < (ptrdiff_t)p->kernel_height; ky++) {
          const ptrdiff_t iy = oy * (ptrdiff_t)p->stride_h - (ptrdiff_t)p->pad_top + ky * (ptrdiff_t)p->dilation_h;
          if (iy < 0 || iy >= ih) continue;
          for (ptrdiff_t kx = 0; kx < (ptrdiff_t)p->kernel_width; kx++) {
            const ptrdiff_t ix =
                ox * (ptrdiff_t)p->stride_w - (ptrdiff_t)p->pad_left + kx * (ptrdiff_t)p->dilation_w;
            if (ix < 0 || ix >= iw) continue;
            const float v = in[iy * iw + ix];
            if (v > m) m = v;  // a NaN input is skipped, like max_ps(v, m)
          }
        }
        out[oy * ow + ox] = m;
      }
    }
  }
}

// Number of taps k in [0, taps) with base + k * dilation in [lo, hi).
static ptrdiff_t tap_count(ptrdiff_t base, ptrdiff_t dilation, ptrdiff_t taps, ptrdiff_t lo, ptrdiff_t hi) {
  ptrdiff_t begin, end;
  spw_tap_range(base, dilation, taps, lo, hi, &begin, &end);
  return end - begin;
}

void spw_f32_avgpool_ukernel_1x1__scalar(const spw_f32_pool_params* p, const float* input, float* output) {
  SPW_DEBUG_ASSERT(p->c_begin <= p->c_end && p->c_end <= p->channels);
  SPW_DEBUG_ASSERT(p->stride_h > 0 && p->stride_w > 0 && p->dilation_h > 0 && p->dilation_w > 0);
  const ptrdiff_t ih = (ptrdiff_t)p->input_height, iw = (ptrdiff_t)p->input_width;
  const ptrdiff_t oh = (ptrdiff_t)p->output_height, ow = (ptrdiff_t)p->output_width;
  const ptrdiff_t kh = (ptrdiff_t)p->kernel_height, kw = (ptrdiff_t)p->kernel_width;
  const ptrdiff_t dh = (ptrdiff_t)p->dilation_h, dw = (ptrdiff_t)p->dilation_w;
  const ptrdiff_t pt = (ptrdiff_t)p->pad_top, pl = (ptrdiff_t)p->pad_left;
  // The divisor counts taps inside the input, or inside the padded input for count_include_pad.
  const ptrdiff_t y_lo = p->count_include_pad ? -pt : 0;
  const ptrdiff_t y_hi = p->count_include_pad ? ih + (ptrdiff_t)p->pad_bottom : ih;
  const ptrdiff_t x_lo = p->count_include_pad ? -pl : 0;
  const ptrdiff_t x_hi = p->count_include_pad ? iw + (ptrdiff_t)p->pad_right : iw;
  for (size_t c = p->c_begin; c < p->c_end; c++) {
    const float* in = input + c * (size_t)(ih * iw);
    float* out = output + c * (size_t)(oh * ow);
    for (ptrdiff_t oy = 0; oy < oh; oy++) {
      const ptrdiff_t iy0 = oy * (ptrdiff_t)p->stride_h - pt;
      const ptrdiff_t rows = tap_count(iy0, dh, kh, y_lo, y_hi);
      for (ptrdiff_t ox = 0; ox < ow; ox++) {
        const ptrdiff_t ix0 = ox * (ptrdiff_t)p->stride_w - pl;
        float sum = 0.0f;
        for (ptrdiff_t ky = 0; ky < kh; ky++) {
          const ptrdiff_t iy = iy0 + ky * dh;
          if (iy < 0 || iy >= ih) continue;
          for (ptrdiff_t kx = 0; kx < kw; kx++) {
            const ptrdiff_t ix = ix0 + kx * dw;
            if (ix < 0 || ix >= iw) continue;
            sum += in[iy * iw + ix];
          }
        }
        const ptrdiff_t count = rows * tap_count(ix0, dw, kw, x_lo, x_hi);
        out[oy * ow + ox] = count > 0 ? sum / (float)count : 0.0f;
      }
    }
  }
}

void spw_f32_gavgpool_ukernel_1x1__scalar(const spw_f32_gavgpool_params* p, const float* input, float* output) {
  SPW_DEBUG_ASSERT(p->c_begin <= p->c_end && p->c_end <= p->channels);
  const size_t n = p->spatial_size;
  for (size_t c = p->c_begin; c < p->c_end; c++) {
    const float* in = input + c * n;
    float sum = 0.0f;
    for (size_t i = 0; i < n; i++) sum += in[i];
    output[c] = n > 0 ? sum / (float)n : 0.0f;
  }
}
