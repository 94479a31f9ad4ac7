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

#ifndef SPW_DW_PAD
#define SPW_DW_PAD 1
#endif
#ifndef SPW_DW_FLAT_FIRST
#define SPW_DW_FLAT_FIRST 1
#endif

#ifndef SPW_DW_EXP_KX
#define SPW_DW_EXP_KX(kx) (kx)
#endif
#define SPW_NOINLINE __attribute__((noinline))
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

// MARK: - Multi-row K x K (3 or 5), stride S (1 or 2), dilation 1

// Output rows per block (R): each input row is loaded once per block and feeds the up to K output rows of the
// block whose windows contain it. Overridable for measurements (CKernels/bench/dwconv_bench.c).
#ifndef SPW_DW_ROWS_3S1
#define SPW_DW_ROWS_3S1 4
#endif
#ifndef SPW_DW_ROWS_3S2
#define SPW_DW_ROWS_3S2 2
#endif
#ifndef SPW_DW_ROWS_5S1
#define SPW_DW_ROWS_5S1 2
#endif
#ifndef SPW_DW_ROWS_5S2
#define SPW_DW_ROWS_5S2 1
#endif

// Partial sums per output row (P): 1 to 3.
#ifndef SPW_DW_SUMS_3S1
#define SPW_DW_SUMS_3S1 1
#endif
#ifndef SPW_DW_SUMS_3S2
#define SPW_DW_SUMS_3S2 1
#endif
#ifndef SPW_DW_SUMS_5S1
#define SPW_DW_SUMS_5S1 1
#endif
#ifndef SPW_DW_SUMS_5S2
#define SPW_DW_SUMS_5S2 1
#endif

#ifndef SPW_DW_BORDER_SUMS
#define SPW_DW_BORDER_SUMS 3
#endif

// Input rows above or below the image read this instead: w * 0 adds nothing (for finite weights), so top and
// bottom blocks run the same code as the others. Images wider than MR_ZERO_ROW_WIDTH take the generic row there.
#define MR_ZERO_ROW_FLOATS 1024
#define MR_ZERO_ROW_WIDTH (MR_ZERO_ROW_FLOATS - 32)
static const float k_zero_row[MR_ZERO_ROW_FLOATS];

#define MR_MAX_BORDER 4

// A vector of output columns whose loads reach outside the row: its load masks (kxk_masks layout) depend on the
// column only and are built once per call.
typedef struct mr_border {
  ptrdiff_t x;      // first output column
  ptrdiff_t count;  // columns stored: 8, or the output width when it is less than 8
  unsigned partial;  // bit m set when masks[m] is not all-ones: only those loads are masked
  __m256i masks[6];
} mr_border;

// The vectors of one output row: border[0 .. left) start left of the input; [x_lo, x_hi) step 8 load only
// inside the row (no masks); border[left .. count) end right of it. When the width is not a multiple of 8 the
// last vector starts at ow - 8 and overlaps its neighbour (recomputing a few outputs costs less than a partial
// store), so every store is a full, in-row store unless the row is narrower than 8.
typedef struct mr_layout {
  ptrdiff_t x_lo, x_hi, left, count;
  mr_border border[MR_MAX_BORDER];
} mr_layout;

// Masks of the loads of a vector starting at input column `base`: for stride 1, masks[kx] covers
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

static bool mr_add_border(mr_layout* l, ptrdiff_t x, ptrdiff_t count, const dw_geometry* g) {
  if (l->count == MR_MAX_BORDER) return false;
  mr_border* b = &l->border[l->count++];
  b->x = x;
  b->count = count;
  kxk_masks(b->masks, x * g->sw - g->pl, g->iw, (int)g->kw, (int)g->sw);
  b->partial = 0;
  for (int m = 0; m < (g->sw == 1 ? (int)g->kw : (int)g->kw + 1); m++) {
    if (_mm256_movemask_ps(_mm256_castsi256_ps(b->masks[m])) != 0xFF) b->partial |= 1u << m;
  }
  return true;
}

