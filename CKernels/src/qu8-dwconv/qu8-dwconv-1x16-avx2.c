// Depthwise convolution of uint8, AVX2: 16 (or, at the end of a row, 8) outputs of a row per step, two taps per
// vpmaddwd.
//
// Two taps (kx, kx+1) of 8 outputs become int16 pairs {x_kx, x_kx+1} per 32-bit lane, and one vpmaddwd with the
// broadcast pair {w_kx, w_kx+1} adds both products exactly (|sum| <= 2 * 255 * 128); an odd last tap pairs with a
// zero weight. The input rows a channel needs are built once each, one output row ahead of their first use (a ring
// of (kh-1)*dh + 1 + stride_h rows on the stack), with the padding made explicit as the input zero point (what ONNX
// pads with), in one of three layouts:
// - stride 1: "paired" rows, byte pairs {x[i], x[i + dilation]} interleaved once per row, so that the pair of taps
//   (2k, 2k+1) of outputs j..j+7 is 16 consecutive bytes, zero-extended with one vpmovzxbw (no shuffle per tap);
// - stride 2, dilation 1: the row as it is: taps 2k and 2k+1 of output j are bytes 2(j+k) and 2(j+k)+1, already a
//   pair;
// - other strides and dilations: the row split by stride phase (x86-avx2-rows.h), each tap one load, the two taps
//   of a pair interleaved per step (punpcklbw/hbw).
// Building a row one output row ahead keeps the loads of the compute loop from hitting the stores that built it
// (a deinterleaving pass right after the copy, its 32-byte loads spanning narrower stores, stalled store-to-load
// forwarding and took 64% of the time of 576x14x14 stride 2).
//
// The zero point is not subtracted per tap: sum w*(x - z) = sum w*x - z * sum w, every tap reading z outside the
// input, so padding terms cancel. Sums are int32 wrapping, like the reference's, and the requantization is the
// shared one: the results are the reference's bit for bit. Outputs go in chunks of up to 1024 per row, as many as
// the 24 KB ring allows; a window too large for it even for 32 outputs, or with more than 512 tap pairs, takes the
// scalar reference, as do kernels of more than 64 rows or 128 columns.
//
// Measured (CKernels/bench/qu8_bench.c, MobileNetV2's 3x3 layers): 3-18x the reference's speed and 1.2-2.3x the
// first version's (which rebuilt the window's rows for every output row; timed with a one-layer loop), but only
// 0.1-0.9x the f32 AVX2 kernel's: worst on 7x7 and 14x14 images, where the f32 kernel puts 8 channels in a
// vector's lanes and this one pays per row and per channel. A channels-in-lanes path for small images is the next
// step.
#include "../kernels.h"
#include "../qu8.h"

#if SPW_ARCH_X86
#include <immintrin.h>

SPW_TARGET_BEGIN_AVX2

#include "../x86-avx2-qu8.h"
#include "../x86-avx2-rows.h"

#define RING_BYTES 24576
#define MAX_CHUNK 1024
#define MAX_PAIRS 512        // pairs of taps of the whole kernel
#define MAX_KERNEL_ROWS 64
#define MAX_ROW_PAIRS 64     // pairs of taps of a kernel row
#define MAX_RING_ROWS 256

typedef enum dw_layout { DW_PAIRED, DW_NATURAL, DW_PHASES } dw_layout;

typedef struct dw_geometry {
  ptrdiff_t ih, iw, oh, ow, kh, kw, sh, sw, dh, dw, pt, pl;
  size_t pairs_per_row;  // ceil(kw / 2)
  size_t last_tap;       // (kw - 1) * dw
  size_t span;           // input rows of a window: (kh - 1) * dh + 1
  size_t ring_rows;      // span + sh: one output row ahead
  dw_layout layout;
  uint8_t zero_point;
} dw_geometry;

typedef struct dw_channel {
  const uint8_t* input;
  const int32_t* pairs;  // [kh][pairs_per_row]: {w[ky][2k], w[ky][2k+1]} as int16 pairs
  __m256i correction;    // bias - z * sum of the weights
  __m256 multiplier;
  uint8_t* output;
} dw_channel;

