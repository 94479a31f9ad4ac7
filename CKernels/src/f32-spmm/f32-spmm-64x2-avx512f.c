// Sparse x dense, AVX-512F: 64 pixels (4 vectors) of 2 rows per step.
//
// The same algorithm as f32-spmm-32x2-avx2.c with 16 lanes and mask registers: read that file's comments. Eight
// zmm accumulators in independent chains cover the FMA latency (4 cycles) at one or two 512-bit FMAs per cycle.
// NOT measured: written and compiled on a host without AVX-512 (see the tests for correctness on a host with it).
#include "../kernels.h"

#if SPW_ARCH_X86
#include <immintrin.h>

SPW_TARGET_BEGIN_AVX512F

// acc[v] += w * x[16v .. 16v+16) for v < NV; the last vector masked (masked-off lanes are not read) when MASKED.
SPW_INLINE void fma_nonzero(__m512* acc, const float* x, __m512 w, __mmask16 mask, const int NV, const bool MASKED) {
  for (int v = 0; v < NV; v++) {
    const __m512 in =
        (MASKED && v == NV - 1) ? _mm512_maskz_loadu_ps(mask, x + 16 * v) : _mm512_loadu_ps(x + 16 * v);
    acc[v] = _mm512_fmadd_ps(in, w, acc[v]);
  }
}

SPW_INLINE void store_row(float* out, const __m512* acc, __m512 vmin, __m512 vmax, __mmask16 mask, const int NV,
                          const bool MASKED) {
  for (int v = 0; v < NV; v++) {
    const __m512 y = _mm512_min_ps(vmax, _mm512_max_ps(vmin, acc[v]));
    if (MASKED && v == NV - 1) {
      _mm512_mask_storeu_ps(out + 16 * v, mask, y);
    } else {
      _mm512_storeu_ps(out + 16 * v, y);
    }
  }
}

// R rows starting at r for the pixels [x, x + 16*NV), interleaved over the shortest row's nonzeros.
SPW_INLINE void spmm_tile(
    const spw_f32_spmm_params* p, const float* in, const uint32_t* row_pointers, const uint32_t* offsets,
    const float* values, const float* bias, float* output, size_t r, size_t x, __mmask16 mask, __m512 vmin,
    __m512 vmax, const int NV, const int R, const bool MASKED) {
  __m512 acc[2][8];
  uint32_t begin[2], count[2];
  uint32_t common = UINT32_MAX;
  for (int i = 0; i < R; i++) {
    begin[i] = row_pointers[r + i];
    count[i] = row_pointers[r + i + 1] - begin[i];
    common = count[i] < common ? count[i] : common;
    const __m512 b = _mm512_set1_ps(bias != NULL ? bias[r + i] : 0.0f);
    for (int v = 0; v < NV; v++) acc[i][v] = b;
  }
  for (uint32_t k = 0; k < common; k++) {
    for (int i = 0; i < R; i++) {
      const uint32_t j = begin[i] + k;
      fma_nonzero(acc[i], in + offsets[j], _mm512_set1_ps(values[j]), mask, NV, MASKED);
    }
  }
  for (int i = 0; i < R; i++) {
    for (uint32_t j = begin[i] + common; j < begin[i] + count[i]; j++) {
      fma_nonzero(acc[i], in + offsets[j], _mm512_set1_ps(values[j]), mask, NV, MASKED);
    }
    store_row(output + (r + i) * p->output_stride + x, acc[i], vmin, vmax, mask, NV, MASKED);
  }
}

SPW_INLINE void spmm_block(
    const spw_f32_spmm_params* p, const float* input, const uint32_t* row_pointers, const uint32_t* offsets,
    const float* values, const float* bias, float* output, size_t x, size_t tail, const int NV, const int R,
    const bool MASKED) {
  const __m512 vmin = _mm512_set1_ps(p->output_min), vmax = _mm512_set1_ps(p->output_max);
  const __mmask16 mask = (__mmask16)((1u << tail) - 1u);
  const float* in = input + x;
  const size_t rows = p->rows;
  size_t r = 0;
  for (; r + R <= rows; r += R) {
    spmm_tile(p, in, row_pointers, offsets, values, bias, output, r, x, mask, vmin, vmax, NV, R, MASKED);
  }
  for (; r < rows; r++) {
    spmm_tile(p, in, row_pointers, offsets, values, bias, output, r, x, mask, vmin, vmax, NV, 1, MASKED);
  }
}

#define SPMM_REMAINDER_CASE(n)                                                                                    \
  case n:                                                                                                         \
    if (n > NV_LAST) break;                                                                                       \
    if (tail == 16) {                                                                                             \
      spmm_block(p, input, row_pointers, offsets, values, bias, output, x, tail, n, R, false);                    \
    } else {                                                                                                      \
      spmm_block(p, input, row_pointers, offsets, values, bias, output, x, tail, n, R, true);                     \
    }                                                                                                             \
    break;

// Full blocks of 16*NV_MAX pixels while more than 16*NV_LAST remain, then one pass over the rest.
SPW_INLINE void spmm(
    const spw_f32_spmm_params* p, const float* input, const uint32_t* row_pointers, const uint32_t* offsets,
    const float* values, const float* bias, float* output, const int NV_MAX, const int NV_LAST, const int R) {
  SPW_DEBUG_ASSERT(p->rows == 0 || p->output_stride >= p->pixels);
  if (p->rows == 0 || p->pixels == 0) return;
  const size_t pixels = p->pixels, mr = 16 * (size_t)NV_MAX, last = 16 * (size_t)NV_LAST;
  size_t x = 0;
  for (; pixels - x > last; x += mr) {
    spmm_block(p, input, row_pointers, offsets, values, bias, output, x, 16, NV_MAX, R, false);
  }
  const size_t remainder = pixels - x, vectors = (remainder + 15) / 16, tail = remainder - 16 * (vectors - 1);
  switch (vectors) {
    SPMM_REMAINDER_CASE(1)
    SPMM_REMAINDER_CASE(2)
    SPMM_REMAINDER_CASE(3)
    SPMM_REMAINDER_CASE(4)
    SPMM_REMAINDER_CASE(5)
    SPMM_REMAINDER_CASE(6)
    default: break;
  }
}

void spw_f32_spmm_ukernel_64x2__avx512f(
    const spw_f32_spmm_params* p, const float* input, const uint32_t* row_pointers, const uint32_t* offsets,
    const float* values, const float* bias, float* output) {
  spmm(p, input, row_pointers, offsets, values, bias, output, 4, 4, 2);
}

SPW_TARGET_END

#endif  // SPW_ARCH_X86
