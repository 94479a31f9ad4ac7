// Internal helpers of the quantized kernels: the requantization of the public header, written once, and the
// packed GEMM weight layout. Scalar code; the AVX2 counterparts are in x86-avx2-qu8.h.
#ifndef SPW_QU8_H
#define SPW_QU8_H

#include <math.h>
#include <string.h>

#include "common.h"

// Requantization bounds: output_min/max less the zero point, as floats (exact: |value| <= 255).
typedef struct spw_qu8_bounds {
  float lo;
  float hi;
  int32_t zero_point;
} spw_qu8_bounds;

static inline spw_qu8_bounds spw_qu8_make_bounds(uint8_t zero_point, uint8_t output_min, uint8_t output_max) {
  const spw_qu8_bounds b = {
    .lo = (float)((int32_t)output_min - (int32_t)zero_point),
    .hi = (float)((int32_t)output_max - (int32_t)zero_point),
    .zero_point = zero_point,
  };
  return b;
}

// The second half of the requantization: clamp, round, add the zero point. The ternaries are MAXPS(v, lo) and
// MINPS(v, hi) exactly, NaN included. lrintf rounds half to even in the default rounding mode, as cvtps2dq does;
// v is within [-255, 255] by then, so the conversion cannot overflow.
static inline uint8_t spw_qu8_clamp_round(float v, spw_qu8_bounds b) {
  v = v > b.lo ? v : b.lo;
  v = v < b.hi ? v : b.hi;
  return (uint8_t)((int32_t)lrintf(v) + b.zero_point);
}

// One statement per fp32 operation: clang contracts only within an expression (-ffp-contract=on, SwiftPM's
// default), and there is nothing to contract here anyway (no addition follows the product).
static inline uint8_t spw_qu8_requantize(int32_t acc, float multiplier, spw_qu8_bounds b) {
  float v = (float)acc;
  v = v * multiplier;
  return spw_qu8_clamp_round(v, b);
}

// Wrapping int32 addition and multiplication: the contract lets sums overflow (modulo 2^32, as vpaddd does), which
// signed C arithmetic may not.
static inline int32_t spw_wrap_add_s32(int32_t a, int32_t b) { return (int32_t)((uint32_t)a + (uint32_t)b); }
static inline int32_t spw_wrap_mul_s32(int32_t a, int32_t b) { return (int32_t)((uint32_t)a * (uint32_t)b); }

// MARK: - Packed GEMM weights (layout in sparrow_kernels.h, spw_qs8_gemm_pack)

_Static_assert(SPW_QS8_GEMM_PANEL_ROWS == 8, "the panel layout below has 8 rows");
#define SPW_QS8_GEMM_PANEL_HEADER 32  // int32 row sums of the 8 rows
#define SPW_QS8_GEMM_PAIR_BYTES 32    // 8 rows x 2 int16 per pair of k

static inline size_t spw_qs8_gemm_panel_bytes(size_t depth) {
  return SPW_QS8_GEMM_PANEL_HEADER + SPW_QS8_GEMM_PAIR_BYTES * ((depth + 1) / 2);
}

// Weight w[8p + i][k] of the panel at `panel`.
static inline int32_t spw_qs8_gemm_packed_weight(const uint8_t* panel, size_t i, size_t k) {
  int16_t w;
  memcpy(&w, panel + SPW_QS8_GEMM_PANEL_HEADER + (k / 2) * SPW_QS8_GEMM_PAIR_BYTES + i * 4 + (k % 2) * 2, sizeof w);
  return w;
}

static inline int32_t spw_qs8_gemm_packed_row_sum(const uint8_t* panel, size_t i) {
  int32_t sum;
  memcpy(&sum, panel + i * 4, sizeof sum);
  return sum;
}

#endif  // SPW_QU8_H
