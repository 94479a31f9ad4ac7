// Depthwise convolution, AVX2+FMA, eight channels per vector: lane l of every vector is channel c0 + l. Part of
// spw_f32_dwconv_ukernel_1x8__avx2; f32-dwconv-1x8-avx2.c says when it runs.
//
// Why: on 7x7 and 14x14 images nearly every vector of a row-vectorized kernel is a border vector, and the
// per-channel work (weights, row setup) is spread over few outputs; with stride 2, each vector also splits its
// inputs into even and odd elements. Here the inputs of eight channels are transposed (8x8 blocks, 24 shuffles per
// 64 floats) into "position vectors" laid out with zero padding around the image, so that every output position is
// K*K FMAs on aligned loads with neither masks nor shuffles, borders and stride 2 included (a padding tap adds
// w * 0 = 0 for finite weights), and the outputs are transposed back. The shuffles run on FP pipes the FMAs leave
// free. Channels past c_end are never read: a group of fewer than eight reads the zero row for the missing lanes
// and stores only its own channels.
//
// Two layouts:
// - whole: images of at most 256 inputs and outputs (7x7, 14x14; 16x16) are transposed at once, as flat runs of 8
//   positions (a channel's plane is contiguous), scattered into a padded copy of the image; the output is staged
//   flat and transposed back in runs of 8, so that no row is partial;
// - ring: larger images go row by row through a ring of K transposed, padded rows (stride 2 and 5x5 rows up to 64
//   outputs; 3x3 stride 1 is faster row-vectorized from a padded ring, f32-dwconv-avx2-ring.c).
// Output positions are computed 4 at a time with the K*K weight vectors in registers (3x3) and the inputs as
// memory operands.
#include "../kernels.h"

#if SPW_ARCH_X86
#include <immintrin.h>

SPW_TARGET_BEGIN_AVX2

#include "../x86-avx2.h"
#include "f32-dwconv-avx2.h"

// In-place 8x8 transpose: r[i] lane j <-> r[j] lane i.
SPW_INLINE void transpose8x8(__m256* r) {
  const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
  const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
  const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
  const __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
  const __m256 u0 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0));
  const __m256 u1 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2));
  const __m256 u2 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0));
  const __m256 u3 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2));
  const __m256 u4 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(1, 0, 1, 0));
  const __m256 u5 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(3, 2, 3, 2));
  const __m256 u6 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(1, 0, 1, 0));
  const __m256 u7 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(3, 2, 3, 2));
  r[0] = _mm256_permute2f128_ps(u0, u4, 0x20);
  r[1] = _mm256_permute2f128_ps(u1, u5, 0x20);
  r[2] = _mm256_permute2f128_ps(u2, u6, 0x20);
  r[3] = _mm256_permute2f128_ps(u3, u7, 0x20);
  r[4] = _mm256_permute2f128_ps(u0, u4, 0x31);
  r[5] = _mm256_permute2f128_ps(u1, u5, 0x31);
  r[6] = _mm256_permute2f128_ps(u2, u6, 0x31);
  r[7] = _mm256_permute2f128_ps(u3, u7, 0x31);
}

// The group's weights as tap vectors (the K*K x 8 block transposed in 8x8 blocks, the last tap gathered lane by
// lane; missing channels read the zero row) and its biases.
SPW_INLINE void group_weights(__m256* vw, __m256* vbias, const float* weights, const float* bias, size_t c0,
                              ptrdiff_t count, const int K) {
  const float* rows[8];
  for (int l = 0; l < 8; l++) rows[l] = l < count ? weights + (c0 + l) * (size_t)(K * K) : spw_dw_zero_row;
  for (int t = 0; t + 8 <= K * K; t += 8) {
    __m256 r[8];
    for (int l = 0; l < 8; l++) r[l] = _mm256_loadu_ps(rows[l] + t);
    transpose8x8(r);
    for (int k = 0; k < 8; k++) vw[t + k] = r[k];
  }
  const int t = K * K - 1;
  vw[t] = _mm256_setr_ps(rows[0][t], rows[1][t], rows[2][t], rows[3][t], rows[4][t], rows[5][t], rows[6][t],
                         rows[7][t]);
  float b[8] __attribute__((aligned(32)));
  for (int l = 0; l < 8; l++) b[l] = l < count && bias != NULL ? bias[c0 + l] : 0.0f;
  *vbias = _mm256_load_ps(b);
}

