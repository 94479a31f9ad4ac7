// Sparse x dense, AVX2+FMA: 32 pixels (4 vectors) of 2 rows per step.
#include "../kernels.h"

#if SPW_ARCH_X86
#include <immintrin.h>

SPW_TARGET_BEGIN_AVX2

#include "../x86-avx2.h"

// acc[v] += w * x[8v .. 8v+8) for v < NV; the last vector masked when MASKED.
SPW_INLINE void fma_nonzero(__m256* acc, const float* x, __m256 w, __m256i mask, const int NV, const bool MASKED) {
  for (int v = 0; v < NV; v++) {
    const __m256 in = (MASKED && v == NV - 1) ? _mm256_maskload_ps(x + 8 * v, mask) : _mm256_loadu_ps(x + 8 * v);
    acc[v] = _mm256_fmadd_ps(in, w, acc[v]);
  }
}

SPW_INLINE void store_row(float* out, const __m256* acc, __m256 vmin, __m256 vmax, size_t tail, const int NV,
                          const bool MASKED) {
  for (int v = 0; v < NV; v++) {
    const __m256 y = _mm256_min_ps(vmax, _mm256_max_ps(vmin, acc[v]));
    if (MASKED && v == NV - 1) {
      spw_avx2_store_partial(out + 8 * v, y, (ptrdiff_t)tail);
    } else {
      _mm256_storeu_ps(out + 8 * v, y);
    }
  }
}

// R rows starting at r for the pixels [x, x + 8*NV) (the last vector holds `tail` pixels when MASKED). The rows'
// nonzero loops are interleaved over the shortest row's length, which multiplies the independent FMA chains by R;
// each row then finishes alone. Every row still accumulates in j order.
SPW_INLINE void spmm_tile(
    const spw_f32_spmm_params* p, const float* in, const uint32_t* row_pointers, const uint32_t* offsets,
    const float* values, const float* bias, float* output, size_t r, size_t x, __m256i mask, size_t tail,
    __m256 vmin, __m256 vmax, const int NV, const int R, const bool MASKED) {
  __m256 acc[4][16];
  uint32_t begin[4], count[4];
  uint32_t common = UINT32_MAX;
  for (int i = 0; i < R; i++) {
    begin[i] = row_pointers[r + i];
    count[i] = row_pointers[r + i + 1] - begin[i];
    common = count[i] < common ? count[i] : common;
    const __m256 b = _mm256_set1_ps(bias != NULL ? bias[r + i] : 0.0f);
    for (int v = 0; v < NV; v++) acc[i][v] = b;
  }
  for (uint32_t k = 0; k < common; k++) {
    for (int i = 0; i < R; i++) {
      const uint32_t j = begin[i] + k;
      fma_nonzero(acc[i], in + offsets[j], _mm256_broadcast_ss(values + j), mask, NV, MASKED);
    }
  }
  for (int i = 0; i < R; i++) {
    for (uint32_t j = begin[i] + common; j < begin[i] + count[i]; j++) {
      fma_nonzero(acc[i], in + offsets[j], _mm256_broadcast_ss(values + j), mask, NV, MASKED);
    }
    store_row(output + (r + i) * p->output_stride + x, acc[i], vmin, vmax, tail, NV, MASKED);
  }
}

// Every row for the pixels [x, x + 8*NV): R rows at a time, then the last rows one by one.
SPW_INLINE void spmm_block(
    const spw_f32_spmm_params* p, const float* input, const uint32_t* row_pointers, const uint32_t* offsets,
    const float* values, const float* bias, float* output, size_t x, size_t tail, const int NV, const int R,
    const bool MASKED) {
  const __m256 vmin = _mm256_set1_ps(p->output_min), vmax = _mm256_set1_ps(p->output_max);
  const __m256i mask = spw_avx2_lane_mask(0, spw_avx2_iota(), (ptrdiff_t)tail);
  const float* in = input + x;
  const size_t rows = p->rows;
  size_t r = 0;
  for (; r + R <= rows; r += R) {
    spmm_tile(p, in, row_pointers, offsets, values, bias, output, r, x, mask, tail, vmin, vmax, NV, R, MASKED);
  }
  for (; r < rows; r++) {
    spmm_tile(p, in, row_pointers, offsets, values, bias, output, r, x, mask, tail, vmin, vmax, NV, 1, MASKED);
  }
}