// False when the row has more border vectors than MR_MAX_BORDER (padding far beyond the kernel).
static bool mr_plan(mr_layout* l, const dw_geometry* g) {
  const ptrdiff_t ow = g->ow, iw = g->iw, S = g->sw, pl = g->pl;
  // Elements a vector's loads cover from its first column: 8, or two halves of 8 for stride 2, plus K - 1.
  const ptrdiff_t span = 8 * S + g->kw - 1;
  l->count = 0;
  if (ow < 8) {
    l->x_lo = l->x_hi = l->left = 0;
    return mr_add_border(l, 0, ow, g);
  }
  l->x_lo = 0;
  if (pl > 0) {
    if (pl > 8 * S) return false;
    mr_add_border(l, 0, 8, g);
    l->x_lo = 8;
  }
  l->left = l->count;
  l->x_hi = l->x_lo;
  while (l->x_hi + 8 <= ow && l->x_hi * S - pl + span <= iw) l->x_hi += 8;
  for (ptrdiff_t x = spw_max_ptrdiff(l->x_hi, l->x_lo); x + 8 <= ow; x += 8) {
    if (!mr_add_border(l, x, 8, g)) return false;
  }
  if (ow % 8 != 0 && !mr_add_border(l, ow - 8, 8, g)) return false;
  return true;
}

// Adds to the partial sums acc[j][p] of output row j of the block (j < R; p = ky % P) the taps of the
// NR = (R - 1) * S + K input rows `rows` for the 8 outputs whose windows start at input column `base`. Each input
// vector is loaded (and for stride 2 deinterleaved) once and used by every output row whose window contains its
// row. P > 1 splits each row's chain of K*K dependent FMAs.
SPW_INLINE void mr_vector(
    __m256 (*acc)[3], const float* const* rows, ptrdiff_t base, const __m256* vw, const __m256i* masks,
    unsigned partial, const int K, const int S, const int R, const int P, const bool masked) {
  const int NR = (R - 1) * S + K;
  for (int i = 0; i < NR; i++) {
    const float* r = rows[i] + base;
    if (S == 1) {
      for (int kx = 0; kx < K; kx++) {
        const __m256 v = masked && (partial >> kx & 1) ? _mm256_maskload_ps(r + kx, masks[kx]) : _mm256_loadu_ps(r + kx);
        for (int j = 0; j < R; j++) {
          const int ky = i - j;
          if (ky >= 0 && ky < K) acc[j][ky % P] = _mm256_fmadd_ps(v, vw[ky * K + kx], acc[j][ky % P]);
        }
      }
    } else {
      for (int kx = 0; kx < K; kx += 2) {
        const __m256 lo = masked && (partial >> kx & 1) ? _mm256_maskload_ps(r + kx, masks[kx]) : _mm256_loadu_ps(r + kx);
        const __m256 hi = masked && (partial >> (kx + 1) & 1) ? _mm256_maskload_ps(r + kx + 8, masks[kx + 1])
                                                              : _mm256_loadu_ps(r + kx + 8);
        const __m256 even = _mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(2, 0, 2, 0));
        for (int j = 0; j < R; j++) {
          const int ky = i - 2 * j;
          if (ky >= 0 && ky < K) acc[j][ky % P] = _mm256_fmadd_ps(even, vw[ky * K + kx], acc[j][ky % P]);
        }
        if (kx + 1 < K) {
          const __m256 odd = _mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(3, 1, 3, 1));
          for (int j = 0; j < R; j++) {
            const int ky = i - 2 * j;
            if (ky >= 0 && ky < K) acc[j][ky % P] = _mm256_fmadd_ps(odd, vw[ky * K + kx + 1], acc[j][ky % P]);
          }
        }
      }
    }
  }
}

SPW_INLINE void mr_init(__m256 (*acc)[3], __m256 vbias, const int R, const int P) {
  for (int j = 0; j < R; j++) {
    acc[j][0] = vbias;
    for (int p = 1; p < P; p++) acc[j][p] = _mm256_setzero_ps();
  }
}