// Output positions [0, owc) (owc a multiple of 4) of one output row into `stage`, clamped; `rows` are the K padded
// rows of position vectors the row reads (position ox reads positions ox*S + kx).
SPW_INLINE void compute_row(__m256* stage, const float* const* rows, const __m256* vw, __m256 vbias, __m256 vmin,
                            __m256 vmax, ptrdiff_t owc, const int K, const int S) {
  for (ptrdiff_t ox = 0; ox < owc; ox += 4) {
    __m256 acc[4] = {vbias, vbias, vbias, vbias};
    for (int ky = 0; ky < K; ky++) {
      const float* q = rows[ky] + ox * S * 8;
      for (int kx = 0; kx < K; kx++) {
        for (int j = 0; j < 4; j++) {
          acc[j] = _mm256_fmadd_ps(_mm256_load_ps(q + (j * S + kx) * 8), vw[ky * K + kx], acc[j]);
        }
      }
    }
    for (int j = 0; j < 4; j++) stage[ox + j] = _mm256_min_ps(vmax, _mm256_max_ps(vmin, acc[j]));
  }
}

// MARK: - Whole images

#define WHOLE_POSITIONS 400  // padded image positions (12.5 KiB)
#define WHOLE_IO 256         // input and output positions

typedef struct whole_plan {
  ptrdiff_t owc, hp, wp;        // positions computed per output row (ow rounded up to 4); padded rows and width
  int32_t offsets[WHOLE_IO];    // padded position of input position q (row-major)
} whole_plan;

static bool whole_make_plan(whole_plan* c, const spw_dw_geometry* g) {
  const ptrdiff_t K = g->kw, S = g->sw, inputs = g->ih * g->iw, outputs = g->oh * g->ow;
  if (inputs < 8 || outputs < 8 || inputs > WHOLE_IO || outputs > WHOLE_IO) return false;
  c->owc = (g->ow + 3) / 4 * 4;
  c->hp = (g->oh - 1) * S + K;
  c->wp = (c->owc - 1) * S + K;
  // Every input position needs its place: no input rows or columns beyond the last window.
  if (g->pt + g->ih > c->hp || g->pl + g->iw > c->wp || c->hp * c->wp > WHOLE_POSITIONS) return false;
  for (ptrdiff_t iy = 0, q = 0; iy < g->ih; iy++) {
    for (ptrdiff_t ix = 0; ix < g->iw; ix++) c->offsets[q++] = (int32_t)((iy + g->pt) * c->wp + ix + g->pl);
  }
  return true;
}

