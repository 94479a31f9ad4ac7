// Depthwise convolution, AVX-512F: 16 outputs of one row per step, along the output width.
//
// The same algorithm as f32-dwconv-1x8-avx2.c, with 16 lanes and mask registers: read that file's comments.
// Stride 2 splits 32 consecutive inputs with one shufps per parity, which leaves the outputs in the order
// 0 1 8 9 2 3 10 11 4 5 12 13 6 7 14 15 (pairs of 64-bit chunks); one permute restores it before the store.
#include "../kernels.h"

#if SPW_ARCH_X86
#include <immintrin.h>

SPW_TARGET_BEGIN_AVX512F

typedef struct dw_geometry {
  ptrdiff_t ih, iw, oh, ow, kh, kw, sh, sw, dh, dw, pt, pl;
  // End of the outputs this call writes (channel c_end): stores may spill up to here (see store_outputs).
  const float* out_end;
} dw_geometry;

SPW_INLINE __m512i iota_epi32(void) {
  return _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
}

// Lanes j for which base + j * step lies in [0, limit) (an unsigned compare also rejects negative indices).
SPW_INLINE __mmask16 lane_mask(ptrdiff_t base, __m512i step_iota, ptrdiff_t limit) {
  const __m512i index = _mm512_add_epi32(_mm512_set1_epi32((int32_t)base), step_iota);
  return _mm512_cmplt_epu32_mask(index, _mm512_set1_epi32((int32_t)limit));
}

// row[ix .. ix+16), zeros where outside [0, iw).
SPW_INLINE __m512 load_s1(const float* row, ptrdiff_t ix, ptrdiff_t iw, bool masked) {
  if (!masked) return _mm512_loadu_ps(row + ix);
  return _mm512_maskz_loadu_ps(lane_mask(ix, iota_epi32(), iw), row + ix);
}

// Even elements of row[ix .. ix+32) (zeros outside [0, iw)), in the permuted order of the file comment.
SPW_INLINE __m512 load_s2_even(const float* row, ptrdiff_t ix, ptrdiff_t iw, bool masked) {
  __m512 lo, hi;
  if (masked) {
    lo = _mm512_maskz_loadu_ps(lane_mask(ix, iota_epi32(), iw), row + ix);
    hi = _mm512_maskz_loadu_ps(lane_mask(ix + 16, iota_epi32(), iw), row + ix + 16);
  } else {
    lo = _mm512_loadu_ps(row + ix);
    hi = _mm512_loadu_ps(row + ix + 16);
  }
  return _mm512_shuffle_ps(lo, hi, _MM_SHUFFLE(2, 0, 2, 0));
}

// Clamps and stores outputs [0, n) of a vector; the spill-over store as in the AVX2 file.
SPW_INLINE void store_outputs(
    float* out, __m512 acc, __m512 vmin, __m512 vmax, ptrdiff_t n, const dw_geometry* g, bool deinterleaved) {
  if (deinterleaved) {
    acc = _mm512_castpd_ps(_mm512_permutexvar_pd(_mm512_setr_epi64(0, 2, 4, 6, 1, 3, 5, 7), _mm512_castps_pd(acc)));
  }
  acc = _mm512_min_ps(vmax, _mm512_max_ps(vmin, acc));
  if (n >= 16 || g->out_end - out >= 16) {
    _mm512_storeu_ps(out, acc);
  } else {
    _mm512_mask_storeu_ps(out, (__mmask16)((1u << n) - 1u), acc);
  }
}

// MARK: - Unrolled K x K, stride S (1 or 2), dilation 1

// masks[kx] for stride 1; for stride 2 the pair at even kx uses masks[kx] and masks[kx + 1].
SPW_INLINE void kxk_masks(__mmask16* masks, ptrdiff_t base, ptrdiff_t iw, const int K, const int S) {
  for (int kx = 0; kx < K; kx++) {
    if (S == 1) {
      masks[kx] = lane_mask(base + kx, iota_epi32(), iw);
    } else if (kx % 2 == 0) {
      masks[kx] = lane_mask(base + kx, iota_epi32(), iw);
      masks[kx + 1] = lane_mask(base + kx + 16, iota_epi32(), iw);
    }
  }
}