// Sums the partial sums of a row, clamps and stores `count` outputs (all 8 unless the row is narrower), in order
// for stride 2.
SPW_INLINE void mr_store(
    float* out, const __m256* acc, __m256 vmin, __m256 vmax, ptrdiff_t count, const int S, const int P) {
  __m256 sum = acc[0];
  if (P >= 2) sum = _mm256_add_ps(sum, acc[1]);
  if (P >= 3) sum = _mm256_add_ps(sum, acc[2]);
  if (S == 2) sum = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(sum), _MM_SHUFFLE(3, 1, 2, 0)));
  sum = _mm256_min_ps(vmax, _mm256_max_ps(vmin, sum));
  if (SPW_LIKELY(count >= 8)) {
    _mm256_storeu_ps(out, sum);
  } else {
    spw_avx2_store_partial(out, sum, count);
  }
}

// What the row code of a channel needs besides the input rows. The hot loops live in small non-inlined functions
// (mr_interior, mr_border) so that the register allocator sees only their own state: inlined into the channel
// loop, the weights were spilled and reloaded in the inner loop (measured ~25% slower).
typedef struct mr_channel_args {
  const float* weights;  // K*K, row-major
  float bias, output_min, output_max;
  ptrdiff_t ow, pl;
} mr_channel_args;

// Interior vectors [x_lo, x_hi) of R output rows; `out` is the first row.
SPW_INLINE void mr_interior(const float* const* rows, float* out, const mr_channel_args* a, ptrdiff_t x_lo,
                            ptrdiff_t x_hi, const int K, const int S, const int R, const int P) {
  __m256 vw[25];
  for (int i = 0; i < K * K; i++) vw[i] = _mm256_broadcast_ss(a->weights + i);
  const __m256 vbias = _mm256_set1_ps(a->bias);
  const __m256 vmin = _mm256_set1_ps(a->output_min), vmax = _mm256_set1_ps(a->output_max);
  const ptrdiff_t ow = a->ow, pl = a->pl;
  for (ptrdiff_t x = x_lo; x < x_hi; x += 8) {
    __m256 acc[4][3];
    mr_init(acc, vbias, R, P);
    mr_vector(acc, rows, x * S - pl, vw, NULL, 0, K, S, R, P, false);
    for (int j = 0; j < R; j++) mr_store(out + j * ow + x, acc[j], vmin, vmax, 8, S, P);
  }
}

// Border vectors [begin, end) of R output rows, one output row at a time with P partial sums: a block has only
// one or two border vectors per side, too few for the out-of-order core to overlap the K*K-long dependency chains
// of different vectors as it does in the interior loop, so each row's chain is split instead (and the masks and
// weights then fit in registers).
SPW_INLINE void mr_border_vectors(const float* const* rows, float* out, const mr_channel_args* a,
                                  const mr_border* begin, const mr_border* end, const int K, const int S,
                                  const int R, const int P) {
  __m256 vw[25];
  for (int i = 0; i < K * K; i++) vw[i] = _mm256_broadcast_ss(a->weights + i);
  const __m256 vbias = _mm256_set1_ps(a->bias);
  const __m256 vmin = _mm256_set1_ps(a->output_min), vmax = _mm256_set1_ps(a->output_max);
  const ptrdiff_t ow = a->ow, pl = a->pl;
  for (const mr_border* b = begin; b < end; b++) {
    for (int j = 0; j < R; j++) {
      __m256 acc[1][3];
      mr_init(acc, vbias, 1, P);
      mr_vector(acc, rows + j * S, b->x * S - pl, vw, b->masks, b->partial, K, S, 1, P, true);
      mr_store(out + j * ow + b->x, acc[0], vmin, vmax, b->count, S, P);
    }
  }
}

typedef void mr_interior_fn(const float* const* rows, float* out, const mr_channel_args* a, ptrdiff_t x_lo,
                            ptrdiff_t x_hi);