SPW_INLINE void whole_group(const spw_f32_dwconv_params* p, const spw_dw_geometry* g, const whole_plan* c,
                            const float* input, const float* weights, const float* bias, float* output, size_t c0,
                            ptrdiff_t count, float* image, __m256* stage, const int K, const int S) {
  const ptrdiff_t inputs = g->ih * g->iw, outputs = g->oh * g->ow, ow = g->ow;
  const float* planes[8];
  for (int l = 0; l < 8; l++) planes[l] = l < count ? input + (c0 + l) * (size_t)inputs : spw_dw_zero_row;
  for (ptrdiff_t q0 = 0; q0 < inputs; q0 += 8) {
    const ptrdiff_t q = q0 + 8 <= inputs ? q0 : inputs - 8;  // the last run overlaps the previous one
    __m256 r[8];
    for (int l = 0; l < 8; l++) r[l] = _mm256_loadu_ps(planes[l] + q);
    transpose8x8(r);
    for (int k = 0; k < 8; k++) _mm256_store_ps(image + (ptrdiff_t)c->offsets[q + k] * 8, r[k]);
  }
  __m256 vw[25], vbias;
  group_weights(vw, &vbias, weights, bias, c0, count, K);
  const __m256 vmin = _mm256_set1_ps(p->output_min), vmax = _mm256_set1_ps(p->output_max);
  // Row oy fills stage[oy*ow .. oy*ow + owc): the positions past ow are overwritten by the next row.
  for (ptrdiff_t oy = 0; oy < g->oh; oy++) {
    const float* rows[5];
    for (int ky = 0; ky < K; ky++) rows[ky] = image + (oy * S + ky) * c->wp * 8;
    compute_row(stage + oy * ow, rows, vw, vbias, vmin, vmax, c->owc, K, S);
  }
  float* planes_out[8];
  for (ptrdiff_t l = 0; l < count; l++) planes_out[l] = output + (c0 + l) * (size_t)outputs;
  for (ptrdiff_t q0 = 0; q0 < outputs; q0 += 8) {
    const ptrdiff_t q = q0 + 8 <= outputs ? q0 : outputs - 8;
    __m256 r[8];
    for (int k = 0; k < 8; k++) r[k] = stage[q + k];
    transpose8x8(r);
    for (ptrdiff_t l = 0; l < count; l++) _mm256_storeu_ps(planes_out[l] + q, r[l]);
  }
}

// The padded image (zero outside the input, which each group overwrites) and the staged output live on this
// function's stack (21 KiB).
SPW_INLINE void whole_layer(const spw_f32_dwconv_params* p, const spw_dw_geometry* g, const whole_plan* c,
                            const float* input, const float* weights, const float* bias, float* output, const int K,
                            const int S) {
  float image[WHOLE_POSITIONS * 8] __attribute__((aligned(32)));
  __m256 stage[WHOLE_IO + 4];
  for (ptrdiff_t x = 0; x < c->hp * c->wp; x++) _mm256_store_ps(image + x * 8, _mm256_setzero_ps());
  for (size_t c0 = p->c_begin; c0 < p->c_end; c0 += 8) {
    const ptrdiff_t count = (ptrdiff_t)spw_min_size(8, p->c_end - c0);
    whole_group(p, g, c, input, weights, bias, output, c0, count, image, stage, K, S);
  }
}

typedef void whole_layer_fn(const spw_f32_dwconv_params* p, const spw_dw_geometry* g, const whole_plan* c,
                            const float* input, const float* weights, const float* bias, float* output);

#define WHOLE_LAYER(K, S)                                                                                       \
  static SPW_NOINLINE void whole_layer_##K##s##S(const spw_f32_dwconv_params* p, const spw_dw_geometry* g,     \
                                                  const whole_plan* c, const float* input, const float* weights, \
                                                  const float* bias, float* output) {                           \
    whole_layer(p, g, c, input, weights, bias, output, K, S);                                                   \
  }
WHOLE_LAYER(3, 1)
WHOLE_LAYER(3, 2)
WHOLE_LAYER(5, 1)
WHOLE_LAYER(5, 2)

// MARK: - Ring of transposed rows

#define RING_MAX_OW 64          // output positions per row
#define RING_MAX_POSITIONS 128  // positions per padded row (the ring: K rows of them, 20 KiB for K = 5)

typedef struct ring_plan {
  ptrdiff_t owc;        // output positions computed per row: ow rounded up to 8 (the extra ones read zeros)
  ptrdiff_t wp;         // positions per padded row; padded position c is input column c - pad_left
  ptrdiff_t copy_cols;  // input columns [0, copy_cols) that some output reads
} ring_plan;