SPW_INLINE __m512 kxk_vector(
    const float* const* rows, const __m512* vw, __m512 vbias, ptrdiff_t base, const __mmask16* masks,
    const int K, const int S, const bool masked) {
  __m512 acc[5];
  for (int ky = 0; ky < K; ky++) {
    const float* r = rows[ky] + base;
    __m512 a = ky == 0 ? vbias : _mm512_setzero_ps();
    if (S == 1) {
      for (int kx = 0; kx < K; kx++) {
        const __m512 v = masked ? _mm512_maskz_loadu_ps(masks[kx], r + kx) : _mm512_loadu_ps(r + kx);
        a = _mm512_fmadd_ps(v, vw[ky * K + kx], a);
      }
    } else {
      for (int kx = 0; kx < K; kx += 2) {
        const __m512 lo = masked ? _mm512_maskz_loadu_ps(masks[kx], r + kx) : _mm512_loadu_ps(r + kx);
        const __m512 hi =
            masked ? _mm512_maskz_loadu_ps(masks[kx + 1], r + kx + 16) : _mm512_loadu_ps(r + kx + 16);
        a = _mm512_fmadd_ps(_mm512_shuffle_ps(lo, hi, _MM_SHUFFLE(2, 0, 2, 0)), vw[ky * K + kx], a);
        if (kx + 1 < K) a = _mm512_fmadd_ps(_mm512_shuffle_ps(lo, hi, _MM_SHUFFLE(3, 1, 3, 1)), vw[ky * K + kx + 1], a);
      }
    }
    acc[ky] = a;
  }
  if (K == 3) return _mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), acc[2]);
  return _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), _mm512_add_ps(acc[2], acc[3])), acc[4]);
}

static const float k_zero_row[1024];

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