typedef void mr_border_fn(const float* const* rows, float* out, const mr_channel_args* a, const mr_border* begin,
                          const mr_border* end);

// Output rows [oy, oy + R) of a channel; `out` is output row oy.
SPW_INLINE void mr_block(const float* const* rows, float* out, const mr_layout* l, const mr_channel_args* a,
                         mr_interior_fn* interior, mr_border_fn* border) {
  if (l->left > 0) border(rows, out, a, l->border, l->border + l->left);
  if (l->x_lo < l->x_hi) interior(rows, out, a, l->x_lo, l->x_hi);
  if (l->count > l->left) border(rows, out, a, l->border + l->left, l->border + l->count);
}

// The NR input rows from input row iy; rows outside the image read the zero row. False when one is outside and
// the image is too wide for the zero row.
SPW_INLINE bool mr_rows(const float** rows, const float* in, ptrdiff_t iy, const dw_geometry* g, const int NR) {
  if (SPW_LIKELY(iy >= 0 && iy + NR <= g->ih)) {
    for (int i = 0; i < NR; i++) rows[i] = in + (iy + i) * g->iw;
    return true;
  }
  if (g->iw > MR_ZERO_ROW_WIDTH) return false;
  for (int i = 0; i < NR; i++) rows[i] = iy + i >= 0 && iy + i < g->ih ? in + (iy + i) * g->iw : k_zero_row;
  return true;
}

static void generic_row(
    const float* in, const float* w, __m256 vbias, __m256 vmin, __m256 vmax, float* out, ptrdiff_t oy,
    const dw_geometry* g);

// Blocks of R output rows, then single rows for the rest.
SPW_INLINE void mr_channel(
    const float* in, const float* w, float bias, float* out, const spw_f32_dwconv_params* p, const dw_geometry* g,
    const mr_layout* l, const int K, const int S, const int R, mr_interior_fn* interior_r, mr_border_fn* border_r,
    mr_interior_fn* interior_1, mr_border_fn* border_1) {
  const mr_channel_args a = {
    .weights = w, .bias = bias, .output_min = p->output_min, .output_max = p->output_max, .ow = g->ow, .pl = g->pl};
  const ptrdiff_t oh = g->oh, ow = g->ow;
  ptrdiff_t oy = 0;
  for (; oy + R <= oh; oy += R) {
    const float* rows[(4 - 1) * 2 + 5];
    if (SPW_LIKELY(mr_rows(rows, in, oy * S - g->pt, g, (R - 1) * S + K))) {
      mr_block(rows, out + oy * ow, l, &a, interior_r, border_r);
    } else {
      for (int j = 0; j < R; j++) {
        generic_row(in, w, _mm256_set1_ps(bias), _mm256_set1_ps(p->output_min), _mm256_set1_ps(p->output_max),
                    out + (oy + j) * ow, oy + j, g);
      }
    }
  }
  for (; oy < oh; oy++) {
    const float* rows[5];
    if (mr_rows(rows, in, oy * S - g->pt, g, K)) {
      mr_block(rows, out + oy * ow, l, &a, interior_1, border_1);
    } else {
      generic_row(in, w, _mm256_set1_ps(bias), _mm256_set1_ps(p->output_min), _mm256_set1_ps(p->output_max),
                  out + oy * ow, oy, g);
    }
  }
}

typedef void mr_channel_fn(const float* in, const float* w, float bias, float* out, const spw_f32_dwconv_params* p,
                           const dw_geometry* g, const mr_layout* l);