static bool ring_make_plan(ring_plan* c, const spw_dw_geometry* g) {
  const ptrdiff_t K = g->kw, S = g->sw;
  if (g->ow > RING_MAX_OW || g->iw > SPW_DW_ZERO_ROW_FLOATS - 32) return false;
  c->owc = (g->ow + 7) / 8 * 8;
  const ptrdiff_t reach = (c->owc - 1) * S + K;  // positions the computed outputs read
  c->copy_cols = spw_max_ptrdiff(0, spw_min_ptrdiff(g->iw, reach - g->pl));
  // A row narrower than 8 is loaded as one 8-column block whose extra columns are zero.
  c->wp = spw_max_ptrdiff(reach, g->pl + spw_max_ptrdiff(c->copy_cols, 8));
  return c->wp <= RING_MAX_POSITIONS;
}

// Ring row from one input row of the eight channels (`rows`, NULL when the padded row is outside the input):
// positions [pad_left, pad_left + copy_cols) get the input; the other positions keep their zeros, and a padding
// row clears what an earlier input row left.
SPW_INLINE void ring_load_row(float* slot, const float* const* rows, const spw_dw_geometry* g, const ring_plan* c) {
  float* dst = slot + g->pl * 8;
  const ptrdiff_t n = c->copy_cols;
  if (rows == NULL) {
    const ptrdiff_t width = spw_max_ptrdiff(n, 8);
    for (ptrdiff_t x = 0; x < width; x++) _mm256_store_ps(dst + x * 8, _mm256_setzero_ps());
    return;
  }
  __m256 r[8];
  if (n >= 8) {
    for (ptrdiff_t ix = 0; ix < n; ix += 8) {
      const ptrdiff_t x = ix + 8 <= n ? ix : n - 8;  // the last block overlaps the previous one
      for (int l = 0; l < 8; l++) r[l] = _mm256_loadu_ps(rows[l] + x);
      transpose8x8(r);
      for (int k = 0; k < 8; k++) _mm256_store_ps(dst + (x + k) * 8, r[k]);
    }
  } else {
    const __m256i mask = spw_avx2_lane_mask(0, spw_avx2_iota(), n);
    for (int l = 0; l < 8; l++) r[l] = _mm256_maskload_ps(rows[l], mask);
    transpose8x8(r);
    for (int k = 0; k < 8; k++) _mm256_store_ps(dst + k * 8, r[k]);
  }
}

// Transposes a staged output row back and stores it to the `count` channels' rows `dst`, whose planes end at
// `dst[l] + room`. On rows of 8 or more the last block starts at ow - 8. On narrower rows a full store spills into
// the rows after it; it is made only when they are in the same channel's plane (written later: the channels of a
// group are interleaved row by row, so a spill into the next channel would land on rows already stored).
SPW_INLINE void ring_store_row(float* const* dst, ptrdiff_t count, const __m256* stage, ptrdiff_t ow, ptrdiff_t room) {
  for (ptrdiff_t ox = 0; ox < ow; ox += 8) {
    const ptrdiff_t x = ox + 8 <= ow || ow < 8 ? ox : ow - 8;
    __m256 r[8];
    for (int k = 0; k < 8; k++) r[k] = stage[x + k];
    transpose8x8(r);
    if (SPW_LIKELY(ow >= 8)) {
      for (ptrdiff_t l = 0; l < count; l++) _mm256_storeu_ps(dst[l] + x, r[l]);
    } else {
      for (ptrdiff_t l = 0; l < count; l++) spw_avx2_store(dst[l], r[l], ow, room);
    }
  }
}

