// The AVX2 depthwise kernel as it was before the specialised 3x3/5x5 paths (commit 0391982), kept verbatim under
// another name for CKernels/bench/dwconv_bench.c to compare against. Only with -DSPW_DWCONV_EXPERIMENTS; without it
// (the SwiftPM build) this file compiles to nothing, and the function is never registered.
#ifdef SPW_DWCONV_EXPERIMENTS
// Depthwise convolution, AVX2+FMA: 8 outputs of one row per step, along the output width.
//
// Three paths, chosen per call:
// - small images with stride 1 and "same" width (7x7, 14x14): the channel's outputs as one flat run, masks per
//   vector and tap built once per call (no per-row work);
// - 3x3 and 5x5, stride 1 and 2, no dilation: unrolled row kernels in three passes per channel (right border,
//   interior without masks, left border), one accumulator per kernel row; kernel rows above or below the input
//   read a static zero row (w * 0 adds nothing for finite weights);
// - everything else: the generic row, which skips kernel rows outside the input.
// Taps left or right of the input come from masked loads (zeros), which is exactly zero padding. Results differ
// from the reference only by FMA contraction and summation order (tested to a relative 1e-5).
//
// Stride 2 avoids gathers: 16 consecutive inputs are split into even and odd elements with one shufps each,
// which leaves the 8 outputs in the order 0 1 4 5 2 3 6 7. Every tap has the same order and the weights are
// broadcast, so the accumulator is put back in order once, before the store.
//
// Measured on Zen 3 (one core, L1-resident channel): the unrolled 3x3 s1 interior runs at ~3 ns per 8 outputs
// (~45-50 GFLOP/s); vmaskmovps loads cost as much as plain loads but vmaskmovps stores ~40 cycles, hence the
// spill-over stores (store_outputs) and spw_avx2_store_partial.
#include "../kernels.h"

#if SPW_ARCH_X86
#include <immintrin.h>

SPW_TARGET_BEGIN_AVX2

#include "../x86-avx2.h"

typedef struct dw_geometry {
  ptrdiff_t ih, iw, oh, ow, kh, kw, sh, sw, dh, dw, pt, pl;
  // End of the outputs this call writes (channel c_end): stores may spill up to here (see store_outputs).
  const float* out_end;
} dw_geometry;

#define iota_epi32 spw_avx2_iota
#define lane_mask spw_avx2_lane_mask

// row[ix .. ix+8), zeros where outside [0, iw).
SPW_INLINE __m256 load_s1(const float* row, ptrdiff_t ix, ptrdiff_t iw, bool masked) {
  if (!masked) return _mm256_loadu_ps(row + ix);
  return _mm256_maskload_ps(row + ix, lane_mask(ix, iota_epi32(), iw));
}

// Even and odd elements of row[ix .. ix+16) (zeros outside [0, iw)), in the permuted order of the file comment.
SPW_INLINE void load_s2(const float* row, ptrdiff_t ix, ptrdiff_t iw, bool masked, __m256* even, __m256* odd) {
  __m256 lo, hi;
  if (masked) {
    lo = _mm256_maskload_ps(row + ix, lane_mask(ix, iota_epi32(), iw));
    hi = _mm256_maskload_ps(row + ix + 8, lane_mask(ix + 8, iota_epi32(), iw));
  } else {
    lo = _mm256_loadu_ps(row + ix);
    hi = _mm256_loadu_ps(row + ix + 8);
  }
  *even = _mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(2, 0, 2, 0));
  *odd = _mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(3, 1, 3, 1));
}

// Clamps and stores outputs [0, n) of a vector (n may exceed 8); `deinterleaved` undoes the stride-2 order.
// Channels are processed in order and, within a channel, a vector's spill-over lands on outputs that a later
// store of the same pass or a later pass writes (right border, interior, left border; rows in order), so a full
// store is safe whenever it stays below g->out_end.
SPW_INLINE void store_outputs(
    float* out, __m256 acc, __m256 vmin, __m256 vmax, ptrdiff_t n, const dw_geometry* g, bool deinterleaved) {
  if (deinterleaved) acc = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(acc), _MM_SHUFFLE(3, 1, 2, 0)));
  acc = _mm256_min_ps(vmax, _mm256_max_ps(vmin, acc));
  spw_avx2_store(out, acc, n, g->out_end - out);
}

// MARK: - Unrolled K x K, stride S (1 or 2), dilation 1