// Elements per built row for n outputs (a multiple of 32), and the row's bytes in the layout.
static size_t row_elements(const dw_geometry* g, size_t n) {
  return spw_row_phase_length(n, (size_t)g->sw, g->last_tap);
}

static size_t row_bytes(const dw_geometry* g, size_t elements) {
  return g->layout == DW_PAIRED ? 2 * elements : (size_t)g->sw * elements;
}

// Byte offsets, within a row from output j, of what each pair of taps reads: paired and natural rows, one offset
// per pair (from byte 2j); phases, one per tap of the pair (from byte j; an odd last tap repeats, weight 0).
static void tap_offsets(const dw_geometry* g, size_t elements, uint32_t* offsets) {
  const size_t s = (size_t)g->sw;
  for (size_t k = 0; k < g->pairs_per_row; k++) {
    if (g->layout == DW_PAIRED) {
      offsets[k] = (uint32_t)(4 * k * (size_t)g->dw);
    } else if (g->layout == DW_NATURAL) {
      offsets[k] = (uint32_t)(2 * k);
    } else {
      for (size_t t = 0; t < 2; t++) {
        const size_t kx = spw_min_size(2 * k + t, (size_t)g->kw - 1), d = kx * (size_t)g->dw;
        offsets[2 * k + t] = (uint32_t)((d % s) * elements + d / s);
      }
    }
  }
}

// x[base + i] for 0 <= base + i < width, else the zero point.
static uint8_t padded_at(const dw_geometry* g, const uint8_t* x, ptrdiff_t i) {
  return i >= 0 && i < g->iw ? x[i] : g->zero_point;
}

// Paired row: bytes 2j, 2j+1 = x[base + j], x[base + j + d] for j < elements, straight from the input (the zero
// point fill first; the pairs with both columns inside the input 8 at a time; those with one inside byte by byte).
static void build_paired(const dw_geometry* g, const uint8_t* x, ptrdiff_t base, size_t elements, uint8_t* row) {
  const ptrdiff_t d = g->dw, e = (ptrdiff_t)elements;
  memset(row, g->zero_point, 2 * elements);
  const ptrdiff_t inside_begin = spw_max_ptrdiff(0, -base), inside_end = spw_min_ptrdiff(e, g->iw - base - d);
  for (ptrdiff_t j = inside_begin; j < inside_end; j += 8) {
    const size_t m = (size_t)spw_min_ptrdiff(8, inside_end - j);
    const __m128i a = m == 8 ? _mm_loadl_epi64((const __m128i*)(x + base + j)) : spw_load_u8_partial(x + base + j, m);
    const __m128i b =
        m == 8 ? _mm_loadl_epi64((const __m128i*)(x + base + j + d)) : spw_load_u8_partial(x + base + j + d, m);
    const __m128i pairs = _mm_unpacklo_epi8(a, b);
    if (m == 8) {
      _mm_storeu_si128((__m128i*)(row + 2 * j), pairs);
    } else {
      spw_store_u8_partial(row + 2 * j, pairs, 2 * m);
    }
  }
  // One column inside the input: j in [-base - d, -base) and [iw - base - d, iw - base) (or, on rows narrower
  // than d, everything between).
  const ptrdiff_t edges[2][2] = {{-base - d, spw_min_ptrdiff(-base, inside_end > inside_begin ? inside_begin : e)},
                                 {spw_max_ptrdiff(inside_end, inside_begin), g->iw - base}};
  for (int side = 0; side < 2; side++) {
    for (ptrdiff_t j = spw_max_ptrdiff(0, edges[side][0]); j < spw_min_ptrdiff(e, edges[side][1]); j++) {
      row[2 * j] = padded_at(g, x, base + j);
      row[2 * j + 1] = padded_at(g, x, base + j + d);
    }
  }
}

