// Max pooling of uint8, AVX2: 32 outputs of a row per vector, vpmaxub over the taps.
//
// Per output row, the window's input rows are first reduced to one (the column-wise maximum, over the part of the
// row inside the input) in a buffer whose padding holds 0, the identity of the maximum on uint8: a tap outside
// the input then costs nothing and needs no mask. The buffer is split by stride phase (x86-avx2-rows.h), so each
// tap of 32 outputs is one unaligned load, for any stride and dilation. Rows too wide for the stack buffers go in
// chunks of outputs; a window too wide for them even for 32 outputs (a dilation in the hundreds) takes the scalar
// reference. The maximum is exact, so the result is the reference's.
#include "../kernels.h"
#include "../qu8.h"

#if SPW_ARCH_X86
#include <immintrin.h>

SPW_TARGET_BEGIN_AVX2

#include "../x86-avx2-qu8.h"
#include "../x86-avx2-rows.h"

// dst[i] = max(dst[i], src[i]) for i < n, reading nothing past src[n - 1].
static void max_into(uint8_t* dst, const uint8_t* src, size_t n) {
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m256i m = _mm256_max_epu8(_mm256_loadu_si256((const __m256i*)(dst + i)),
                                      _mm256_loadu_si256((const __m256i*)(src + i)));
    _mm256_storeu_si256((__m256i*)(dst + i), m);
  }
  for (; i < n; i += 16) {
    const size_t m = spw_min_size(16, n - i);
    const __m128i s = m == 16 ? _mm_loadu_si128((const __m128i*)(src + i)) : spw_load_u8_partial(src + i, m);
    _mm_storeu_si128((__m128i*)(dst + i), _mm_max_epu8(_mm_loadu_si128((const __m128i*)(dst + i)), s));
  }
}

void spw_qu8_maxpool_ukernel_1x32__avx2(const spw_qu8_maxpool_params* p, const uint8_t* input, uint8_t* output) {
  SPW_DEBUG_ASSERT(p->c_begin <= p->c_end && p->c_end <= p->channels);
  SPW_DEBUG_ASSERT(p->stride_h > 0 && p->stride_w > 0 && p->dilation_h > 0 && p->dilation_w > 0);
  const ptrdiff_t ih = (ptrdiff_t)p->input_height, iw = (ptrdiff_t)p->input_width;
  const ptrdiff_t oh = (ptrdiff_t)p->output_height, ow = (ptrdiff_t)p->output_width;
  const size_t sw = p->stride_w, dw = p->dilation_w, kw = p->kernel_width;
  const size_t last_tap = (kw > 0 ? kw - 1 : 0) * dw;
  const size_t chunk = spw_row_chunk((size_t)ow, sw, last_tap);
  if (chunk == 0) {
    spw_qu8_maxpool_ukernel_1x1__scalar(p, input, output);
    return;
  }
  // The row buffer gets 32 bytes of slack: max_into may write a whole 16-byte block past the row's last column.
  uint8_t padded[SPW_ROW_BUFFER_BYTES + 32], phases[SPW_ROW_BUFFER_BYTES];
  for (size_t c = p->c_begin; c < p->c_end; c++) {
    const uint8_t* in = input + c * (size_t)(ih * iw);
    uint8_t* out = output + c * (size_t)(oh * ow);
    for (ptrdiff_t oy = 0; oy < oh; oy++) {
      ptrdiff_t ky_begin, ky_end;
      const ptrdiff_t iy0 = oy * (ptrdiff_t)p->stride_h - (ptrdiff_t)p->pad_top;
      spw_tap_range(iy0, (ptrdiff_t)p->dilation_h, (ptrdiff_t)p->kernel_height, 0, ih, &ky_begin, &ky_end);
      if (kw == 0) ky_end = ky_begin;  // no taps: every window is empty
      for (size_t ox0 = 0; ox0 < (size_t)ow; ox0 += chunk) {
        const size_t n = spw_min_size(chunk, (size_t)ow - ox0);
        const size_t length = spw_row_phase_length(n, sw, last_tap), total = sw * length;
        const ptrdiff_t base = (ptrdiff_t)(ox0 * sw) - (ptrdiff_t)p->pad_left;
        if (ky_begin == ky_end) {
          memset(padded, 0, total);
        } else {
          const uint8_t* first = in + (iy0 + ky_begin * (ptrdiff_t)p->dilation_h) * iw;
          spw_row_pad_copy(padded, first, base, iw, (ptrdiff_t)total, 0);
          ptrdiff_t lo = -base, hi = iw - base;
          lo = lo < 0 ? 0 : lo > (ptrdiff_t)total ? (ptrdiff_t)total : lo;
          hi = hi < lo ? lo : hi > (ptrdiff_t)total ? (ptrdiff_t)total : hi;
          for (ptrdiff_t ky = ky_begin + 1; ky < ky_end; ky++) {
            const uint8_t* row = in + (iy0 + ky * (ptrdiff_t)p->dilation_h) * iw;
            max_into(padded + lo, row + base + lo, (size_t)(hi - lo));
          }
        }
        const uint8_t* ph = padded;
        if (sw > 1) {
          spw_row_deinterleave(padded, sw, length, phases);
          ph = phases;
        }
        uint8_t* o = out + oy * ow + (ptrdiff_t)ox0;
        for (size_t j = 0; j < n; j += 32) {
          __m256i m = _mm256_setzero_si256();
          if (ky_begin < ky_end) {
            for (size_t kx = 0; kx < kw; kx++) {
              const size_t d = kx * dw, q = d / sw, r = d % sw;
              m = _mm256_max_epu8(m, _mm256_loadu_si256((const __m256i*)(ph + r * length + j + q)));
            }
          }
          if (n - j >= 32) {
            _mm256_storeu_si256((__m256i*)(o + j), m);
          } else {
            spw_store_u8x32_partial(o + j, m, n - j);
          }
        }
      }
    }
  }
}

SPW_TARGET_END

#endif  // SPW_ARCH_X86