// The non-inlined row functions of one (K, S, R, P) and the channel function of one (K, S).
#define MR_ROWS(K, S, R, P) MR_ROWS_(K, S, R, P)
#define MR_ROWS_(K, S, R, P)                                                                                    \
  static SPW_NOINLINE void mr_interior_##K##s##S##r##R(const float* const* rows, float* out,                   \
                                                        const mr_channel_args* a, ptrdiff_t x_lo, ptrdiff_t x_hi) { \
    mr_interior(rows, out, a, x_lo, x_hi, K, S, R, P);                                                          \
  }                                                                                                             \
  static SPW_NOINLINE void mr_border_##K##s##S##r##R(const float* const* rows, float* out,                     \
                                                      const mr_channel_args* a, const mr_border* begin,         \
                                                      const mr_border* end) {                                   \
    mr_border_vectors(rows, out, a, begin, end, K, S, R, SPW_DW_BORDER_SUMS);                                                    \
  }
#define MR_CHANNEL(K, S, R) MR_CHANNEL_(K, S, R)
#define MR_CHANNEL_(K, S, R)                                                                                    \
  static void mr_channel_##K##x##K##s##S(const float* in, const float* w, float bias, float* out,              \
                                          const spw_f32_dwconv_params* p, const dw_geometry* g,                 \
                                          const mr_layout* l) {                                                 \
    mr_channel(in, w, bias, out, p, g, l, K, S, R, mr_interior_##K##s##S##r##R, mr_border_##K##s##S##r##R,      \
               mr_interior_##K##s##S##r1, mr_border_##K##s##S##r1);                                             \
  }

MR_ROWS(3, 1, 1, SPW_DW_SUMS_3S1)
MR_ROWS(3, 2, 1, SPW_DW_SUMS_3S2)
MR_ROWS(5, 1, 1, SPW_DW_SUMS_5S1)
MR_ROWS(5, 2, 1, SPW_DW_SUMS_5S2)
#if SPW_DW_ROWS_3S1 > 1
MR_ROWS(3, 1, SPW_DW_ROWS_3S1, SPW_DW_SUMS_3S1)
#endif
#if SPW_DW_ROWS_3S2 > 1
MR_ROWS(3, 2, SPW_DW_ROWS_3S2, SPW_DW_SUMS_3S2)
#endif
#if SPW_DW_ROWS_5S1 > 1
MR_ROWS(5, 1, SPW_DW_ROWS_5S1, SPW_DW_SUMS_5S1)
#endif
#if SPW_DW_ROWS_5S2 > 1
MR_ROWS(5, 2, SPW_DW_ROWS_5S2, SPW_DW_SUMS_5S2)
#endif
MR_CHANNEL(3, 1, SPW_DW_ROWS_3S1)
MR_CHANNEL(3, 2, SPW_DW_ROWS_3S2)
MR_CHANNEL(5, 1, SPW_DW_ROWS_5S1)
MR_CHANNEL(5, 2, SPW_DW_ROWS_5S2)

// The multi-row kernel for this shape, or NULL.
static mr_channel_fn* mr_select(const dw_geometry* g) {
  if (g->dh != 1 || g->dw != 1 || g->sh != g->sw || g->sw > 2 || g->kh != g->kw) return NULL;
  if (g->kh == 3) return g->sw == 1 ? mr_channel_3x3s1 : mr_channel_3x3s2;
  if (g->kh == 5) return g->sw == 1 ? mr_channel_5x5s1 : mr_channel_5x5s2;
  return NULL;
}

// MARK: - Narrow images: each channel copied into a zero-padded buffer

// Images whose output rows are at most this wide (7, 14 and 28 in MobileNets) are mostly border: every vector
// of a 14-wide row is a border vector. Copying the channel into a buffer with zero padding around it (about one
// load and one store per 8 inputs) lets every output vector run the unmasked interior code, rows above and below
// included.
#ifndef SPW_DW_PAD_MAX_WIDTH
#define SPW_DW_PAD_MAX_WIDTH 32
#endif
#define PAD_MAX_FLOATS 2048

typedef struct pad_plan {
  ptrdiff_t hp, wp;  // rows and row stride of the padded image; padded (r, c) is input (r - pad_top, c - pad_left)
  ptrdiff_t copy_rows, copy_cols;  // input rows [0, copy_rows) and columns [0, copy_cols) are copied
  mr_layout l;  // the vectors of an output row in the padded image: interior, then the last one (no masks)
} pad_plan;

static bool pad_make_plan(pad_plan* pp, const dw_geometry* g) {
  const ptrdiff_t K = g->kw, S = g->sw, ow = g->ow;
  if (ow > SPW_DW_PAD_MAX_WIDTH) return false;
  pp->hp = (g->oh - 1) * S + K;
  // The loads of the vector at output column x cover padded columns [x*S, x*S + 8*S + K - 1); the last vector
  // starts below ceil8(ow), so this width keeps every load inside its row. pad_left + 8: see pad_copy.
  const ptrdiff_t needed = spw_max_ptrdiff((ow + 7) / 8 * 8 * S + K - 1, g->pl + 8);
  pp->wp = (needed + 7) / 8 * 8;
  if (pp->hp * pp->wp > PAD_MAX_FLOATS) return false;
  pp->copy_rows = spw_max_ptrdiff(0, spw_min_ptrdiff(g->ih, pp->hp - g->pt));
  pp->copy_cols = spw_max_ptrdiff(0, spw_min_ptrdiff(g->iw, pp->wp - g->pl));
  mr_layout* l = &pp->l;
  l->x_lo = 0;
  l->x_hi = ow / 8 * 8;
  l->left = 0;
  l->count = 0;
  if (ow % 8 != 0) {
    mr_border* b = &l->border[l->count++];
    b->x = ow >= 8 ? ow - 8 : 0;
    b->count = spw_min_ptrdiff(ow, 8);
    b->partial = 0;
  }
  return true;
}

// Copies the input rows into the padded buffer, whose other elements are zero and stay so: a row shorter than 8
// is copied with one masked load whose zero lanes land on padding columns (pad_left + 8 <= wp).
SPW_INLINE void pad_copy(float* buffer, const float* in, const pad_plan* pp, const dw_geometry* g) {
  const ptrdiff_t n = pp->copy_cols, iw = g->iw;
  float* dst = buffer + g->pt * pp->wp + g->pl;
  if (n >= 8) {
    for (ptrdiff_t r = 0; r < pp->copy_rows; r++, dst += pp->wp, in += iw) {
      ptrdiff_t c = 0;
      for (; c + 8 <= n; c += 8) _mm256_storeu_ps(dst + c, _mm256_loadu_ps(in + c));
      if (c < n) _mm256_storeu_ps(dst + n - 8, _mm256_loadu_ps(in + n - 8));
    }
  } else {
    const __m256i mask = lane_mask(0, iota_epi32(), n);
    for (ptrdiff_t r = 0; r < pp->copy_rows; r++, dst += pp->wp, in += iw) {
      _mm256_storeu_ps(dst, _mm256_maskload_ps(in, mask));
    }
  }
}

// Stores R rows of one vector of the padded path: full stores, except when the output is narrower than 8: then
// a full store spills into the start of the next row (or channel), which is written later (rows and channels go
// in increasing order), and only a store that would pass `out_end` is partial.
SPW_INLINE void pad_store(float* out, __m256 (*acc)[3], __m256 vmin, __m256 vmax, ptrdiff_t ow, const float* out_end,
                          const int S, const int R, const int P, const bool narrow) {
  for (int j = 0; j < R; j++) {
    if (!narrow) {
      mr_store(out + j * ow, acc[j], vmin, vmax, 8, S, P);
    } else {
      __m256 sum = acc[j][0];
      if (P >= 2) sum = _mm256_add_ps(sum, acc[j][1]);
      if (P >= 3) sum = _mm256_add_ps(sum, acc[j][2]);
      if (S == 2) sum = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(sum), _MM_SHUFFLE(3, 1, 2, 0)));
      sum = _mm256_min_ps(vmax, _mm256_max_ps(vmin, sum));
      spw_avx2_store(out + j * ow, sum, ow, out_end - (out + j * ow));
    }
  }
}

