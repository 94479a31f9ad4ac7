// Depthwise convolution, AVX2+FMA, one channel at a time from a ring of zero-padded copies of the input rows:
// 8 outputs of a row per vector, R output rows per block (4 for 3x3 stride 1). Part of
// spw_f32_dwconv_ukernel_1x8__avx2; f32-dwconv-1x8-avx2.c says when it runs.
//
// Why a ring: a kernel that reads the input rows in place needs masked loads wherever a vector's window reaches
// past the row (the first and the last vector of a row, and every vector of a row narrower than 16), and those
// border vectors cost two to three interior ones (measured: masks held in registers, and too few of them to
// overlap their dependency chains); a 56-wide row has two in seven. Copying each input row once into a ring row
// with zero padding around it (one load and one store per 8 inputs) makes every vector an interior one, and input
// rows above and below the image read the zero row. The rows the next block needs are copied before the current
// block is computed, and the first rows of the next channel while the last rows of this one are, so that no load
// reads data still in the store queue (a load that overlaps a pending store only in part cannot be forwarded and
// waits for the store to commit).
//
// Blocks of R output rows: each ring row is loaded once per block and used by every output row of the block whose
// window covers it (R = 4, 3x3, stride 1: 6 rows x 3 taps loaded for 36 FMAs). An output row's sum is one chain of
// K*K FMAs; with several rows per vector and many vectors per row the out-of-order core overlaps the chains of
// consecutive vectors (splitting them cost registers and measured no faster: R = 4 beat R = 2, 3 and R = 4 with two
// sums per row on 112-, 56- and 28-wide rows). The rows left over (oh % R) run one at a time, their chain split
// three ways. The hot loops are in non-inlined functions per (K, S, R) so that the register allocator sees only
// their own state (inlined into the channel loop, the weights were spilled and reloaded in the inner loop).
//
// Stride 2 splits 16 consecutive inputs into even and odd elements with one shufps each, which leaves the outputs
// in the order 0 1 4 5 2 3 6 7; every tap has the same order and the weights are broadcast, so the sum is put back
// in order once, before the store.
#include "../kernels.h"

#if SPW_ARCH_X86
#include <immintrin.h>

SPW_TARGET_BEGIN_AVX2

#include "../x86-avx2.h"
#include "f32-dwconv-avx2.h"

#define RING_FLOATS 3072  // floats per ring; two rings (this channel's and the next one's) on the stack: 24 KiB
#define RING_ROWS(K, S, R) (((R)-1) * (S) + (K) + (R) * (S))  // the rows of a block and of the next one

// Clang turns the row copy loop into a memmove call unless told not to; the libc call cost a third of the run time
// on 112-wide stride-2 rows in one measurement (and about nothing in another): keep the loop.
#if defined(__clang__)
#define RING_NO_MEMCPY __attribute__((no_builtin("memcpy", "memmove")))
#else
#define RING_NO_MEMCPY __attribute__((optimize("no-tree-loop-distribute-patterns")))
#endif

typedef struct ring_plan {
  ptrdiff_t wp;         // floats per ring row; ring column c holds input column c - pad_left
  ptrdiff_t copy_cols;  // input columns [0, copy_cols) that some output reads
  ptrdiff_t x_full;     // vectors at output columns [0, x_full) step 8, then
  ptrdiff_t x_last;     // one at x_last: ow - 8 (overlapping its neighbour), 0 when ow < 8, or none (< 0)
} ring_plan;

static bool ring_make_plan(ring_plan* c, const spw_dw_geometry* g, ptrdiff_t ring_rows) {
  const ptrdiff_t K = g->kw, S = g->sw, ow = g->ow;
  // The last vector's loads end at ring column max(ow, 8) * S + K - 2.
  const ptrdiff_t reach = spw_max_ptrdiff(ow, 8) * S + K - 1;
  c->copy_cols = spw_max_ptrdiff(0, spw_min_ptrdiff(g->iw, reach - g->pl));
  // A row narrower than 8 is copied as one 8-float block whose extra lanes are zero (see ring_copy_row).
  const ptrdiff_t wp = spw_max_ptrdiff(reach, g->pl + spw_max_ptrdiff(c->copy_cols, 8));
  c->wp = (wp + 7) / 8 * 8;
  c->x_full = ow / 8 * 8;
  c->x_last = ow % 8 == 0 ? -1 : ow >= 8 ? ow - 8 : 0;
  return c->wp <= SPW_DW_ZERO_ROW_FLOATS - 32 && c->wp * ring_rows <= RING_FLOATS;
}