// Full blocks of 8*NV_MAX pixels, then one pass over the remainder with as many vectors as it needs, the last one
// masked (one pass over the weights rather than 16 + 8 + masked passes).
#define SPMM_REMAINDER_CASE(n)                                                                                    \
  case n:                                                                                                         \
    if (n > NV_LAST) break;                                                                                       \
    if (tail == 8) {                                                                                              \
      spmm_block(p, input, row_pointers, offsets, values, bias, output, x, tail, n, R, false);                    \
    } else {                                                                                                      \
      spmm_block(p, input, row_pointers, offsets, values, bias, output, x, tail, n, R, true);                     \
    }                                                                                                             \
    break;

SPW_INLINE void spmm(
    const spw_f32_spmm_params* p, const float* input, const uint32_t* row_pointers, const uint32_t* offsets,
    const float* values, const float* bias, float* output, const int NV_MAX, const int NV_LAST, const int R) {
  SPW_DEBUG_ASSERT(p->rows == 0 || p->output_stride >= p->pixels);
  if (p->rows == 0 || p->pixels == 0) return;
  const size_t pixels = p->pixels, mr = 8 * (size_t)NV_MAX, last = 8 * (size_t)NV_LAST;
  size_t x = 0;
  for (; pixels - x > last; x += mr) {
    spmm_block(p, input, row_pointers, offsets, values, bias, output, x, 8, NV_MAX, R, false);
  }
  const size_t remainder = pixels - x, vectors = (remainder + 7) / 8, tail = remainder - 8 * (vectors - 1);
  switch (vectors) {
    SPMM_REMAINDER_CASE(1)
    SPMM_REMAINDER_CASE(2)
    SPMM_REMAINDER_CASE(3)
    SPMM_REMAINDER_CASE(4)
    SPMM_REMAINDER_CASE(5)
    SPMM_REMAINDER_CASE(6)
    SPMM_REMAINDER_CASE(7)
    SPMM_REMAINDER_CASE(8)
    SPMM_REMAINDER_CASE(9)
    SPMM_REMAINDER_CASE(10)
    SPMM_REMAINDER_CASE(11)
    SPMM_REMAINDER_CASE(12)
    default: break;
  }
}

#define SPMM_VARIANT(name, nv_max, nv_last, r)                                                                   \
  void name(const spw_f32_spmm_params* p, const float* input, const uint32_t* row_pointers,                      \
            const uint32_t* offsets, const float* values, const float* bias, float* output) {                     \
    spmm(p, input, row_pointers, offsets, values, bias, output, nv_max, nv_last, r);                              \
  }

SPMM_VARIANT(spw_f32_spmm_ukernel_32x2__avx2, 4, 4, 2)

#ifdef SPW_SPMM_EXPERIMENTS
SPMM_VARIANT(spw_f32_spmm_ukernel_32x1__avx2, 4, 4, 1)
SPMM_VARIANT(spw_f32_spmm_ukernel_64x1__avx2, 8, 8, 1)
SPMM_VARIANT(spw_f32_spmm_ukernel_48x1__avx2, 6, 6, 1)
SPMM_VARIANT(spw_f32_spmm_ukernel_16x2__avx2, 2, 2, 2)
SPMM_VARIANT(spw_f32_spmm_ukernel_24x2__avx2, 3, 3, 2)
SPMM_VARIANT(spw_f32_spmm_ukernel_40x2__avx2, 5, 5, 2)
SPMM_VARIANT(spw_f32_spmm_ukernel_64x1m__avx2, 8, 12, 1)
SPMM_VARIANT(spw_f32_spmm_ukernel_32x2m__avx2, 4, 6, 2)
SPMM_VARIANT(spw_f32_spmm_ukernel_16x4__avx2, 2, 2, 4)
#endif

SPW_TARGET_END

#endif  // SPW_ARCH_X86