// Channels [c0, c0 + count), count <= 8. Ring row r (slot r % K) is padded row r, input row r - pad_top.
SPW_INLINE void ring_group(const spw_f32_dwconv_params* p, const spw_dw_geometry* g, const ring_plan* c,
                           const float* input, const float* weights, const float* bias, float* output, size_t c0,
                           ptrdiff_t count, float* ring, __m256* stage, const int K, const int S) {
  const size_t in_size = (size_t)(g->ih * g->iw), out_size = (size_t)(g->oh * g->ow);
  __m256 vw[25], vbias;
  group_weights(vw, &vbias, weights, bias, c0, count, K);
  const __m256 vmin = _mm256_set1_ps(p->output_min), vmax = _mm256_set1_ps(p->output_max);
  const ptrdiff_t row_floats = RING_MAX_POSITIONS * 8;
  ptrdiff_t next = 0;  // the next padded row to bring into the ring
  for (ptrdiff_t oy = 0; oy < g->oh; oy++) {
    for (; next < oy * S + K; next++) {
      const ptrdiff_t iy = next - g->pt;
      const float* rows[8];
      for (int l = 0; l < 8; l++) rows[l] = l < count ? input + (c0 + l) * in_size + iy * g->iw : spw_dw_zero_row;
      ring_load_row(ring + (next % K) * row_floats, iy >= 0 && iy < g->ih ? rows : NULL, g, c);
    }
    const float* rows[5];
    for (int ky = 0; ky < K; ky++) rows[ky] = ring + ((oy * S + ky) % K) * row_floats;
    compute_row(stage, rows, vw, vbias, vmin, vmax, c->owc, K, S);
    float* dst[8];
    for (ptrdiff_t l = 0; l < count; l++) dst[l] = output + (c0 + l) * out_size + oy * g->ow;
    ring_store_row(dst, count, stage, g->ow, (g->oh - oy) * g->ow);
  }
}

// The ring (zero outside the input columns) and the staged row live on this function's stack.
SPW_INLINE void ring_layer(const spw_f32_dwconv_params* p, const spw_dw_geometry* g, const ring_plan* c,
                           const float* input, const float* weights, const float* bias, float* output, const int K,
                           const int S) {
  float ring[5 * RING_MAX_POSITIONS * 8] __attribute__((aligned(32)));
  __m256 stage[RING_MAX_OW];
  for (int k = 0; k < K; k++) {
    for (ptrdiff_t x = 0; x < c->wp; x++) {
      _mm256_store_ps(ring + (k * RING_MAX_POSITIONS + x) * 8, _mm256_setzero_ps());
    }
  }
  for (size_t c0 = p->c_begin; c0 < p->c_end; c0 += 8) {
    const ptrdiff_t count = (ptrdiff_t)spw_min_size(8, p->c_end - c0);
    ring_group(p, g, c, input, weights, bias, output, c0, count, ring, stage, K, S);
  }
}

typedef void ring_layer_fn(const spw_f32_dwconv_params* p, const spw_dw_geometry* g, const ring_plan* c,
                           const float* input, const float* weights, const float* bias, float* output);

#define RING_LAYER(K, S)                                                                                        \
  static SPW_NOINLINE void ring_layer_##K##s##S(const spw_f32_dwconv_params* p, const spw_dw_geometry* g,      \
                                                 const ring_plan* c, const float* input, const float* weights,  \
                                                 const float* bias, float* output) {                            \
    ring_layer(p, g, c, input, weights, bias, output, K, S);                                                    \
  }
RING_LAYER(3, 2)
RING_LAYER(5, 1)
RING_LAYER(5, 2)

bool spw_f32_dwconv_avx2_8ch(const spw_f32_dwconv_params* p, const spw_dw_geometry* g, const float* input,
                             const float* weights, const float* bias, float* output) {
  const bool k3 = g->kw == 3, s1 = g->sw == 1;
  whole_plan whole;
  if (whole_make_plan(&whole, g)) {
    whole_layer_fn* layer = k3 ? (s1 ? whole_layer_3s1 : whole_layer_3s2) : (s1 ? whole_layer_5s1 : whole_layer_5s2);
    layer(p, g, &whole, input, weights, bias, output);
    return true;
  }
  // 3x3 stride 1 runs faster row-vectorized (measured at 28, 56 and 112 wide).
  ring_plan ring;
  if (k3 && s1) return false;
  if (!ring_make_plan(&ring, g)) return false;
  ring_layer_fn* layer = k3 ? ring_layer_3s2 : (s1 ? ring_layer_5s1 : ring_layer_5s2);
  layer(p, g, &ring, input, weights, bias, output);
  return true;
}

SPW_TARGET_END

#endif  // SPW_ARCH_X86
