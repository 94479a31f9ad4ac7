// Sparse x dense, AVX-512F: 64 pixels (4 vectors) of one row per step.
//
// The algorithm of f32-spmm-64x1-avx2.c (read its comments) with 16 lanes and mask registers: the same 64-pixel
// block and the same input reuse, half the instructions. Four zmm chains cover the FMA latency on Zen 4, which
// runs one 512-bit FMA per cycle; a core with two 512-bit FMA ports would want eight (128 pixels, or two rows).
// The last pass holds up to 6 vectors (96 pixels), its last vector loaded and stored under a mask (masked-off
// lanes are neither read nor written).
// NOT MEASURED: written on a host without AVX-512. Its tests ran only in emulation (SIMDe's portable AVX-512,
// with lane-exact masked loads and stores); on a host with AVX-512F the CKernels tests run it natively.
#include "../kernels.h"

#if SPW_ARCH_X86
#include <immintrin.h>

SPW_TARGET_BEGIN_AVX512F

// acc[v] += w * x[16v .. 16v+16) for v < NV; the last vector masked when MASKED.
SPW_INLINE void fma_nonzero(__m512* acc, const float* x, __m512 w, __mmask16 mask, const int NV, const bool MASKED) {
  for (int v = 0; v < NV; v++) {
    const __m512 in =
        (MASKED && v == NV - 1) ? _mm512_maskz_loadu_ps(mask, x + 16 * v) : _mm512_loadu_ps(x + 16 * v);
    acc[v] = _mm512_fmadd_ps(in, w, acc[v]);
  }
}

// Adds the residual row (when not NULL), clamps and stores NV vectors.
SPW_INLINE void store_row(float* out, const float* res, const __m512* acc, __m512 vmin, __m512 vmax, __mmask16 mask,
                          const int NV, const bool MASKED) {
  for (int v = 0; v < NV; v++) {
    __m512 sum = acc[v];
    if (res != NULL) {
      sum = _mm512_add_ps(sum, (MASKED && v == NV - 1) ? _mm512_maskz_loadu_ps(mask, res + 16 * v)
                                                        : _mm512_loadu_ps(res + 16 * v));
    }
    const __m512 y = _mm512_min_ps(vmax, _mm512_max_ps(vmin, sum));
    if (MASKED && v == NV - 1) {
      _mm512_mask_storeu_ps(out + 16 * v, mask, y);
    } else {
      _mm512_storeu_ps(out + 16 * v, y);
    }
  }
}

// Every row for the pixels [x, x + 16*NV); the last vector holds the pixels of `mask` when MASKED.
SPW_INLINE void spmm_block(
    const spw_f32_spmm_params* p, const float* input, const uint32_t* row_pointers, const uint32_t* offsets,
    const float* values, const float* bias, float* output, size_t x, __mmask16 mask, const int NV,
    const bool MASKED) {
  const __m512 vmin = _mm512_set1_ps(p->output_min), vmax = _mm512_set1_ps(p->output_max);
  const float* in = input + x;
  for (size_t r = 0; r < p->rows; r++) {
    const uint32_t begin = row_pointers[r], end = row_pointers[r + 1];
    SPW_DEBUG_ASSERT(begin <= end);
    __m512 acc[6];
    const __m512 b = _mm512_set1_ps(bias != NULL ? bias[r] : 0.0f);
    for (int v = 0; v < NV; v++) acc[v] = b;
    for (uint32_t j = begin; j < end; j++) {
      fma_nonzero(acc, in + offsets[j], _mm512_set1_ps(values[j]), mask, NV, MASKED);
    }
    const float* res = p->residual != NULL ? p->residual + r * p->residual_stride + x : NULL;
    store_row(output + r * p->output_stride + x, res, acc, vmin, vmax, mask, NV, MASKED);
  }
}

#define SPMM_LAST_PASS_CASE(n)                                                                                    \
  case n:                                                                                                         \
    if (tail == 16) {                                                                                             \
      spmm_block(p, input, row_pointers, offsets, values, bias, output, x, 0xFFFF, n, false);                    \
    } else {                                                                                                      \
      spmm_block(p, input, row_pointers, offsets, values, bias, output, x, mask, n, true);                       \
    }                                                                                                             \
    break;

void spw_f32_spmm_ukernel_64x1__avx512f(
    const spw_f32_spmm_params* p, const float* input, const uint32_t* row_pointers, const uint32_t* offsets,
    const float* values, const float* bias, float* output) {
  SPW_DEBUG_ASSERT(p->rows == 0 || p->output_stride >= p->pixels);
  if (p->rows == 0 || p->pixels == 0) return;
  const size_t pixels = p->pixels;
  size_t x = 0;
  // Blocks of 64 pixels while more than 96 remain, then one pass of 1 to 6 vectors.
  for (; pixels - x > 96; x += 64) {
    spmm_block(p, input, row_pointers, offsets, values, bias, output, x, 0xFFFF, 4, false);
  }
  const size_t remainder = pixels - x, vectors = (remainder + 15) / 16, tail = remainder - 16 * (vectors - 1);
  const __mmask16 mask = (__mmask16)((1u << tail) - 1u);
  switch (vectors) {
    SPMM_LAST_PASS_CASE(1)
    SPMM_LAST_PASS_CASE(2)
    SPMM_LAST_PASS_CASE(3)
    SPMM_LAST_PASS_CASE(4)
    SPMM_LAST_PASS_CASE(5)
    SPMM_LAST_PASS_CASE(6)
    default: break;
  }
}

SPW_TARGET_END

#endif  // SPW_ARCH_X86