SPW_INLINE void kxk_border_pass(
    const float* in, const __m512* vw, __m512 vbias, __m512 vmin, __m512 vmax, float* out, ptrdiff_t x_begin,
    ptrdiff_t x_end, const dw_geometry* g, const int K, const int S) {
  if (x_begin >= x_end) return;
  const ptrdiff_t ow = g->ow, pl = g->pl;
  __mmask16 masks[2][6];
  const bool cached = x_end - x_begin <= 32;
  if (cached) {
    for (ptrdiff_t i = 0; x_begin + 16 * i < x_end; i++) {
      kxk_masks(masks[i], (x_begin + 16 * i) * S - pl, g->iw, K, S);
    }
  }
  for (ptrdiff_t oy = 0; oy < g->oh; oy++) {
    const float* rows[5];
    if (!kxk_rows(rows, in, oy, g, K, S)) continue;
    for (ptrdiff_t x = x_begin, i = 0; x < x_end; x += 16, i++) {
      __mmask16 local[6];
      const __mmask16* m = masks[i & 1];
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
    const float* in, const float* w, __m512 vbias, __m512 vmin, __m512 vmax, float* out, ptrdiff_t oy,
    const dw_geometry* g);

SPW_INLINE void kxk_channel(
    const float* in, const float* w, float bias, float* out, __m512 vmin, __m512 vmax, const dw_geometry* g,
    const int K, const int S) {
  __m512 vw[25];
  for (int i = 0; i < K * K; i++) vw[i] = _mm512_set1_ps(w[i]);
  const __m512 vbias = _mm512_set1_ps(bias);
  const ptrdiff_t ow = g->ow, iw = g->iw, pl = g->pl;
  ptrdiff_t x_interior = 0;
  while (x_interior < ow && x_interior * S < pl) x_interior += 16;
  ptrdiff_t x_border = x_interior;
  while (x_border + 16 <= ow && x_border * S - pl + (K - 1) + 16 * S <= iw) x_border += 16;

  kxk_border_pass(in, vw, vbias, vmin, vmax, out, x_border, ow, g, K, S);
  for (ptrdiff_t oy = 0; oy < g->oh; oy++) {
    float* out_row = out + oy * ow;
    const float* rows[5];
    if (!kxk_rows(rows, in, oy, g, K, S)) {
      generic_row(in, w, vbias, vmin, vmax, out_row, oy, g);
      continue;
    }
    for (ptrdiff_t x = x_interior; x < x_border; x += 16) {
      store_outputs(out_row + x, kxk_vector(rows, vw, vbias, x * S - pl, NULL, K, S, false), vmin, vmax, 16, g,
                    S == 2);
    }
  }
  kxk_border_pass(in, vw, vbias, vmin, vmax, out, 0, x_interior, g, K, S);
}

static void channel_3x3s1(const float* in, const float* w, float b, float* out, __m512 lo, __m512 hi,
                          const dw_geometry* g) {
  kxk_channel(in, w, b, out, lo, hi, g, 3, 1);
}
static void channel_3x3s2(const float* in, const float* w, float b, float* out, __m512 lo, __m512 hi,
                          const dw_geometry* g) {
  kxk_channel(in, w, b, out, lo, hi, g, 3, 2);
}
static void channel_5x5s1(const float* in, const float* w, float b, float* out, __m512 lo, __m512 hi,
                          const dw_geometry* g) {
  kxk_channel(in, w, b, out, lo, hi, g, 5, 1);
}
static void channel_5x5s2(const float* in, const float* w, float b, float* out, __m512 lo, __m512 hi,
                          const dw_geometry* g) {
  kxk_channel(in, w, b, out, lo, hi, g, 5, 2);
}

// MARK: - Small images, stride 1, input width == output width (see the AVX2 file)

#define FLAT_MAX_MASKS 256

SPW_INLINE ptrdiff_t flat_vectors(const dw_geometry* g) { return (g->oh * g->ow + 15) / 16; }

static bool flat_applicable(const dw_geometry* g) {
  return g->sh == 1 && g->sw == 1 && g->iw == g->ow && flat_vectors(g) * g->kh * g->kw <= FLAT_MAX_MASKS;
}

// masks[(v * kh + ky) * kw + kx] for vector v (outputs 16v .. 16v+15).
static void flat_masks(__mmask16* masks, const dw_geometry* g) {
  const ptrdiff_t total = g->oh * g->ow;
  for (ptrdiff_t v = 0; v < flat_vectors(g); v++) {
    for (ptrdiff_t ky = 0; ky < g->kh; ky++) {
      for (ptrdiff_t kx = 0; kx < g->kw; kx++) {
        unsigned bits = 0;
        for (ptrdiff_t j = 0; j < 16; j++) {
          const ptrdiff_t p = 16 * v + j, oy = p / g->ow, ox = p % g->ow;
          const ptrdiff_t iy = oy + ky * g->dh - g->pt, ix = ox + kx * g->dw - g->pl;
          if (p < total && iy >= 0 && iy < g->ih && ix >= 0 && ix < g->iw) bits |= 1u << j;
        }
        masks[(v * g->kh + ky) * g->kw + kx] = (__mmask16)bits;
      }
    }
  }
}

// K > 0: a K x K kernel, unrolled; K == 0: any kernel size.
SPW_INLINE void flat_channel(
    const float* in, const float* w, float bias, float* out, __m512 vmin, __m512 vmax, const __mmask16* masks,
    const dw_geometry* g, const int K) {
  const ptrdiff_t kh = K ? K : g->kh, kw = K ? K : g->kw;
  const ptrdiff_t total = g->oh * g->ow;
  const ptrdiff_t base = -g->pt * g->iw - g->pl;
  __m512 vw[25];
  if (K) {
    for (int i = 0; i < K * K; i++) vw[i] = _mm512_set1_ps(w[i]);
  }
  const __m512 vbias = _mm512_set1_ps(bias);
  for (ptrdiff_t p = 0; p < total; p += 16, masks += kh * kw) {
    __m512 acc[5] = {vbias, vbias, vbias, vbias, vbias};
    for (ptrdiff_t ky = 0; ky < kh; ky++) {
      const float* r = in + p + base + ky * g->dh * g->iw;
      __m512 a = ky == 0 ? vbias : _mm512_setzero_ps();
      for (ptrdiff_t kx = 0; kx < kw; kx++) {
        const __m512 x = _mm512_maskz_loadu_ps(masks[ky * kw + kx], r + kx * g->dw);
        a = _mm512_fmadd_ps(x, K ? vw[ky * kw + kx] : _mm512_set1_ps(w[ky * kw + kx]), a);
      }
      if (K) {
        acc[ky] = a;
      } else {
        acc[0] = ky == 0 ? a : _mm512_add_ps(acc[0], a);
      }
    }
    __m512 sum = acc[0];
    if (K == 3) sum = _mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), acc[2]);
    if (K == 5) sum = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), _mm512_add_ps(acc[2], acc[3])), acc[4]);
    store_outputs(out + p, sum, vmin, vmax, total - p, g, false);
  }
}

