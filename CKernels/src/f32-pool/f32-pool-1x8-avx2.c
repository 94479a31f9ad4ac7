// Max and average pooling, AVX2: 8 outputs of one row per step, along the output width.
//
// The loads are those of the generic depthwise row (f32-dwconv-1x8-avx2.c): contiguous for stride 1, an even/odd
// split for stride 2 (accumulated in permuted order and reordered once), a gather otherwise; taps outside the
// input are masked (-inf for max, 0 for average). Max and sum accumulate in the reference's (ky, kx) order and the
// average divides by the same integer count, so both match the scalar reference exactly.
#include <math.h>

#include "../kernels.h"

#if SPW_ARCH_X86
#include <immintrin.h>

SPW_TARGET_BEGIN_AVX2

#include "../x86-avx2.h"

typedef struct pool_geometry {
  ptrdiff_t ih, iw, oh, ow, kh, kw, sh, sw, dh, dw, pt, pl;
  // Range of rows / columns whose taps the average counts (the input, or the padded input).
  ptrdiff_t y_lo, y_hi, x_lo, x_hi;
  // Vectors [0, x_interior) start left of the input, [x_interior, x_border) load only inside it.
  ptrdiff_t x_interior, x_border;
  // End of the outputs of this call: a full store may spill over outputs written later (rows and channels are
  // written in order).
  const float* out_end;
} pool_geometry;

#define iota_epi32 spw_avx2_iota
#define lane_mask spw_avx2_lane_mask

// row[ix .. ix+8) with `fill` outside [0, iw).
SPW_INLINE __m256 load_fill(const float* row, ptrdiff_t ix, ptrdiff_t iw, __m256 fill, bool masked, bool is_max) {
  if (!masked) return _mm256_loadu_ps(row + ix);
  const __m256i m = lane_mask(ix, iota_epi32(), iw);
  const __m256 v = _mm256_maskload_ps(row + ix, m);
  return is_max ? _mm256_blendv_ps(fill, v, _mm256_castsi256_ps(m)) : v;
}

// The inputs of one tap for 8 outputs; S is 1, 2 or 0 (any other stride).
SPW_INLINE __m256 load_tap(const float* row, ptrdiff_t ix, ptrdiff_t iw, __m256i step_iota, __m256 fill,
                           bool masked, const int S, const bool is_max) {
  if (S == 1) return load_fill(row, ix, iw, fill, masked, is_max);
  if (S == 2) {
    const __m256 lo = load_fill(row, ix, iw, fill, masked, is_max);
    const __m256 hi = load_fill(row, ix + 8, iw, fill, masked, is_max);
    return _mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(2, 0, 2, 0));
  }
  const __m256i index = _mm256_add_epi32(_mm256_set1_epi32((int32_t)ix), step_iota);
  const __m256i mask = lane_mask(ix, step_iota, iw);
  return _mm256_mask_i32gather_ps(fill, row, index, _mm256_castsi256_ps(mask), 4);
}

// Accumulates (max or sum) one vector's window taps over `nrows` input rows into acc, in (row, kx) order, in the
// stride-2 permuted order for S == 2 (see pool_row). For stride 2 without dilation the even and odd halves of one
// pair of loads serve two neighbouring taps. KW > 0 is the kernel width as a constant (unrolled taps); 0 reads it
// from g.
SPW_INLINE __m256 pool_vector(__m256 acc, const float* const* rows, ptrdiff_t nrows, ptrdiff_t base,
                              const pool_geometry* g, __m256i step_iota, __m256 fill, const int S, const int KW,
                              const bool is_max, const bool masked) {
  const ptrdiff_t iw = g->iw, kw = KW ? KW : g->kw, dw = g->dw;
  for (ptrdiff_t ky = 0; ky < nrows; ky++) {
    const float* r = rows[ky];
    if (S == 2 && dw == 1) {
      for (ptrdiff_t kx = 0; kx < kw; kx += 2) {
        const __m256 lo = load_fill(r, base + kx, iw, fill, masked, is_max);
        const __m256 hi = load_fill(r, base + kx + 8, iw, fill, masked, is_max);
        const __m256 even = _mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(2, 0, 2, 0));
        acc = is_max ? _mm256_max_ps(even, acc) : _mm256_add_ps(acc, even);
        if (kx + 1 < kw) {
          const __m256 odd = _mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(3, 1, 3, 1));
          acc = is_max ? _mm256_max_ps(odd, acc) : _mm256_add_ps(acc, odd);
        }
      }
    } else {
      for (ptrdiff_t kx = 0; kx < kw; kx++) {
        const __m256 v = load_tap(r, base + kx * dw, iw, step_iota, fill, masked, S, is_max);
        acc = is_max ? _mm256_max_ps(v, acc) : _mm256_add_ps(acc, v);
      }
    }
  }
  return acc;
}

