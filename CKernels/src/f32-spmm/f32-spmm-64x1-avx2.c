// Sparse x dense, AVX2+FMA: 64 pixels (8 vectors) of one row per step.
//
// Loop order: for each block of pixels, for each row, for each nonzero j of the row: broadcast values[j] and FMA
// it with the 64 input floats at input + offsets[j] + x. The eight accumulators are independent chains, enough to
// cover the FMA latency (4 cycles, 2 per cycle on Zen 3) without splitting a row's sum (which would change the
// summation order the contract fixes). The input block (columns x .. x+63 of every input run) is reused by every
// row, from L1 for up to about 100 input runs, from L2 beyond.
//
// The pixels that do not fill a block go into the last pass, of up to 12 vectors (96 pixels), the last vector
// loaded with vmaskmovps (masked-off lanes are not read, so nothing past input[offsets[j] + pixels - 1] is touched)
// and stored lane by lane: one more pass over the weights costs about as much for 4 pixels as for 64, so 196
// pixels take 64 + 64 + 68 rather than 64 + 64 + 64 + 4.
//
// Measured on Zen 3 (AMD EPYC, 1 thread, CKernels/bench/spmm_bench.c -DSPW_SPMM_EXPERIMENTS, 11 ResNet-50 and
// MobileNetV2 1x1 layers at 70/90/95% sparsity, geometric mean of the fastest-sample time relative to 64x1):
// 32x1 1.20, 48x1 1.09, 80x1 0.99, 96x1 1.00, and with the nonzero loops of several rows interleaved for more
// independent chains 32x2 1.26, 40x2 1.22, 48x2 1.17, 16x4 1.64. With unstructured sparsity two rows share no
// input loads, so interleaving only adds per-nonzero overhead and a tail loop per row. Wider single-row tiles gain
// 3-7% on layers with 24 or 32 input channels and lose up to 15% at 256 input channels and 196 pixels (a reading,
// not measured: their input block, pixels x input runs x 4 bytes, no longer fits L1). The last pass of up to 12
// vectors measured as fast as plain 64-pixel blocks (these layers leave remainders only at 196 and 784 pixels).
// Those tiles stay below as unregistered experiments (-DSPW_SPMM_EXPERIMENTS) for the benchmark.
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

// Adds the residual row (when not NULL), clamps and stores NV vectors; the last one holds `tail` (< 8) pixels when
// MASKED. The elements after the row's last pixel belong to the caller (output_stride may exceed pixels), so no
// full-vector spill store here.
SPW_INLINE void store_row(float* out, const float* res, const __m256* acc, __m256 vmin, __m256 vmax, __m256i mask,
                          size_t tail, const int NV, const bool MASKED) {
  for (int v = 0; v < NV; v++) {
    __m256 sum = acc[v];
    if (res != NULL) {
      sum = _mm256_add_ps(sum, (MASKED && v == NV - 1) ? _mm256_maskload_ps(res + 8 * v, mask)
                                                        : _mm256_loadu_ps(res + 8 * v));
    }
    const __m256 y = _mm256_min_ps(vmax, _mm256_max_ps(vmin, sum));
    if (MASKED && v == NV - 1) {
      spw_avx2_store_partial(out + 8 * v, y, (ptrdiff_t)tail);
    } else {
      _mm256_storeu_ps(out + 8 * v, y);
    }
  }
}

// R rows from r for the pixels [x, x + 8*NV). With R > 1 (experiments only) the rows' nonzero loops are
// interleaved over the shortest row's length, then each row finishes alone; every row accumulates in j order.
SPW_INLINE void spmm_tile(
    const spw_f32_spmm_params* p, const float* in, const uint32_t* row_pointers, const uint32_t* offsets,
    const float* values, const float* bias, float* output, size_t r, size_t x, __m256i mask, size_t tail,
    __m256 vmin, __m256 vmax, const int NV, const int R, const bool MASKED) {
  __m256 acc[4][12];
  uint32_t begin[4], end[4];
  uint32_t common = UINT32_MAX;
  for (int i = 0; i < R; i++) {
    begin[i] = row_pointers[r + i];
    end[i] = row_pointers[r + i + 1];
    SPW_DEBUG_ASSERT(begin[i] <= end[i]);
    common = end[i] - begin[i] < common ? end[i] - begin[i] : common;
    const __m256 b = _mm256_set1_ps(bias != NULL ? bias[r + i] : 0.0f);
    for (int v = 0; v < NV; v++) acc[i][v] = b;
  }
  if (R > 1) {
    for (uint32_t k = 0; k < common; k++) {
      for (int i = 0; i < R; i++) {
        const uint32_t j = begin[i] + k;
        fma_nonzero(acc[i], in + offsets[j], _mm256_broadcast_ss(values + j), mask, NV, MASKED);
      }
    }
  } else {
    common = 0;
  }
  for (int i = 0; i < R; i++) {
    for (uint32_t j = begin[i] + common; j < end[i]; j++) {
      fma_nonzero(acc[i], in + offsets[j], _mm256_broadcast_ss(values + j), mask, NV, MASKED);
    }
    const float* res = p->residual != NULL ? p->residual + (r + i) * p->residual_stride + x : NULL;
    store_row(output + (r + i) * p->output_stride + x, res, acc[i], vmin, vmax, mask, tail, NV, MASKED);
  }
}