// Masks of the loads of a border vector starting at input column `base`: for stride 1, masks[kx] covers
// row[base + kx .. + 8); for stride 2, the pair at even kx uses masks[kx] and masks[kx + 1] for its two halves.
SPW_INLINE void kxk_masks(__m256i* masks, ptrdiff_t base, ptrdiff_t iw, const int K, const int S) {
  for (int kx = 0; kx < K; kx++) {
    if (S == 1) {
      masks[kx] = lane_mask(base + kx, iota_epi32(), iw);
    } else if (kx % 2 == 0) {
      masks[kx] = lane_mask(base + kx, iota_epi32(), iw);
      masks[kx + 1] = lane_mask(base + kx + 8, iota_epi32(), iw);
    }
  }
}

// One accumulator per kernel row (the first starts from the bias) keeps the FMA chains short enough for two FMA
// pipes; the rows are summed at the end. `masks` (from kxk_masks) is only read when `masked`.
SPW_INLINE __m256 kxk_vector(
    const float* const* rows, const __m256* vw, __m256 vbias, ptrdiff_t base, const __m256i* masks,
    const int K, const int S, const bool masked) {
  __m256 acc[5];
  for (int ky = 0; ky < K; ky++) {
    const float* r = rows[ky] + base;
    __m256 a = ky == 0 ? vbias : _mm256_setzero_ps();
    if (S == 1) {
      for (int kx = 0; kx < K; kx++) {
        const __m256 v = masked ? _mm256_maskload_ps(r + kx, masks[kx]) : _mm256_loadu_ps(r + kx);
        a = _mm256_fmadd_ps(v, vw[ky * K + kx], a);
      }
    } else {
      for (int kx = 0; kx < K; kx += 2) {
        const __m256 lo = masked ? _mm256_maskload_ps(r + kx, masks[kx]) : _mm256_loadu_ps(r + kx);
        const __m256 hi = masked ? _mm256_maskload_ps(r + kx + 8, masks[kx + 1]) : _mm256_loadu_ps(r + kx + 8);
        a = _mm256_fmadd_ps(_mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(2, 0, 2, 0)), vw[ky * K + kx], a);
        if (kx + 1 < K) a = _mm256_fmadd_ps(_mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(3, 1, 3, 1)), vw[ky * K + kx + 1], a);
      }
    }
    acc[ky] = a;
  }
  if (K == 3) return _mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), acc[2]);
  return _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3])), acc[4]);
}

// Kernel rows above or below the input read this instead: w * 0 adds nothing (for finite weights), so the
// unrolled code runs on every output row of images up to this width.
static const float k_zero_row[1024];

// The K input rows of output row oy; false when a row is outside the input and the image is too wide for the
// zero row (the generic row handles those output rows).
SPW_INLINE bool kxk_rows(const float** rows, const float* in, ptrdiff_t oy, const dw_geometry* g, const int K,
                         const int S) {
  const ptrdiff_t iy = oy * S - g->pt;
  if (SPW_LIKELY(iy >= 0 && iy + K <= g->ih)) {
    const float* r = in + iy * g->iw;
    for (int k = 0; k < K; k++) rows[k] = r + k * g->iw;
    return true;
  }
  if (g->iw > (ptrdiff_t)(sizeof(k_zero_row) / sizeof(k_zero_row[0]))) return false;
  for (int k = 0; k < K; k++) rows[k] = (iy + k >= 0 && iy + k < g->ih) ? in + (iy + k) * g->iw : k_zero_row;
  return true;
}

// The vectors starting at output columns [x_begin, x_end) of every row, with masked loads, row by row. Their masks
// depend on the column only, so they are computed once when there are at most two such vectors (the usual case).
SPW_INLINE void kxk_border_pass(
    const float* in, const __m256* vw, __m256 vbias, __m256 vmin, __m256 vmax, float* out, ptrdiff_t x_begin,
    ptrdiff_t x_end, const dw_geometry* g, const int K, const int S) {
  if (x_begin >= x_end) return;
  const ptrdiff_t ow = g->ow, pl = g->pl;
  __m256i masks[2][6];
  const bool cached = x_end - x_begin <= 16;
  if (cached) {
    for (ptrdiff_t i = 0; x_begin + 8 * i < x_end; i++) kxk_masks(masks[i], (x_begin + 8 * i) * S - pl, g->iw, K, S);
  }
  for (ptrdiff_t oy = 0; oy < g->oh; oy++) {
    const float* rows[5];
    if (!kxk_rows(rows, in, oy, g, K, S)) continue;
    for (ptrdiff_t x = x_begin, i = 0; x < x_end; x += 8, i++) {
      __m256i local[6];
      const __m256i* m = masks[i & 1];
      if (!cached) {
        kxk_masks(local, x * S - pl, g->iw, K, S);
        m = local;
      }
      store_outputs(out + oy * ow + x, kxk_vector(rows, vw, vbias, x * S - pl, m, K, S, true), vmin, vmax, ow - x,
                    g, S == 2);
    }
  }
}