// Input row `src` into ring row `slot`: columns [pad_left, pad_left + copy_cols); the ring's other columns are
// zero and stay so.
static SPW_NOINLINE RING_NO_MEMCPY void ring_copy_row(float* slot, const float* src, const ring_plan* c,
                                                       ptrdiff_t pl) {
  const ptrdiff_t n = c->copy_cols;
  float* dst = slot + pl;
  if (n >= 8) {
    ptrdiff_t x = 0;
    for (; x + 8 <= n; x += 8) _mm256_storeu_ps(dst + x, _mm256_loadu_ps(src + x));
    if (x < n) _mm256_storeu_ps(dst + n - 8, _mm256_loadu_ps(src + n - 8));
  } else {
    _mm256_storeu_ps(dst, _mm256_maskload_ps(src, spw_avx2_lane_mask(0, spw_avx2_iota(), n)));
  }
}

// Copies the ring rows [*produced, limit) that hold input rows (ring row r is input row r - pad_top).
SPW_INLINE void ring_produce(float* ring, ptrdiff_t* produced, ptrdiff_t limit, const float* in, const ring_plan* c,
                             const spw_dw_geometry* g, const ptrdiff_t ring_rows) {
  for (ptrdiff_t r = *produced; r < limit; r++) {
    const ptrdiff_t iy = r - g->pt;
    if (iy >= 0 && iy < g->ih) ring_copy_row(ring + (r % ring_rows) * c->wp, in + iy * g->iw, c, g->pl);
  }
  if (limit > *produced) *produced = limit;
}

SPW_INLINE const float* ring_row(const float* ring, ptrdiff_t r, const ring_plan* c, const spw_dw_geometry* g,
                                 const ptrdiff_t ring_rows) {
  const ptrdiff_t iy = r - g->pt;
  return iy >= 0 && iy < g->ih ? ring + (r % ring_rows) * c->wp : spw_dw_zero_row;
}

// Adds to acc[j][ky % P] (output row j of the block, j < R) the taps of the NR = (R - 1) * S + K rows `rows` for
// the 8 outputs whose windows start at ring column `base`. Each input vector is loaded (and for stride 2
// deinterleaved) once and used by every output row whose window covers its row.
SPW_INLINE void ring_vector(__m256 (*acc)[3], const float* const* rows, ptrdiff_t base, const __m256* vw,
                            const int K, const int S, const int R, const int P) {
  const int NR = (R - 1) * S + K;
  for (int i = 0; i < NR; i++) {
    const float* r = rows[i] + base;
    if (S == 1) {
      for (int kx = 0; kx < K; kx++) {
        const __m256 v = _mm256_loadu_ps(r + kx);
        for (int j = 0; j < R; j++) {
          const int ky = i - j;
          if (ky >= 0 && ky < K) acc[j][ky % P] = _mm256_fmadd_ps(v, vw[ky * K + kx], acc[j][ky % P]);
        }
      }
    } else {
      for (int kx = 0; kx < K; kx += 2) {
        const __m256 lo = _mm256_loadu_ps(r + kx), hi = _mm256_loadu_ps(r + kx + 8);
        const __m256 even = _mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(2, 0, 2, 0));
        const __m256 odd = _mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(3, 1, 3, 1));
        for (int j = 0; j < R; j++) {
          const int ky = i - 2 * j;
          if (ky < 0 || ky >= K) continue;
          acc[j][ky % P] = _mm256_fmadd_ps(even, vw[ky * K + kx], acc[j][ky % P]);
          if (kx + 1 < K) acc[j][ky % P] = _mm256_fmadd_ps(odd, vw[ky * K + kx + 1], acc[j][ky % P]);
        }
      }
    }
  }
}

// Sums, reorders (stride 2), clamps and stores the R rows of one vector. Rows narrower than 8: a full store spills
// into the start of the next row (or channel), which is written later (rows and channels go in increasing order);
// only a store that would pass out_end is partial.
SPW_INLINE void ring_store(float* out, ptrdiff_t ow, __m256 (*acc)[3], __m256 vmin, __m256 vmax, const float* out_end,
                           const int S, const int R, const int P, const bool narrow) {
  for (int j = 0; j < R; j++) {
    __m256 sum = acc[j][0];
    if (P >= 2) sum = _mm256_add_ps(sum, acc[j][1]);
    if (P >= 3) sum = _mm256_add_ps(sum, acc[j][2]);
    if (S == 2) sum = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(sum), _MM_SHUFFLE(3, 1, 2, 0)));
    sum = _mm256_min_ps(vmax, _mm256_max_ps(vmin, sum));
    float* o = out + j * ow;
    if (!narrow) {
      _mm256_storeu_ps(o, sum);
    } else {
      spw_avx2_store(o, sum, ow, out_end - o);
    }
  }
}