// Every row for the pixels [x, x + 8*NV): R rows at a time, then the remaining rows one by one.
SPW_INLINE void spmm_block(
    const spw_f32_spmm_params* p, const float* input, const uint32_t* row_pointers, const uint32_t* offsets,
    const float* values, const float* bias, float* output, size_t x, size_t tail, const int NV, const int R,
    const bool MASKED) {
  const __m256 vmin = _mm256_set1_ps(p->output_min), vmax = _mm256_set1_ps(p->output_max);
  const __m256i mask = spw_avx2_lane_mask(0, spw_avx2_iota(), (ptrdiff_t)tail);
  const float* in = input + x;
  size_t r = 0;
  if (R > 1) {
    for (; r + R <= p->rows; r += R) {
      spmm_tile(p, in, row_pointers, offsets, values, bias, output, r, x, mask, tail, vmin, vmax, NV, R, MASKED);
    }
  }
  for (; r < p->rows; r++) {
    spmm_tile(p, in, row_pointers, offsets, values, bias, output, r, x, mask, tail, vmin, vmax, NV, 1, MASKED);
  }
}

#define SPMM_LAST_PASS_CASE(n)                                                                                    \
  case n:                                                                                                         \
    if (n > NV_LAST) break;                                                                                       \
    if (tail == 8) {                                                                                              \
      spmm_block(p, input, row_pointers, offsets, values, bias, output, x, tail, n, R, false);                    \
    } else {                                                                                                      \
      spmm_block(p, input, row_pointers, offsets, values, bias, output, x, tail, n, R, true);                     \
    }                                                                                                             \
    break;

// Blocks of 8*NV pixels while more than 8*NV_LAST remain, then one pass over the rest (NV_LAST <= 12).
SPW_INLINE void spmm(
    const spw_f32_spmm_params* p, const float* input, const uint32_t* row_pointers, const uint32_t* offsets,
    const float* values, const float* bias, float* output, const int NV, const int NV_LAST, const int R) {
  SPW_DEBUG_ASSERT(p->rows == 0 || p->output_stride >= p->pixels);
  if (p->rows == 0 || p->pixels == 0) return;
  const size_t pixels = p->pixels, block = 8 * (size_t)NV, last = 8 * (size_t)NV_LAST;
  size_t x = 0;
  for (; pixels - x > last; x += block) {
    spmm_block(p, input, row_pointers, offsets, values, bias, output, x, 8, NV, R, false);
  }
  const size_t remainder = pixels - x, vectors = (remainder + 7) / 8, tail = remainder - 8 * (vectors - 1);
  switch (vectors) {
    SPMM_LAST_PASS_CASE(1)
    SPMM_LAST_PASS_CASE(2)
    SPMM_LAST_PASS_CASE(3)
    SPMM_LAST_PASS_CASE(4)
    SPMM_LAST_PASS_CASE(5)
    SPMM_LAST_PASS_CASE(6)
    SPMM_LAST_PASS_CASE(7)
    SPMM_LAST_PASS_CASE(8)
    SPMM_LAST_PASS_CASE(9)
    SPMM_LAST_PASS_CASE(10)
    SPMM_LAST_PASS_CASE(11)
    SPMM_LAST_PASS_CASE(12)
    default: break;
  }
}

#define SPMM_VARIANT(name, nv, nv_last, r)                                                                        \
  void name(const spw_f32_spmm_params* p, const float* input, const uint32_t* row_pointers,                      \
            const uint32_t* offsets, const float* values, const float* bias, float* output) {                     \
    spmm(p, input, row_pointers, offsets, values, bias, output, nv, nv_last, r);                                  \
  }

SPMM_VARIANT(spw_f32_spmm_ukernel_64x1__avx2, 8, 12, 1)

#ifdef SPW_SPMM_EXPERIMENTS
// Tiles measured against 64x1 (pixels x rows; the last pass holds up to the second number of vectors).
SPMM_VARIANT(spw_f32_spmm_ukernel_32x1__avx2, 4, 4, 1)
SPMM_VARIANT(spw_f32_spmm_ukernel_48x1__avx2, 6, 6, 1)
SPMM_VARIANT(spw_f32_spmm_ukernel_64x1_plain__avx2, 8, 8, 1)
SPMM_VARIANT(spw_f32_spmm_ukernel_80x1__avx2, 10, 12, 1)
SPMM_VARIANT(spw_f32_spmm_ukernel_96x1__avx2, 12, 12, 1)
SPMM_VARIANT(spw_f32_spmm_ukernel_32x2__avx2, 4, 4, 2)
SPMM_VARIANT(spw_f32_spmm_ukernel_40x2__avx2, 5, 5, 2)
SPMM_VARIANT(spw_f32_spmm_ukernel_48x2__avx2, 6, 6, 2)
SPMM_VARIANT(spw_f32_spmm_ukernel_16x4__avx2, 2, 2, 4)
#endif

SPW_TARGET_END

#endif  // SPW_ARCH_X86