// Input row iy (a row of padding when outside the input) for the outputs from `base`, in the layout.
static void build_row(const dw_geometry* g, const uint8_t* in, ptrdiff_t iy, ptrdiff_t base, size_t elements,
                      uint8_t* row, uint8_t* padded) {
  const size_t bytes = row_bytes(g, elements);
  if (iy < 0 || iy >= g->ih) {
    memset(row, g->zero_point, bytes);
  } else if (g->layout == DW_PAIRED) {
    build_paired(g, in + iy * g->iw, base, elements, row);
  } else if (g->layout == DW_NATURAL) {
    spw_row_pad_copy(row, in + iy * g->iw, base, g->iw, (ptrdiff_t)bytes, g->zero_point);
  } else {
    spw_row_pad_copy(padded, in + iy * g->iw, base, g->iw, (ptrdiff_t)bytes, g->zero_point);
    spw_row_deinterleave(padded, (size_t)g->sw, elements, row);
  }
}

// Outputs [j, j + 8*NV) ∩ [0, n) of one output row from rows[ky] (the built row of kernel row ky). PACKED: paired
// or natural rows. PAIRS > 0: that many pairs per kernel row, unrolled.
SPW_INLINE void dw_vector(const dw_geometry* g, const dw_channel* ch, const uint8_t* const* rows,
                          const uint32_t* offsets, size_t j, size_t n, uint8_t* out, const spw_avx2_qu8_bounds* bounds,
                          const int NV, const bool PACKED, const int PAIRS) {
  const size_t pairs_per_row = PAIRS ? (size_t)PAIRS : g->pairs_per_row;
  __m256i a0 = ch->correction, a1 = ch->correction;
  for (ptrdiff_t ky = 0; ky < g->kh; ky++) {
    const int32_t* row_pairs = ch->pairs + (size_t)ky * pairs_per_row;
    for (size_t k = 0; k < pairs_per_row; k++) {
      const __m256i wk = _mm256_set1_epi32(row_pairs[k]);
      if (PACKED) {
        const uint8_t* x = rows[ky] + 2 * j + offsets[k];
        a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(_mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i*)x)), wk));
        if (NV == 2) {
          const __m128i hi = _mm_loadu_si128((const __m128i*)(x + 16));
          a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(_mm256_cvtepu8_epi16(hi), wk));
        }
      } else {
        const uint8_t* x = rows[ky] + j;
        if (NV == 2) {
          const __m128i x0 = _mm_loadu_si128((const __m128i*)(x + offsets[2 * k]));
          const __m128i x1 = _mm_loadu_si128((const __m128i*)(x + offsets[2 * k + 1]));
          a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(_mm256_cvtepu8_epi16(_mm_unpacklo_epi8(x0, x1)), wk));
          a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(_mm256_cvtepu8_epi16(_mm_unpackhi_epi8(x0, x1)), wk));
        } else {
          const __m128i x0 = _mm_loadl_epi64((const __m128i*)(x + offsets[2 * k]));
          const __m128i x1 = _mm_loadl_epi64((const __m128i*)(x + offsets[2 * k + 1]));
          a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(_mm256_cvtepu8_epi16(_mm_unpacklo_epi8(x0, x1)), wk));
        }
      }
    }
  }
  const __m256i q0 = spw_avx2_qu8_requantize(a0, ch->multiplier, bounds);
  if (NV == 2) {
    const __m128i q = spw_avx2_pack_u8x16(q0, spw_avx2_qu8_requantize(a1, ch->multiplier, bounds));
    if (n - j >= 16) {
      _mm_storeu_si128((__m128i*)(out + j), q);
    } else {
      spw_store_u8_partial(out + j, q, n - j);
    }
  } else {
    spw_store_u8_partial(out + j, spw_avx2_pack_u8x8(q0), n - j);  // n - j <= 8
  }
}

// Outputs [0, n) of one output row: 16 at a time, the last 8 or fewer alone (rows of 7 or 14 are common).
SPW_INLINE void dw_outputs_k(const dw_geometry* g, const dw_channel* ch, const uint8_t* const* rows,
                             const uint32_t* offsets, size_t n, uint8_t* out, const spw_avx2_qu8_bounds* bounds,
                             const bool PACKED, const int PAIRS) {
  size_t j = 0;
  for (; j + 8 < n; j += 16) dw_vector(g, ch, rows, offsets, j, n, out, bounds, 2, PACKED, PAIRS);
  if (j < n) dw_vector(g, ch, rows, offsets, j, n, out, bounds, 1, PACKED, PAIRS);
}