// R output rows from padded row oy*S: vectors [0, x_hi), then the last one (at ow - 8, or a narrow one at 0).
SPW_INLINE void pad_rows(const float* buffer, ptrdiff_t wp, float* out, ptrdiff_t oy, ptrdiff_t ow, ptrdiff_t x_hi,
                         ptrdiff_t x_last, const __m256* vw, __m256 vbias, __m256 vmin, __m256 vmax,
                         const float* out_end, const int K, const int S, const int R, const int P) {
  const float* rows[(8 - 1) * 2 + 5];
  for (int i = 0; i < (R - 1) * S + K; i++) rows[i] = buffer + (oy * S + i) * wp;
  float* out_row = out + oy * ow;
  for (ptrdiff_t x = 0; x < x_hi; x += 8) {
    __m256 acc[8][3];
    mr_init(acc, vbias, R, P);
    mr_vector(acc, rows, x * S, vw, NULL, 0, K, S, R, P, false);
    pad_store(out_row + x, acc, vmin, vmax, ow, out_end, S, R, P, false);
  }
  if (x_last >= 0) {
    __m256 acc[8][3];
    mr_init(acc, vbias, R, P);
    mr_vector(acc, rows, x_last * S, vw, NULL, 0, K, S, R, P, false);
    pad_store(out_row + x_last, acc, vmin, vmax, ow, out_end, S, R, P, ow < 8);
  }
}