// Stride 2 accumulates outputs in the order 0 1 4 5 2 3 6 7 (see f32-dwconv-1x8-avx2.c).
SPW_INLINE __m256 unpermute(__m256 acc, const int S) {
  if (S != 2) return acc;
  return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(acc), _MM_SHUFFLE(3, 1, 2, 0)));
}

// Any kernel height: the taps of the input rows [ky_begin, ky_end) of the window, one row at a time.
SPW_INLINE __m256 pool_generic_rows(const float* in, ptrdiff_t iy_base, ptrdiff_t ky_begin, ptrdiff_t ky_end,
                                    ptrdiff_t base, const pool_geometry* g, __m256i step_iota, __m256 fill,
                                    const int S, const bool is_max, const bool masked) {
  __m256 acc = fill;
  for (ptrdiff_t ky = ky_begin; ky < ky_end; ky++) {
    const float* row = in + (iy_base + ky * g->dh) * g->iw;
    acc = pool_vector(acc, &row, 1, base, g, step_iota, fill, S, 0, is_max, masked);
  }
  return acc;
}

// Average: divides the sums of the vector at output column x by the number of counted taps of each lane.
SPW_INLINE __m256 average(__m256 sum, ptrdiff_t base, ptrdiff_t row_count, const pool_geometry* g,
                          __m256i step_iota, const bool masked) {
  __m256 divisor;
  if (!masked) {
    divisor = _mm256_set1_ps((float)(row_count * g->kw));
  } else {
    __m256i columns = _mm256_setzero_si256();
    for (ptrdiff_t kx = 0; kx < g->kw; kx++) {
      columns = _mm256_sub_epi32(columns, lane_mask(base + kx * g->dw - g->x_lo, step_iota, g->x_hi - g->x_lo));
    }
    divisor = _mm256_cvtepi32_ps(_mm256_mullo_epi32(columns, _mm256_set1_epi32((int32_t)row_count)));
  }
  // An empty window gives 0 (and 0/0 is masked off).
  return _mm256_and_ps(_mm256_div_ps(sum, divisor), _mm256_cmp_ps(divisor, _mm256_setzero_ps(), _CMP_NEQ_OQ));
}

// Rows above or below the input read these: -inf leaves a max unchanged and 0 a sum (the divisor is counted
// separately), so square 2x2 and 3x3 windows run fully unrolled on every output row of images up to this width.
static const float k_zero_row[1024];
#define REPEAT4(x) x, x, x, x
#define REPEAT16(x) REPEAT4(x), REPEAT4(x), REPEAT4(x), REPEAT4(x)
#define REPEAT64(x) REPEAT16(x), REPEAT16(x), REPEAT16(x), REPEAT16(x)
#define REPEAT256(x) REPEAT64(x), REPEAT64(x), REPEAT64(x), REPEAT64(x)
static const float k_neg_inf_row[1024] = {REPEAT256(-INFINITY), REPEAT256(-INFINITY), REPEAT256(-INFINITY),
                                          REPEAT256(-INFINITY)};
#undef REPEAT4
#undef REPEAT16
#undef REPEAT64
#undef REPEAT256