// dw_outputs_k specialised for 3- and 5-wide kernels (the MobileNet and EfficientNet ones) and each layout.
static void dw_outputs(const dw_geometry* g, const dw_channel* ch, const uint8_t* const* rows,
                       const uint32_t* offsets, size_t n, uint8_t* out, const spw_avx2_qu8_bounds* bounds) {
  const bool packed = g->layout != DW_PHASES;
  if (packed && g->kw == 3) {
    dw_outputs_k(g, ch, rows, offsets, n, out, bounds, true, 2);
  } else if (packed && g->kw == 5) {
    dw_outputs_k(g, ch, rows, offsets, n, out, bounds, true, 3);
  } else if (packed) {
    dw_outputs_k(g, ch, rows, offsets, n, out, bounds, true, 0);
  } else {
    dw_outputs_k(g, ch, rows, offsets, n, out, bounds, false, 0);
  }
}

// One channel, outputs [ox0, ox0 + n) of every row. Row r of the padded plane (input row r - pad_top) lives in
// ring slot r mod ring_rows and is built one output row before it is first read. Slots are tracked by increments:
// a division per row cost more than the 7-wide rows' arithmetic.
static void dw_channel_chunk(const dw_geometry* g, const dw_channel* ch, size_t ox0, size_t n, uint8_t* ring,
                             uint8_t* padded, const spw_avx2_qu8_bounds* bounds) {
  const size_t elements = row_elements(g, n), bytes = row_bytes(g, elements), slots = g->ring_rows;
  const ptrdiff_t base = (ptrdiff_t)ox0 * g->sw - g->pl;
  uint32_t offsets[2 * MAX_ROW_PAIRS];
  tap_offsets(g, elements, offsets);
  const uint8_t* rows[MAX_KERNEL_ROWS];
  const size_t last_row = (size_t)((g->oh - 1) * g->sh) + g->span;  // rows of the padded plane that are read
  size_t built = 0, built_slot = 0;  // rows [0, built) are in the ring; row `built` goes to slot built_slot
  size_t first_slot = 0;             // slot of the output row's first input row
  for (ptrdiff_t oy = 0; oy < g->oh; oy++) {
    // The rows of this output row and of the next one.
    const size_t needed = spw_min_size((size_t)(oy * g->sh) + g->span + (size_t)g->sh, last_row);
    for (; built < needed; built++) {
      build_row(g, ch->input, (ptrdiff_t)built - g->pt, base, elements, ring + built_slot * bytes, padded);
      built_slot = built_slot + 1 == slots ? 0 : built_slot + 1;
    }
    size_t slot = first_slot;
    for (ptrdiff_t ky = 0; ky < g->kh; ky++) {
      rows[ky] = ring + slot * bytes;
      slot += (size_t)g->dh;
      if (slot >= slots) slot -= slots;  // dh < span <= slots
    }
    dw_outputs(g, ch, rows, offsets, n, ch->output + oy * g->ow + (ptrdiff_t)ox0, bounds);
    first_slot += (size_t)g->sh;
    if (first_slot >= slots) first_slot -= slots;  // sh < slots
  }
}

