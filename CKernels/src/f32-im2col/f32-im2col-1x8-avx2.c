// im2col, AVX2: the scalar algorithm (zero fills, memcpy runs for stride 1) with a vector copy for stride 2, where
// the scalar strided loop is the bottleneck (3.8 GB/s written on the 7x7/2 ResNet stem, Zen 3): 16 consecutive
// inputs are split into their even elements with one shufps and one permute, 8 outputs per step.
#include <string.h>

#include "../kernels.h"

#if SPW_ARCH_X86
#include <immintrin.h>

SPW_TARGET_BEGIN_AVX2

// dst[ox] = row[ix0 + 2 * ox] for ox in [ox_begin, ox_end); loads stay inside [0, iw).
static void copy_stride2(float* dst, const float* row, ptrdiff_t ix0, ptrdiff_t ox_begin, ptrdiff_t ox_end,
                         ptrdiff_t iw) {
  ptrdiff_t ox = ox_begin;
  for (; ox + 8 <= ox_end && ix0 + 2 * ox + 16 <= iw; ox += 8) {
    const float* src = row + ix0 + 2 * ox;
    const __m256 even = _mm256_shuffle_ps(_mm256_loadu_ps(src), _mm256_loadu_ps(src + 8), _MM_SHUFFLE(2, 0, 2, 0));
    _mm256_storeu_ps(dst + ox, _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(even), _MM_SHUFFLE(3, 1, 2, 0))));
  }
  for (; ox < ox_end; ox++) dst[ox] = row[ix0 + 2 * ox];
}

void spw_f32_im2col_ukernel_1x8__avx2(const spw_f32_im2col_params* p, const float* input, float* columns) {
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
          } else if (sw == 2) {
            copy_stride2(dst, row, ix0, ox_begin, ox_end, iw);
          } else {
            for (ptrdiff_t ox = ox_begin; ox < ox_end; ox++) dst[ox] = row[ix0 + ox * sw];
          }
          if (ox_end < ow) memset(dst + ox_end, 0, (size_t)(ow - ox_end) * sizeof(float));
        }
      }
    }
  }
}

SPW_TARGET_END

#endif  // SPW_ARCH_X86