// One channel from its padded copy: blocks of R output rows, then single rows. The weights are broadcast once per
// channel (small images have few vectors per channel).
SPW_INLINE void pad_compute(const float* buffer, ptrdiff_t wp, float* out, const mr_channel_args* a, ptrdiff_t oh,
                            const float* out_end, const int K, const int S, const int R, const int P) {
  __m256 vw[25];
  for (int i = 0; i < K * K; i++) vw[i] = _mm256_broadcast_ss(a->weights + i);
  const __m256 vbias = _mm256_set1_ps(a->bias);
  const __m256 vmin = _mm256_set1_ps(a->output_min), vmax = _mm256_set1_ps(a->output_max);
  const ptrdiff_t ow = a->ow, x_hi = ow / 8 * 8, x_last = ow % 8 == 0 ? -1 : ow >= 8 ? ow - 8 : 0;
  ptrdiff_t oy = 0;
  for (; oy + R <= oh; oy += R) {
    pad_rows(buffer, wp, out, oy, ow, x_hi, x_last, vw, vbias, vmin, vmax, out_end, K, S, R, P);
  }
  // Single rows: split each row's chain so that the rows of one vector can overlap.
  for (; oy < oh; oy++) pad_rows(buffer, wp, out, oy, ow, x_hi, x_last, vw, vbias, vmin, vmax, out_end, K, S, 1, 3);
}

typedef void pad_compute_fn(const float* buffer, ptrdiff_t wp, float* out, const mr_channel_args* a, ptrdiff_t oh,
                            const float* out_end);

#define PAD_COMPUTE(K, S, R, P) PAD_COMPUTE_(K, S, R, P)
#define PAD_COMPUTE_(K, S, R, P)                                                                                \
  static SPW_NOINLINE void pad_compute_##K##x##K##s##S(const float* buffer, ptrdiff_t wp, float* out,          \
                                                        const mr_channel_args* a, ptrdiff_t oh,                 \
                                                        const float* out_end) {                                 \
    pad_compute(buffer, wp, out, a, oh, out_end, K, S, R, P);                                                   \
  }
#ifndef SPW_DW_PAD_ROWS_3S1
#define SPW_DW_PAD_ROWS_3S1 7
#endif
#ifndef SPW_DW_PAD_ROWS_3S2
#define SPW_DW_PAD_ROWS_3S2 7
#endif
#ifndef SPW_DW_PAD_ROWS_5S1
#define SPW_DW_PAD_ROWS_5S1 7
#endif
#ifndef SPW_DW_PAD_ROWS_5S2
#define SPW_DW_PAD_ROWS_5S2 7
#endif
PAD_COMPUTE(3, 1, SPW_DW_PAD_ROWS_3S1, 1)
PAD_COMPUTE(3, 2, SPW_DW_PAD_ROWS_3S2, 1)
PAD_COMPUTE(5, 1, SPW_DW_PAD_ROWS_5S1, 1)
PAD_COMPUTE(5, 2, SPW_DW_PAD_ROWS_5S2, 1)