static void generic_row(
    const float* in, const float* w, __m256 vbias, __m256 vmin, __m256 vmax, float* out, ptrdiff_t oy,
    const dw_geometry* g);

// Three passes over the channel: right border, interior, left border. A partial vector's full store spills into
// the start of the next row (or channel), which the interior or left-border pass (or, in the same pass, the next
// row) writes later; see store_outputs.
SPW_INLINE void kxk_channel(
    const float* in, const float* w, float bias, float* out, __m256 vmin, __m256 vmax, const dw_geometry* g,
    const int K, const int S) {
  __m256 vw[25];
  for (int i = 0; i < K * K; i++) vw[i] = _mm256_broadcast_ss(w + i);
  const __m256 vbias = _mm256_set1_ps(bias);
  const ptrdiff_t ow = g->ow, iw = g->iw, pl = g->pl;
  // Vectors [0, x_interior) start left of the input; [x_interior, x_border) load only inside the row.
  ptrdiff_t x_interior = 0;
  while (x_interior < ow && x_interior * S < pl) x_interior += 8;
  ptrdiff_t x_border = x_interior;
  while (x_border + 8 <= ow && x_border * S - pl + (K - 1) + 8 * S <= iw) x_border += 8;

  kxk_border_pass(in, vw, vbias, vmin, vmax, out, x_border, ow, g, K, S);
  for (ptrdiff_t oy = 0; oy < g->oh; oy++) {
    float* out_row = out + oy * ow;
    const float* rows[5];
    if (!kxk_rows(rows, in, oy, g, K, S)) {
      generic_row(in, w, vbias, vmin, vmax, out_row, oy, g);
      continue;
    }
    for (ptrdiff_t x = x_interior; x < x_border; x += 8) {
      store_outputs(out_row + x, kxk_vector(rows, vw, vbias, x * S - pl, NULL, K, S, false), vmin, vmax, 8, g,
                    S == 2);
    }
  }
  kxk_border_pass(in, vw, vbias, vmin, vmax, out, 0, x_interior, g, K, S);
}

static void channel_3x3s1(const float* in, const float* w, float b, float* out, __m256 lo, __m256 hi,
                          const dw_geometry* g) {
  kxk_channel(in, w, b, out, lo, hi, g, 3, 1);
}
static void channel_3x3s2(const float* in, const float* w, float b, float* out, __m256 lo, __m256 hi,
                          const dw_geometry* g) {
  kxk_channel(in, w, b, out, lo, hi, g, 3, 2);
}
static void channel_5x5s1(const float* in, const float* w, float b, float* out, __m256 lo, __m256 hi,
                          const dw_geometry* g) {
  kxk_channel(in, w, b, out, lo, hi, g, 5, 1);
}
static void channel_5x5s2(const float* in, const float* w, float b, float* out, __m256 lo, __m256 hi,
                          const dw_geometry* g) {
  kxk_channel(in, w, b, out, lo, hi, g, 5, 2);
}

// MARK: - Small images, stride 1, input width == output width ("same" padding)

// The channel's output is one flat run of oh*ow positions: for output p = oy*ow + ox, tap (ky, kx) reads input
// p + (ky*dh - pt)*iw + (kx*dw - pl), a contiguous load for a vector of consecutive p, masked in the lanes whose
// tap falls outside the input (another row, or above/below the image). There is no per-row work, which is what
// costs on 7x7 and 14x14 images; the masks depend on the shape only and are built once per call.
#define FLAT_MAX_MASKS 256

SPW_INLINE ptrdiff_t flat_vectors(const dw_geometry* g) { return (g->oh * g->ow + 7) / 8; }

static bool flat_applicable(const dw_geometry* g) {
  return g->sh == 1 && g->sw == 1 && g->iw == g->ow && flat_vectors(g) * g->kh * g->kw <= FLAT_MAX_MASKS;
}

