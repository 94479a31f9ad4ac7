// Depthwise convolution of uint8, AVX2: 16 outputs of a row per step, two taps per vpmaddwd.
//
// Per output row, each input row of the window inside the input is copied into a buffer whose padding holds the
// input zero point (what ONNX pads with) and split by stride phase (x86-avx2-rows.h): every tap of a vector of
// outputs is then one unaligned, unmasked load, for any stride and dilation. Two taps (kx, kx+1) of 16 outputs
// are interleaved byte by byte (punpcklbw/hbw) and zero-extended to int16 pairs {x_kx, x_kx+1}, and one vpmaddwd
// with the broadcast pair {w_kx, w_kx+1} adds both products exactly (|sum| <= 2 * 255 * 128); an odd last tap
// pairs with a zero weight. The zero point is not subtracted per tap: sum w*(x - z) = sum w*x - z * sum w, with
// sum w over the window's rows inside the input (a padding column holds z, so its two terms cancel). The sums are
// int32 wrapping, like the reference's; the requantization is the shared one, so results are the reference's bit
// for bit. Outputs go in chunks of up to 1024 per row so that the window's rows fit the 16 KB stack buffer; a
// window too large for it even for 32 outputs (or with more than 512 tap pairs) takes the scalar reference.
#include "../kernels.h"
#include "../qu8.h"

#if SPW_ARCH_X86
#include <immintrin.h>

SPW_TARGET_BEGIN_AVX2

#include "../x86-avx2-qu8.h"
#include "../x86-avx2-rows.h"

#define WINDOW_BUFFER_BYTES 16384  // the phases of all the window's rows inside the input
#define MAX_CHUNK 1024
#define MAX_PAIRS 512

typedef struct dw_geometry {
  ptrdiff_t ih, iw, oh, ow, kh, kw, sh, sw, dh, dw, pt, pl;
  size_t pairs_per_row;  // ceil(kw / 2)
} dw_geometry;

// Outputs per chunk (a multiple of 32) whose window rows fit the buffer; 0 if not even 32 do.
static size_t dw_chunk(const dw_geometry* g) {
  const size_t last_tap = (size_t)((g->kw - 1) * g->dw), s = (size_t)g->sw;
  size_t chunk = spw_min_size(MAX_CHUNK, (((size_t)g->ow + 31) / 32) * 32);
  for (; chunk > 0; chunk -= 32) {
    const size_t length = spw_row_phase_length(chunk, s, last_tap);
    if (length != 0 && (size_t)g->kh * s * length <= WINDOW_BUFFER_BYTES) return chunk;
  }
  return 0;
}

// One output row (oy) of one channel, outputs [ox0, ox0 + n).
static void dw_row_chunk(
    const dw_geometry* g, const spw_qu8_dwconv_params* p, const uint8_t* in, const int8_t* w, const int32_t* pairs,
    int32_t bias, float scale, uint8_t* out, ptrdiff_t oy, size_t ox0, size_t n, size_t length, uint8_t* window,
    uint8_t* padded, const spw_avx2_qu8_bounds* bounds) {
  const size_t s = (size_t)g->sw, row_bytes = s * length;
  const ptrdiff_t iy0 = oy * g->sh - g->pt, base = (ptrdiff_t)ox0 * g->sw - g->pl;
  ptrdiff_t ky_begin, ky_end;
  spw_tap_range(iy0, g->dh, g->kh, 0, g->ih, &ky_begin, &ky_end);
  // The rows' phases, and the zero point correction over their weights.
  int32_t weight_sum = 0;
  for (ptrdiff_t ky = ky_begin; ky < ky_end; ky++) {
    const uint8_t* row = in + (iy0 + ky * g->dh) * g->iw;
    uint8_t* phases = window + (size_t)(ky - ky_begin) * row_bytes;
    if (s == 1) {
      spw_row_pad_copy(phases, row, base, g->iw, (ptrdiff_t)row_bytes, p->input_zero_point);
    } else {
      spw_row_pad_copy(padded, row, base, g->iw, (ptrdiff_t)row_bytes, p->input_zero_point);
      spw_row_deinterleave(padded, s, length, phases);
    }
    for (ptrdiff_t kx = 0; kx < g->kw; kx++) weight_sum = spw_wrap_add_s32(weight_sum, w[ky * g->kw + kx]);
  }
  const int32_t correction = spw_wrap_add_s32(bias, spw_wrap_mul_s32(-(int32_t)p->input_zero_point, weight_sum));
  // Offsets of the two taps of each pair within a row's phases (the odd last tap repeats: its weight is 0).
  uint32_t offsets[2 * MAX_PAIRS];  // < 16384: within the window buffer
  for (size_t k = 0; k < g->pairs_per_row; k++) {
    for (size_t t = 0; t < 2; t++) {
      const size_t kx = spw_min_size(2 * k + t, (size_t)g->kw - 1), d = kx * (size_t)g->dw;
      offsets[2 * k + t] = (uint32_t)((d % s) * length + d / s);
    }
  }
  const __m256i vcorrection = _mm256_set1_epi32(correction);
  const __m256 multiplier = _mm256_set1_ps(scale);
  for (size_t j = 0; j < n; j += 16) {
    __m256i a0 = vcorrection, a1 = vcorrection;
    for (ptrdiff_t ky = ky_begin; ky < ky_end; ky++) {
      const uint8_t* phases = window + (size_t)(ky - ky_begin) * row_bytes + j;
      const int32_t* row_pairs = pairs + (size_t)ky * g->pairs_per_row;
      for (size_t k = 0; k < g->pairs_per_row; k++) {
        const __m128i x0 = _mm_loadu_si128((const __m128i*)(phases + offsets[2 * k]));
        const __m128i x1 = _mm_loadu_si128((const __m128i*)(phases + offsets[2 * k + 1]));
        const __m256i wk = _mm256_set1_epi32(row_pairs[k]);
        a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(_mm256_cvtepu8_epi16(_mm_unpacklo_epi8(x0, x1)), wk));
        a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(_mm256_cvtepu8_epi16(_mm_unpackhi_epi8(x0, x1)), wk));
      }
    }
    const __m128i q = spw_avx2_pack_u8x16(spw_avx2_qu8_requantize(a0, multiplier, bounds),
                                         spw_avx2_qu8_requantize(a1, multiplier, bounds));
    if (n - j >= 16) {
      _mm_storeu_si128((__m128i*)(out + j), q);
    } else {
      spw_store_u8_partial(out + j, q, n - j);
    }
  }
}