SPW_INLINE void pool_row(const float* in, float* out, ptrdiff_t oy, const pool_geometry* g,
                         const int S, const int KW, const bool is_max) {
  const ptrdiff_t ow = g->ow, sw = g->sw, pl = g->pl, iw = g->iw;
  const ptrdiff_t iy_base = oy * g->sh - g->pt;
  ptrdiff_t ky_begin, ky_end, count_begin, count_end;
  spw_tap_range(iy_base, g->dh, g->kh, 0, g->ih, &ky_begin, &ky_end);
  spw_tap_range(iy_base, g->dh, g->kh, g->y_lo, g->y_hi, &count_begin, &count_end);
  const ptrdiff_t row_count = count_end - count_begin;
  const __m256i step_iota = _mm256_mullo_epi32(iota_epi32(), _mm256_set1_epi32((int32_t)sw));
  const __m256 fill = is_max ? _mm256_set1_ps(-INFINITY) : _mm256_setzero_ps();
  // KW > 0 is only instantiated for square kernels: all KW rows, the missing ones read a fill row.
  const float* rows[3];
  const bool all_rows = ky_begin == 0 && ky_end == g->kh;
  const bool fill_rows = KW > 0 && (all_rows || iw <= (ptrdiff_t)(sizeof(k_zero_row) / sizeof(k_zero_row[0])));
  if (fill_rows) {
    const float* filler = is_max ? k_neg_inf_row : k_zero_row;
    for (ptrdiff_t k = 0; k < KW; k++) {
      rows[k] = (k >= ky_begin && k < ky_end) ? in + (iy_base + k * g->dh) * iw : filler;
    }
  }
  // Left border (masked), interior (plain loads), right border and partial vector (masked); in address order.
#define POOL_ROW(VECTOR)                                                                 \
  do {                                                                                   \
    ptrdiff_t x = 0;                                                                     \
    for (; x < g->x_interior; x += 8) {                                                  \
      __m256 acc = unpermute(VECTOR(true), S);                                           \
      if (!is_max) acc = average(acc, x * sw - pl, row_count, g, step_iota, true);      \
      spw_avx2_store(out + x, acc, ow - x, g->out_end - (out + x));                      \
    }                                                                                    \
    for (; x < g->x_border; x += 8) {                                                    \
      __m256 acc = unpermute(VECTOR(false), S);                                          \
      if (!is_max) acc = average(acc, x * sw - pl, row_count, g, step_iota, false);     \
      _mm256_storeu_ps(out + x, acc);                                                    \
    }                                                                                    \
    for (; x < ow; x += 8) {                                                             \
      __m256 acc = unpermute(VECTOR(true), S);                                           \
      if (!is_max) acc = average(acc, x * sw - pl, row_count, g, step_iota, true);      \
      spw_avx2_store(out + x, acc, ow - x, g->out_end - (out + x));                      \
    }                                                                                    \
  } while (0)
#define FILL_ROWS_VECTOR(masked) pool_vector(fill, rows, KW, x * sw - pl, g, step_iota, fill, S, KW, is_max, masked)
#define GENERIC_VECTOR(masked) \
  pool_generic_rows(in, iy_base, ky_begin, ky_end, x * sw - pl, g, step_iota, fill, S, is_max, masked)
  if (fill_rows) {
    POOL_ROW(FILL_ROWS_VECTOR);
  } else {
    POOL_ROW(GENERIC_VECTOR);
  }
#undef POOL_ROW
#undef FILL_ROWS_VECTOR
#undef GENERIC_VECTOR
}

SPW_INLINE void pool_channels(const spw_f32_pool_params* p, const float* input, float* output, const int S,
                              const int KW, const bool is_max) {
  pool_geometry g = {
    .ih = (ptrdiff_t)p->input_height, .iw = (ptrdiff_t)p->input_width,
    .oh = (ptrdiff_t)p->output_height, .ow = (ptrdiff_t)p->output_width,
    .kh = (ptrdiff_t)p->kernel_height, .kw = (ptrdiff_t)p->kernel_width,
    .sh = (ptrdiff_t)p->stride_h, .sw = (ptrdiff_t)p->stride_w,
    .dh = (ptrdiff_t)p->dilation_h, .dw = (ptrdiff_t)p->dilation_w,
    .pt = (ptrdiff_t)p->pad_top, .pl = (ptrdiff_t)p->pad_left,
    .y_lo = p->count_include_pad ? -(ptrdiff_t)p->pad_top : 0,
    .y_hi = (ptrdiff_t)p->input_height + (p->count_include_pad ? (ptrdiff_t)p->pad_bottom : 0),
    .x_lo = p->count_include_pad ? -(ptrdiff_t)p->pad_left : 0,
    .x_hi = (ptrdiff_t)p->input_width + (p->count_include_pad ? (ptrdiff_t)p->pad_right : 0),
    .out_end = output + p->c_end * p->output_height * p->output_width,
  };
  // Elements a vector's loads span from its first tap: a contiguous vector, an even/odd pair, or a gather.
  const ptrdiff_t span = (g.kw - 1) * g.dw + (S == 1 ? 8 : S == 2 ? 16 : 7 * g.sw + 1);
  g.x_interior = 0;
  while (g.x_interior < g.ow && g.x_interior * g.sw < g.pl) g.x_interior += 8;
  g.x_border = g.x_interior;
  while (g.x_border + 8 <= g.ow && g.x_border * g.sw - g.pl + span <= g.iw) g.x_border += 8;
  const size_t in_size = p->input_height * p->input_width;
  const ptrdiff_t out_size = g.oh * g.ow;
  for (size_t c = p->c_begin; c < p->c_end; c++) {
    const float* in = input + c * in_size;
    float* out = output + c * (size_t)out_size;
    for (ptrdiff_t oy = 0; oy < g.oh; oy++) pool_row(in, out + oy * g.ow, oy, &g, S, KW, is_max);
  }
}