void spw_qu8_dwconv_ukernel_1x16__avx2(
    const spw_qu8_dwconv_params* p, const uint8_t* input, const int8_t* weights, const int32_t* bias,
    const float* scales, uint8_t* output) {
  SPW_DEBUG_ASSERT(p->c_begin <= p->c_end && p->c_end <= p->channels);
  SPW_DEBUG_ASSERT(p->stride_h > 0 && p->stride_w > 0 && p->dilation_h > 0 && p->dilation_w > 0);
  if (p->c_begin >= p->c_end || p->output_height == 0 || p->output_width == 0) return;
  dw_geometry g = {
    .ih = (ptrdiff_t)p->input_height, .iw = (ptrdiff_t)p->input_width,
    .oh = (ptrdiff_t)p->output_height, .ow = (ptrdiff_t)p->output_width,
    .kh = (ptrdiff_t)p->kernel_height, .kw = (ptrdiff_t)p->kernel_width,
    .sh = (ptrdiff_t)p->stride_h, .sw = (ptrdiff_t)p->stride_w,
    .dh = (ptrdiff_t)p->dilation_h, .dw = (ptrdiff_t)p->dilation_w,
    .pt = (ptrdiff_t)p->pad_top, .pl = (ptrdiff_t)p->pad_left,
    .pairs_per_row = (p->kernel_width + 1) / 2,
    .last_tap = (p->kernel_width > 0 ? p->kernel_width - 1 : 0) * p->dilation_w,
    .span = (p->kernel_height > 0 ? p->kernel_height - 1 : 0) * p->dilation_h + 1,
    .layout = p->stride_w == 1 ? DW_PAIRED : p->stride_w == 2 && p->dilation_w == 1 ? DW_NATURAL : DW_PHASES,
    .zero_point = p->input_zero_point,
  };
  g.ring_rows = g.span + (size_t)g.sh;
  // The largest chunk of outputs (a multiple of 32) whose ring fits.
  size_t chunk = spw_min_size(MAX_CHUNK, ((p->output_width + 31) / 32) * 32);
  for (; chunk > 0; chunk -= 32) {
    const size_t elements = row_elements(&g, chunk);
    if (elements != 0 && g.ring_rows <= MAX_RING_ROWS && g.ring_rows * row_bytes(&g, elements) <= RING_BYTES) break;
  }
  if (g.kw == 0 || g.kh == 0 || g.kh > MAX_KERNEL_ROWS || g.pairs_per_row > MAX_ROW_PAIRS ||
      p->kernel_height * g.pairs_per_row > MAX_PAIRS || chunk == 0) {
    spw_qu8_dwconv_ukernel_1x1__scalar(p, input, weights, bias, scales, output);
    return;
  }
  uint8_t ring[RING_BYTES], padded[SPW_ROW_BUFFER_BYTES + 16];
  int32_t pairs[MAX_PAIRS];
  const spw_avx2_qu8_bounds bounds =
      spw_avx2_qu8_broadcast_bounds(spw_qu8_make_bounds(p->output_zero_point, p->output_min, p->output_max));
  const size_t in_size = p->input_height * p->input_width, out_size = p->output_height * p->output_width;
  const size_t taps = p->kernel_height * p->kernel_width;
  for (size_t c = p->c_begin; c < p->c_end; c++) {
    const int8_t* w = weights + c * taps;
    int32_t weight_sum = 0;
    for (size_t i = 0; i < taps; i++) weight_sum = spw_wrap_add_s32(weight_sum, w[i]);
    for (ptrdiff_t ky = 0; ky < g.kh; ky++) {
      for (size_t k = 0; k < g.pairs_per_row; k++) {
        const ptrdiff_t kx = 2 * (ptrdiff_t)k;
        const int16_t lo = w[ky * g.kw + kx], hi = kx + 1 < g.kw ? w[ky * g.kw + kx + 1] : 0;
        pairs[(size_t)ky * g.pairs_per_row + k] = (int32_t)((uint32_t)(uint16_t)lo | (uint32_t)(uint16_t)hi << 16);
      }
    }
    const int32_t correction = spw_wrap_add_s32(bias != NULL ? bias[c] : 0,
                                                spw_wrap_mul_s32(-(int32_t)p->input_zero_point, weight_sum));
    const dw_channel ch = {
      .input = input + c * in_size, .pairs = pairs, .correction = _mm256_set1_epi32(correction),
      .multiplier = _mm256_set1_ps(scales[c]), .output = output + c * out_size,
    };
    for (size_t ox0 = 0; ox0 < p->output_width; ox0 += chunk) {
      dw_channel_chunk(&g, &ch, ox0, spw_min_size(chunk, p->output_width - ox0), ring, padded, &bounds);
    }
  }
}

SPW_TARGET_END

#endif  // SPW_ARCH_X86