// masks[(v * kh + ky) * kw + kx] for vector v (outputs 8v .. 8v+7).
static void flat_masks(__m256i* masks, const dw_geometry* g) {
  const ptrdiff_t total = g->oh * g->ow;
  for (ptrdiff_t v = 0; v < flat_vectors(g); v++) {
    for (ptrdiff_t ky = 0; ky < g->kh; ky++) {
      for (ptrdiff_t kx = 0; kx < g->kw; kx++) {
        int32_t lanes[8];
        for (ptrdiff_t j = 0; j < 8; j++) {
          const ptrdiff_t p = 8 * v + j, oy = p / g->ow, ox = p % g->ow;
          const ptrdiff_t iy = oy + ky * g->dh - g->pt, ix = ox + kx * g->dw - g->pl;
          lanes[j] = (p < total && iy >= 0 && iy < g->ih && ix >= 0 && ix < g->iw) ? -1 : 0;
        }
        masks[(v * g->kh + ky) * g->kw + kx] = _mm256_loadu_si256((const __m256i*)lanes);
      }
    }
  }
}

// K > 0: a K x K kernel, unrolled; K == 0: any kernel size.
SPW_INLINE void flat_channel(
    const float* in, const float* w, float bias, float* out, __m256 vmin, __m256 vmax, const __m256i* masks,
    const dw_geometry* g, const int K) {
  const ptrdiff_t kh = K ? K : g->kh, kw = K ? K : g->kw;
  const ptrdiff_t total = g->oh * g->ow;
  const ptrdiff_t base = -g->pt * g->iw - g->pl;
  __m256 vw[25];
  if (K) {
    for (int i = 0; i < K * K; i++) vw[i] = _mm256_broadcast_ss(w + i);
  }
  const __m256 vbias = _mm256_set1_ps(bias);
  for (ptrdiff_t p = 0; p < total; p += 8, masks += kh * kw) {
    // One accumulator per kernel row, the first from the bias (as in kxk_vector).
    __m256 acc[5] = {vbias, vbias, vbias, vbias, vbias};
    for (ptrdiff_t ky = 0; ky < kh; ky++) {
      const float* r = in + p + base + ky * g->dh * g->iw;
      __m256 a = ky == 0 ? vbias : _mm256_setzero_ps();
      for (ptrdiff_t kx = 0; kx < kw; kx++) {
        const __m256 x = _mm256_maskload_ps(r + kx * g->dw, masks[ky * kw + kx]);
        a = _mm256_fmadd_ps(x, K ? vw[ky * kw + kx] : _mm256_broadcast_ss(w + ky * kw + kx), a);
      }
      if (K) {
        acc[ky] = a;
      } else {
        acc[0] = ky == 0 ? a : _mm256_add_ps(acc[0], a);
      }
    }
    __m256 sum = acc[0];
    if (K == 3) sum = _mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), acc[2]);
    if (K == 5) sum = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3])), acc[4]);
    store_outputs(out + p, sum, vmin, vmax, total - p, g, false);
  }
}

static void flat_layer(
    const spw_f32_dwconv_params* p, const dw_geometry* g, const float* input, const float* weights,
    const float* bias, float* output, __m256 vmin, __m256 vmax) {
  __m256i masks[FLAT_MAX_MASKS];
  flat_masks(masks, g);
  const size_t in_size = (size_t)(g->ih * g->iw), out_size = (size_t)(g->oh * g->ow);
  const size_t w_size = (size_t)(g->kh * g->kw);
  const int K = g->kh == g->kw && (g->kh == 3 || g->kh == 5) ? (int)g->kh : 0;
  for (size_t c = p->c_begin; c < p->c_end; c++) {
    const float* in = input + c * in_size;
    const float* w = weights + c * w_size;
    const float b = bias != NULL ? bias[c] : 0.0f;
    float* out = output + c * out_size;
    if (K == 3) {
      flat_channel(in, w, b, out, vmin, vmax, masks, g, 3);
    } else if (K == 5) {
      flat_channel(in, w, b, out, vmin, vmax, masks, g, 5);
    } else {
      flat_channel(in, w, b, out, vmin, vmax, masks, g, 0);
    }
  }
}

// MARK: - Generic: any kernel, stride, dilation and padding