// What the rows of one channel need.
typedef struct ring_args {
  const float* weights;  // K*K
  float bias, output_min, output_max;
  ptrdiff_t ow;
  const float* out_end;
} ring_args;

// R output rows from the ring rows `rows`; `out` is the first output row.
SPW_INLINE void ring_rows_block(const float* const* rows, float* out, const ring_plan* c, const ring_args* a,
                                const int K, const int S, const int R, const int P) {
  __m256 vw[25];
  for (int i = 0; i < K * K; i++) vw[i] = _mm256_broadcast_ss(a->weights + i);
  const __m256 vbias = _mm256_set1_ps(a->bias);
  const __m256 vmin = _mm256_set1_ps(a->output_min), vmax = _mm256_set1_ps(a->output_max);
  for (ptrdiff_t x = 0; x <= c->x_full; x += 8) {
    // The vectors [0, x_full), then the last one (x_last) in the same loop body.
    ptrdiff_t at = x;
    if (x == c->x_full) {
      if (c->x_last < 0) break;
      at = c->x_last;
    }
    __m256 acc[4][3];
    for (int j = 0; j < R; j++) {
      acc[j][0] = vbias;
      for (int q = 1; q < P; q++) acc[j][q] = _mm256_setzero_ps();
    }
    ring_vector(acc, rows, at * S, vw, K, S, R, P);
    ring_store(out + at, a->ow, acc, vmin, vmax, a->out_end, S, R, P, a->ow < 8);
  }
}

typedef void ring_rows_fn(const float* const* rows, float* out, const ring_plan* c, const ring_args* a);

// One channel: blocks of R output rows, then single rows. Its first rows were copied before (`produced` of them);
// once its last rows are copied, the first rows of the next channel (`next_in`, NULL for none) go into the other
// ring.
SPW_INLINE void ring_channel(const float* in, float* out, const ring_args* a, const ring_plan* c,
                             const spw_dw_geometry* g, float* ring, ptrdiff_t produced, const float* next_in,
                             float* next_ring, ptrdiff_t first_rows, const int K, const int S, const int R,
                             ring_rows_fn* block, ring_rows_fn* single) {
  const ptrdiff_t oh = g->oh, ow = g->ow, NR = (R - 1) * S + K, ring_rows = RING_ROWS(K, S, R);
  const ptrdiff_t hp = (oh - 1) * S + K;  // ring rows any output reads
  bool next_done = next_in == NULL;
  for (ptrdiff_t oy = 0; oy < oh;) {
    const ptrdiff_t rows_now = oy + R <= oh ? R : 1;
    const ptrdiff_t span = rows_now == R ? NR : K;
    ring_produce(ring, &produced, oy * S + span, in, c, g, ring_rows);
    // Rows of the next step (at most R * S more: the ring holds both).
    ring_produce(ring, &produced, spw_min_ptrdiff(hp, (oy + rows_now) * S + span), in, c, g, ring_rows);
    if (!next_done && produced >= hp) {
      ptrdiff_t next_produced = 0;
      ring_produce(next_ring, &next_produced, first_rows, next_in, c, g, ring_rows);
      next_done = true;
    }
    const float* rows[(4 - 1) * 2 + 5];
    for (ptrdiff_t i = 0; i < span; i++) rows[i] = ring_row(ring, oy * S + i, c, g, ring_rows);
    (rows_now == R ? block : single)(rows, out + oy * ow, c, a);
    oy += rows_now;
  }
}