// The padded kernel for a shape mr_select accepts.
static pad_compute_fn* pad_select(const dw_geometry* g) {
  if (g->kh == 3) return g->sw == 1 ? pad_compute_3x3s1 : pad_compute_3x3s2;
  return g->sw == 1 ? pad_compute_5x5s1 : pad_compute_5x5s2;
}

// Not inlined: the buffers are on the stack only while this path runs. Two buffers: the next channel is copied
// while the current one is computed, so that no load reads data still in the store queue (a load that overlaps
// a pending store only in part cannot be forwarded and waits for the store to commit).
static SPW_NOINLINE void pad_layer(
    const spw_f32_dwconv_params* p, const dw_geometry* g, const pad_plan* pp, const float* input,
    const float* weights, const float* bias, float* output) {
  float buffers[2][PAD_MAX_FLOATS] __attribute__((aligned(32)));
  const ptrdiff_t used = pp->hp * pp->wp;
  for (ptrdiff_t i = 0; i < used; i += 8) {
    _mm256_store_ps(buffers[0] + i, _mm256_setzero_ps());
    _mm256_store_ps(buffers[1] + i, _mm256_setzero_ps());
  }
  pad_compute_fn* compute = pad_select(g);
  const size_t in_size = p->input_height * p->input_width, out_size = p->output_height * p->output_width;
  const size_t w_size = p->kernel_height * p->kernel_width;
  if (p->c_begin < p->c_end) pad_copy(buffers[0], input + p->c_begin * in_size, pp, g);
  for (size_t c = p->c_begin; c < p->c_end; c++) {
    const size_t k = c - p->c_begin;
    if (c + 1 < p->c_end) pad_copy(buffers[(k + 1) & 1], input + (c + 1) * in_size, pp, g);
    const mr_channel_args a = {.weights = weights + c * w_size, .bias = bias != NULL ? bias[c] : 0.0f,
                               .output_min = p->output_min, .output_max = p->output_max, .ow = g->ow, .pl = 0};
    compute(buffers[k & 1], pp->wp, output + c * out_size, &a, g->oh, g->out_end);
  }
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

void spw_f32_dwconv_ukernel_1x8__avx2(
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
  mr_layout layout;
  pad_plan padded;
  mr_channel_fn* multirow = mr_select(&g);
  if (multirow != NULL && SPW_DW_PAD && pad_make_plan(&padded, &g)) {
    pad_layer(p, &g, &padded, input, weights, bias, output);
    return;
  }
  if (multirow != NULL && !(SPW_DW_FLAT_FIRST && flat_applicable(&g)) && mr_plan(&layout, &g)) {
    const size_t in_size = p->input_height * p->input_width, out_size = p->output_height * p->output_width;
    const size_t w_size = p->kernel_height * p->kernel_width;
    for (size_t c = p->c_begin; c < p->c_end; c++) {
      multirow(input + c * in_size, weights + c * w_size, bias != NULL ? bias[c] : 0.0f, output + c * out_size,
               p, &g, &layout);
    }
    return;
  }
  if (flat_applicable(&g)) {
    flat_layer(p, &g, input, weights, bias, output, vmin, vmax);
    return;
  }
  const size_t in_size = p->input_height * p->input_width, out_size = p->output_height * p->output_width;
  const size_t w_size = p->kernel_height * p->kernel_width;
  for (size_t c = p->c_begin; c < p->c_end; c++) {
    generic_channel(input + c * in_size, weights + c * w_size, bias != NULL ? bias[c] : 0.0f,
                    output + c * out_size, vmin, vmax, &g);
  }
}

SPW_TARGET_END

#endif  // SPW_ARCH_X86