static void generic_row(
    const float* in, const float* w, __m256 vbias, __m256 vmin, __m256 vmax, float* out, ptrdiff_t oy,
    const dw_geometry* g) {
  const ptrdiff_t iw = g->iw, ow = g->ow, kw = g->kw, sw = g->sw, dw = g->dw, pl = g->pl;
  const ptrdiff_t iy_base = oy * g->sh - g->pt;
  ptrdiff_t ky_begin, ky_end;
  spw_tap_range(iy_base, g->dh, g->kh, 0, g->ih, &ky_begin, &ky_end);
  // Elements a vector's loads span from its first tap: a contiguous vector, an even/odd pair, or a gather.
  const ptrdiff_t span = (kw - 1) * dw + (sw == 1 ? 8 : sw == 2 ? 16 : 7 * sw + 1);
  const __m256i step_iota = _mm256_mullo_epi32(iota_epi32(), _mm256_set1_epi32((int32_t)sw));
  for (ptrdiff_t x = 0; x < ow; x += 8) {
    const ptrdiff_t base = x * sw - pl;
    const bool masked = !(x + 8 <= ow && base >= 0 && base + span <= iw);
    __m256 acc = vbias;
    for (ptrdiff_t ky = ky_begin; ky < ky_end; ky++) {
      const float* r = in + (iy_base + ky * g->dh) * iw;
      const float* wr = w + ky * kw;
      for (ptrdiff_t kx = 0; kx < kw; kx++) {
        const ptrdiff_t ix = base + kx * dw;
        __m256 v;
        if (sw == 1) {
          v = load_s1(r, ix, iw, masked);
        } else if (sw == 2) {
          __m256 odd;
          load_s2(r, ix, iw, masked, &v, &odd);
        } else {
          // Rare strides: gather; indices are relative to the row so that no pointer leaves it.
          const __m256i index = _mm256_add_epi32(_mm256_set1_epi32((int32_t)ix), step_iota);
          const __m256i mask = lane_mask(ix, step_iota, iw);
          v = _mm256_mask_i32gather_ps(_mm256_setzero_ps(), r, index, _mm256_castsi256_ps(mask), 4);
        }
        acc = _mm256_fmadd_ps(v, _mm256_broadcast_ss(wr + kx), acc);
      }
    }
    store_outputs(out + x, acc, vmin, vmax, ow - x, g, sw == 2);
  }
}

static void generic_channel(const float* in, const float* w, float b, float* out, __m256 lo, __m256 hi,
                            const dw_geometry* g) {
  const __m256 vbias = _mm256_set1_ps(b);
  for (ptrdiff_t oy = 0; oy < g->oh; oy++) generic_row(in, w, vbias, lo, hi, out + oy * g->ow, oy, g);
}

void spw_f32_dwconv_ukernel_1x8__avx2_baseline(
    const spw_f32_dwconv_params* p, const float* input, const float* weights, const float* bias,
    float* output);
void spw_f32_dwconv_ukernel_1x8__avx2_baseline(
    const spw_f32_dwconv_params* p, const float* input, const float* weights, const float* bias,
    float* output) {
  SPW_DEBUG_ASSERT(p->c_begin <= p->c_end && p->c_end <= p->channels);
  SPW_DEBUG_ASSERT(p->stride_h > 0 && p->stride_w > 0 && p->dilation_h > 0 && p->dilation_w > 0);
  const dw_geometry g = {
    .ih = (ptrdiff_t)p->input_height, .iw = (ptrdiff_t)p->input_width,
    .oh = (ptrdiff_t)p->output_height, .ow = (ptrdiff_t)p->output_width,
    .kh = (ptrdiff_t)p->kernel_height, .kw = (ptrdiff_t)p->kernel_width,
    .sh = (ptrdiff_t)p->stride_h, .sw = (ptrdiff_t)p->stride_w,
    .dh = (ptrdiff_t)p->dilation_h, .dw = (ptrdiff_t)p->dilation_w,
    .pt = (ptrdiff_t)p->pad_top, .pl = (ptrdiff_t)p->pad_left,
    .out_end = output + p->c_end * p->output_height * p->output_width,
  };
  const __m256 vmin = _mm256_set1_ps(p->output_min), vmax = _mm256_set1_ps(p->output_max);
  if (flat_applicable(&g)) {
    flat_layer(p, &g, input, weights, bias, output, vmin, vmax);
    return;
  }
  void (*channel)(const float*, const float*, float, float*, __m256, __m256, const dw_geometry*) =
      generic_channel;
  if (g.dh == 1 && g.dw == 1 && g.sh == g.sw && g.sw <= 2 && g.kh == g.kw) {
    if (g.kh == 3) channel = g.sw == 1 ? channel_3x3s1 : channel_3x3s2;
    if (g.kh == 5) channel = g.sw == 1 ? channel_5x5s1 : channel_5x5s2;
  }
  const size_t in_size = p->input_height * p->input_width, out_size = p->output_height * p->output_width;
  const size_t w_size = p->kernel_height * p->kernel_width;
  for (size_t c = p->c_begin; c < p->c_end; c++) {
    channel(input + c * in_size, weights + c * w_size, bias != NULL ? bias[c] : 0.0f, output + c * out_size, vmin,
            vmax, &g);
  }
}

SPW_TARGET_END

#endif  // SPW_ARCH_X86

#endif  // SPW_DWCONV_EXPERIMENTS