// Two rings on this function's stack; their padding columns are zeroed once per call.
SPW_INLINE void ring_layer(const spw_f32_dwconv_params* p, const spw_dw_geometry* g, const ring_plan* c,
                           const float* input, const float* weights, const float* bias, float* output, const int K,
                           const int S, const int R, ring_rows_fn* block, ring_rows_fn* single) {
  float rings[2][RING_FLOATS] __attribute__((aligned(32)));
  const ptrdiff_t ring_rows = RING_ROWS(K, S, R), used = ring_rows * c->wp;
  for (ptrdiff_t i = 0; i < used; i += 8) {
    _mm256_store_ps(rings[0] + i, _mm256_setzero_ps());
    _mm256_store_ps(rings[1] + i, _mm256_setzero_ps());
  }
  const size_t in_size = p->input_height * p->input_width, out_size = p->output_height * p->output_width;
  const ptrdiff_t hp = (g->oh - 1) * S + K;
  const ptrdiff_t first_rows = spw_min_ptrdiff(hp, g->oh >= R ? (R - 1) * S + K : K);
  if (p->c_begin >= p->c_end) return;
  ptrdiff_t produced = 0;
  ring_produce(rings[0], &produced, first_rows, input + p->c_begin * in_size, c, g, ring_rows);
  for (size_t ch = p->c_begin; ch < p->c_end; ch++) {
    const size_t k = ch - p->c_begin;
    const ring_args a = {.weights = weights + ch * (size_t)(K * K), .bias = bias != NULL ? bias[ch] : 0.0f,
                         .output_min = p->output_min, .output_max = p->output_max, .ow = g->ow,
                         .out_end = g->out_end};
    ring_channel(input + ch * in_size, output + ch * out_size, &a, c, g, rings[k & 1], first_rows,
                 ch + 1 < p->c_end ? input + (ch + 1) * in_size : NULL, rings[(k + 1) & 1], first_rows, K, S, R,
                 block, single);
  }
}

typedef void ring_layer_fn(const spw_f32_dwconv_params* p, const spw_dw_geometry* g, const ring_plan* c,
                           const float* input, const float* weights, const float* bias, float* output);

// The non-inlined row blocks of one (K, S, R, P), and the layer of one (K, S, R) with its single rows.
#define RING_BLOCK(K, S, R, P)                                                                                  \
  static SPW_NOINLINE void ring_block_##K##s##S##r##R##p##P(const float* const* rows, float* out,             \
                                                             const ring_plan* c, const ring_args* a) {         \
    ring_rows_block(rows, out, c, a, K, S, R, P);                                                               \
  }
#define RING_LAYER(K, S, R, P)                                                                                  \
  static SPW_NOINLINE void ring_layer_##K##s##S##r##R(const spw_f32_dwconv_params* p, const spw_dw_geometry* g, \
                                                       const ring_plan* c, const float* input,                  \
                                                       const float* weights, const float* bias, float* output) { \
    ring_layer(p, g, c, input, weights, bias, output, K, S, R, ring_block_##K##s##S##r##R##p##P,              \
               ring_block_##K##s##S##r1p3);                                                                     \
  }

RING_BLOCK(3, 1, 1, 3)
RING_BLOCK(3, 2, 1, 3)
RING_BLOCK(5, 1, 1, 3)
RING_BLOCK(5, 2, 1, 3)
RING_BLOCK(3, 1, 4, 1)
RING_BLOCK(3, 2, 2, 1)
RING_BLOCK(5, 1, 2, 1)
RING_LAYER(3, 1, 4, 1)
RING_LAYER(3, 2, 2, 1)
RING_LAYER(5, 1, 2, 1)
RING_LAYER(3, 1, 1, 3)
RING_LAYER(3, 2, 1, 3)
RING_LAYER(5, 1, 1, 3)
RING_LAYER(5, 2, 1, 3)

bool spw_f32_dwconv_avx2_ring(const spw_f32_dwconv_params* p, const spw_dw_geometry* g, const float* input,
                              const float* weights, const float* bias, float* output) {
  // Blocks of several rows, or single rows when the wider ring does not fit.
  static const struct {
    int K, S, R;
    ring_layer_fn* layer;
  } layers[] = {
    {3, 1, 4, ring_layer_3s1r4}, {3, 1, 1, ring_layer_3s1r1}, {3, 2, 2, ring_layer_3s2r2},
    {3, 2, 1, ring_layer_3s2r1}, {5, 1, 2, ring_layer_5s1r2}, {5, 1, 1, ring_layer_5s1r1},
    {5, 2, 1, ring_layer_5s2r1},
  };
  for (size_t i = 0; i < sizeof(layers) / sizeof(layers[0]); i++) {
    if (layers[i].K != g->kw || layers[i].S != g->sw) continue;
    ring_plan c;
    if (!ring_make_plan(&c, g, RING_ROWS(layers[i].K, layers[i].S, layers[i].R))) continue;
    layers[i].layer(p, g, &c, input, weights, bias, output);
    return true;
  }
  return false;
}

SPW_TARGET_END

#endif  // SPW_ARCH_X86