// Instances: stride 1, 2 or other (0) x square kernel 2x2, 3x3 or other (0) x max/average.
#define POOL_INSTANCE(name, S, KW, is_max)                                             \
  static void name(const spw_f32_pool_params* p, const float* in, float* out) {        \
    pool_channels(p, in, out, S, KW, is_max);                                          \
  }
POOL_INSTANCE(maxpool_s1_k2, 1, 2, true)
POOL_INSTANCE(maxpool_s1_k3, 1, 3, true)
POOL_INSTANCE(maxpool_s1_kn, 1, 0, true)
POOL_INSTANCE(maxpool_s2_k2, 2, 2, true)
POOL_INSTANCE(maxpool_s2_k3, 2, 3, true)
POOL_INSTANCE(maxpool_s2_kn, 2, 0, true)
POOL_INSTANCE(maxpool_sn_kn, 0, 0, true)
POOL_INSTANCE(avgpool_s1_k2, 1, 2, false)
POOL_INSTANCE(avgpool_s1_k3, 1, 3, false)
POOL_INSTANCE(avgpool_s1_kn, 1, 0, false)
POOL_INSTANCE(avgpool_s2_k2, 2, 2, false)
POOL_INSTANCE(avgpool_s2_k3, 2, 3, false)
POOL_INSTANCE(avgpool_s2_kn, 2, 0, false)
POOL_INSTANCE(avgpool_sn_kn, 0, 0, false)
#undef POOL_INSTANCE

typedef void (*pool_instance_fn)(const spw_f32_pool_params*, const float*, float*);

static pool_instance_fn select_instance(const spw_f32_pool_params* p, bool is_max) {
  static const pool_instance_fn table[2][3][3] = {
    // [is_max][stride 1, 2, other][kernel width 2, 3, other]
    {{avgpool_s1_k2, avgpool_s1_k3, avgpool_s1_kn}, {avgpool_s2_k2, avgpool_s2_k3, avgpool_s2_kn},
     {avgpool_sn_kn, avgpool_sn_kn, avgpool_sn_kn}},
    {{maxpool_s1_k2, maxpool_s1_k3, maxpool_s1_kn}, {maxpool_s2_k2, maxpool_s2_k3, maxpool_s2_kn},
     {maxpool_sn_kn, maxpool_sn_kn, maxpool_sn_kn}},
  };
  const int s = p->stride_w == 1 ? 0 : p->stride_w == 2 ? 1 : 2;
  const bool square = p->kernel_width == p->kernel_height;
  const int k = square && p->kernel_width == 2 ? 0 : square && p->kernel_width == 3 ? 1 : 2;
  return table[is_max][s][k];
}

void spw_f32_maxpool_ukernel_1x8__avx2(const spw_f32_pool_params* p, const float* input, float* output) {
  SPW_DEBUG_ASSERT(p->c_begin <= p->c_end && p->c_end <= p->channels);
  SPW_DEBUG_ASSERT(p->stride_h > 0 && p->stride_w > 0 && p->dilation_h > 0 && p->dilation_w > 0);
  select_instance(p, true)(p, input, output);
}

void spw_f32_avgpool_ukernel_1x8__avx2(const spw_f32_pool_params* p, const float* input, float* output) {
  SPW_DEBUG_ASSERT(p->c_begin <= p->c_end && p->c_end <= p->channels);
  SPW_DEBUG_ASSERT(p->stride_h > 0 && p->stride_w > 0 && p->dilation_h > 0 && p->dilation_w > 0);
  select_instance(p, false)(p, input, output);
}

SPW_TARGET_END

#endif  // SPW_ARCH_X86