void spw_qu8_dwconv_ukernel_1x16__avx2(
    const spw_qu8_dwconv_params* p, const uint8_t* input, const int8_t* weights, const int32_t* bias,
    const float* scales, uint8_t* output) {
  SPW_DEBUG_ASSERT(p->c_begin <= p->c_end && p->c_end <= p->channels);
  SPW_DEBUG_ASSERT(p->stride_h > 0 && p->stride_w > 0 && p->dilation_h > 0 && p->dilation_w > 0);
  if (p->c_begin >= p->c_end || p->output_height == 0 || p->output_width == 0) return;
  const dw_geometry g = {
    .ih = (ptrdiff_t)p->input_height, .iw = (ptrdiff_t)p->input_width,
    .oh = (ptrdiff_t)p->output_height, .ow = (ptrdiff_t)p->output_width,
    .kh = (ptrdiff_t)p->kernel_height, .kw = (ptrdiff_t)p->kernel_width,
    .sh = (ptrdiff_t)p->stride_h, .sw = (ptrdiff_t)p->stride_w,
    .dh = (ptrdiff_t)p->dilation_h, .dw = (ptrdiff_t)p->dilation_w,
    .pt = (ptrdiff_t)p->pad_top, .pl = (ptrdiff_t)p->pad_left,
    .pairs_per_row = (p->kernel_width + 1) / 2,
  };
  const size_t chunk = g.kw > 0 && g.kh > 0 && (size_t)g.kh * g.pairs_per_row <= MAX_PAIRS ? dw_chunk(&g) : 0;
  if (chunk == 0) {
    spw_qu8_dwconv_ukernel_1x1__scalar(p, input, weights, bias, scales, output);
    return;
  }
  uint8_t window[WINDOW_BUFFER_BYTES], padded[SPW_ROW_BUFFER_BYTES];
  int32_t pairs[MAX_PAIRS];
  const spw_avx2_qu8_bounds bounds =
      spw_avx2_qu8_broadcast_bounds(spw_qu8_make_bounds(p->output_zero_point, p->output_min, p->output_max));
  const size_t in_size = p->input_height * p->input_width, out_size = p->output_height * p->output_width;
  const size_t taps = p->kernel_height * p->kernel_width;
  for (size_t c = p->c_begin; c < p->c_end; c++) {
    const int8_t* w = weights + c * taps;
    // {w[ky][2k], w[ky][2k+1]} as int16 pairs, 0 past the row's last tap.
    for (ptrdiff_t ky = 0; ky < g.kh; ky++) {
      for (size_t k = 0; k < g.pairs_per_row; k++) {
        const ptrdiff_t kx = 2 * (ptrdiff_t)k;
        const int16_t lo = w[ky * g.kw + kx], hi = kx + 1 < g.kw ? w[ky * g.kw + kx + 1] : 0;
        pairs[(size_t)ky * g.pairs_per_row + k] = (int32_t)((uint32_t)(uint16_t)lo | (uint32_t)(uint16_t)hi << 16);
      }
    }
    const uint8_t* in = input + c * in_size;
    uint8_t* out = output + c * out_size;
    for (ptrdiff_t oy = 0; oy < g.oh; oy++) {
      for (size_t ox0 = 0; ox0 < (size_t)g.ow; ox0 += chunk) {
        const size_t n = spw_min_size(chunk, (size_t)g.ow - ox0);
        const size_t chunk_length = spw_row_phase_length(n, (size_t)g.sw, (size_t)((g.kw - 1) * g.dw));
        dw_row_chunk(&g, p, in, w, pairs, bias != NULL ? bias[c] : 0, scales[c], out + oy * g.ow + (ptrdiff_t)ox0,
                     oy, ox0, n, chunk_length, window, padded, &bounds);
      }
    }
  }
}

SPW_TARGET_END

#endif  // SPW_ARCH_X86