static void flat_layer(
    const spw_f32_dwconv_params* p, const dw_geometry* g, const float* input, const float* weights,
    const float* bias, float* output, __m512 vmin, __m512 vmax) {
  __mmask16 masks[FLAT_MAX_MASKS];
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
    const float* in, const float* w, __m512 vbias, __m512 vmin, __m512 vmax, float* out, ptrdiff_t oy,
    const dw_geometry* g) {
  const ptrdiff_t iw = g->iw, ow = g->ow, kw = g->kw, sw = g->sw, dw = g->dw, pl = g->pl;
  const ptrdiff_t iy_base = oy * g->sh - g->pt;
  ptrdiff_t ky_begin, ky_end;
  spw_tap_range(iy_base, g->dh, g->kh, 0, g->ih, &ky_begin, &ky_end);
  const ptrdiff_t span = (kw - 1) * dw + (sw == 1 ? 16 : sw == 2 ? 32 : 15 * sw + 1);
  const __m512i step_iota = _mm512_mullo_epi32(iota_epi32(), _mm512_set1_epi32((int32_t)sw));
  for (ptrdiff_t x = 0; x < ow; x += 16) {
    const ptrdiff_t base = x * sw - pl;
    const bool masked = !(x + 16 <= ow && base >= 0 && base + span <= iw);
    __m512 acc = vbias;
    for (ptrdiff_t ky = ky_begin; ky < ky_end; ky++) {
      const float* r = in + (iy_base + ky * g->dh) * iw;
      const float* wr = w + ky * kw;
      for (ptrdiff_t kx = 0; kx < kw; kx++) {
        const ptrdiff_t ix = base + kx * dw;
        __m512 v;
        if (sw == 1) {
          v = load_s1(r, ix, iw, masked);
        } else if (sw == 2) {
          v = load_s2_even(r, ix, iw, masked);
        } else {
          const __m512i index = _mm512_add_epi32(_mm512_set1_epi32((int32_t)ix), step_iota);
          v = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), lane_mask(ix, step_iota, iw), index, r, 4);
        }
        acc = _mm512_fmadd_ps(v, _mm512_set1_ps(wr[kx]), acc);
      }
    }
    store_outputs(out + x, acc, vmin, vmax, ow - x, g, sw == 2);
  }
}

static void generic_channel(const float* in, const float* w, float b, float* out, __m512 lo, __m512 hi,
                            const dw_geometry* g) {
  const __m512 vbias = _mm512_set1_ps(b);
  for (ptrdiff_t oy = 0; oy < g->oh; oy++) generic_row(in, w, vbias, lo, hi, out + oy * g->ow, oy, g);
}

void spw_f32_dwconv_ukernel_1x16__avx512f(
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
  const __m512 vmin = _mm512_set1_ps(p->output_min), vmax = _mm512_set1_ps(p->output_max);
  if (flat_applicable(&g)) {
    flat_layer(p, &g, input, weights, bias, output, vmin, vmax);
    return;
  }
  void (*channel)(const float*, const float*, float, float*, __m512, __m512, const dw_geometry*) =
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
