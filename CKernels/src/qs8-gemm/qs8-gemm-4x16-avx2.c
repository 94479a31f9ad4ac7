// Quantized matrix product, AVX2: 4 rows x 16 columns of int32 accumulators per tile.
//
// No VNNI on the target (Zen 3), and vpmaddubsw (u8 x s8 -> saturating s16 pair sums) is not exact: 255 * -128 * 2
// = -65280 does not fit int16. So both operands are widened to int16 and multiplied with vpmaddwd (s16 x s16 ->
// exact s32 pair sums, |sum| <= 65280): half the products per instruction of vpmaddubsw, one vpaddd per vpmaddwd,
// and the activations must be interleaved and widened in the loop. The weights are widened once, when packing:
// each panel holds, per pair of k, the int16 pairs {w[r][k], w[r][k+1]} of its 8 rows, and one 32-bit broadcast
// feeds a row. The activations of rows k and k+1 (16 columns each) are interleaved byte by byte (punpcklbw/hbw) and
// zero-extended (vpmovzxbw), giving per 32-bit lane the pair {x[k][c], x[k+1][c]} of one column. Per pair of k a
// 4x16 tile costs 2 loads, 4 shuffles, 4 broadcasts, 8 vpmaddwd and 8 vpaddd for 128 multiply-adds.
//
// The input zero point is not subtracted in the loop: sum w*(x - z) = sum w*x - z * sum w, the row sums coming
// from the packed panel. All integer arithmetic wraps (vpaddd, and uint32 for the correction), like the
// reference's, so the int32 results are the reference's for any input; the epilogues do the reference's fp32
// operations in its order (qu8.h).
//
// Columns: tiles of 16, then one of 8, then the last 8 columns again (overlapping, rewriting equal values) when at
// least 8 columns exist, else the < 8 columns with partial loads and stores. Rows: the two 4-row halves of each
// 8-row panel; rows past `rows` are computed (their weights are zero) and not stored. For an odd depth the last k
// pairs row k with itself, against a zero weight, so no input row past the last is read.
#include "../kernels.h"
#include "../qu8.h"

#if SPW_ARCH_X86
#include <immintrin.h>

SPW_TARGET_BEGIN_AVX2

#include "../x86-avx2.h"
#include "../x86-avx2-qu8.h"

typedef struct gemm_args {
  const spw_qs8_gemm_params* p;
  const uint8_t* input;
  const uint8_t* packed;
  size_t panel_bytes;
  const void* bias;
  const float* scales;
  void* output;
  spw_avx2_qu8_bounds bounds;
  __m256 float_min;
  __m256 float_max;
} gemm_args;

// {x0[c], x1[c]} as int16 pairs for columns [0, 8*NV) (or [0, partial) when PARTIAL; zeros above).
SPW_INLINE void load_pairs(const uint8_t* x0, const uint8_t* x1, __m256i* v, size_t partial, const int NV,
                           const bool PARTIAL) {
  if (NV == 2) {
    const __m128i a = _mm_loadu_si128((const __m128i*)x0), b = _mm_loadu_si128((const __m128i*)x1);
    v[0] = _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(a, b));
    v[1] = _mm256_cvtepu8_epi16(_mm_unpackhi_epi8(a, b));
  } else {
    const __m128i a = PARTIAL ? spw_load_u8_partial(x0, partial) : _mm_loadl_epi64((const __m128i*)x0);
    const __m128i b = PARTIAL ? spw_load_u8_partial(x1, partial) : _mm_loadl_epi64((const __m128i*)x1);
    v[0] = _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(a, b));
  }
}

// Stores 8*NV int32 lanes of `t` (or `partial` of them) as the output type.
SPW_INLINE void store_row(const gemm_args* a, size_t row, size_t c, const __m256i* t, size_t partial, const int NV,
                          const bool PARTIAL, const int OUT) {
  const size_t o = row * a->p->output_stride + c;
  if (OUT == SPW_QS8_GEMM_OUTPUT_QU8) {
    const __m256 multiplier = _mm256_set1_ps(a->scales[row]);
    uint8_t* out = (uint8_t*)a->output + o;
    if (NV == 2) {
      const __m256i q0 = spw_avx2_qu8_requantize(t[0], multiplier, &a->bounds);
      const __m256i q1 = spw_avx2_qu8_requantize(t[1], multiplier, &a->bounds);
      _mm_storeu_si128((__m128i*)out, spw_avx2_pack_u8x16(q0, q1));
    } else {
      const __m128i q = spw_avx2_pack_u8x8(spw_avx2_qu8_requantize(t[0], multiplier, &a->bounds));
      if (PARTIAL) {
        spw_store_u8_partial(out, q, partial);
      } else {
        _mm_storel_epi64((__m128i*)out, q);
      }
    }
  } else if (OUT == SPW_QS8_GEMM_OUTPUT_F32) {
    const __m256 scale = _mm256_set1_ps(a->scales[row]);
    const __m256 bias = _mm256_set1_ps(a->bias != NULL ? ((const float*)a->bias)[row] : 0.0f);
    float* out = (float*)a->output + o;
    for (int j = 0; j < NV; j++) {
      __m256 v = _mm256_cvtepi32_ps(t[j]);
      v = _mm256_mul_ps(v, scale);
      v = _mm256_add_ps(v, bias);
      v = _mm256_min_ps(a->float_max, _mm256_max_ps(a->float_min, v));
      if (PARTIAL) {
        spw_avx2_store_partial(out, v, (ptrdiff_t)partial);
      } else {
        _mm256_storeu_ps(out + 8 * j, v);
      }
    }
  } else {
    int32_t* out = (int32_t*)a->output + o;
    for (int j = 0; j < NV; j++) {
      if (PARTIAL) {
        spw_avx2_store_partial((float*)out, _mm256_castsi256_ps(t[j]), (ptrdiff_t)partial);  // moves bits only
      } else {
        _mm256_storeu_si256((__m256i*)(out + 8 * j), t[j]);
      }
    }
  }
}

// Rows [row, row + rows) (rows <= MR), which are rows [i0, i0 + MR) of `panel`, for columns [c, c + 8*NV).
SPW_INLINE void gemm_tile(const gemm_args* a, const uint8_t* panel, size_t i0, size_t row, size_t rows, size_t c,
                          size_t partial, const int MR, const int NV, const bool PARTIAL, const int OUT) {
  const size_t depth = a->p->depth, stride = a->p->input_stride;
  const uint8_t* x = a->input + c;
  const uint8_t* w = panel + SPW_QS8_GEMM_PANEL_HEADER + i0 * 4;
  __m256i acc[8][2];
  for (int i = 0; i < MR; i++) {
    for (int j = 0; j < NV; j++) acc[i][j] = _mm256_setzero_si256();
  }
  for (size_t k = 0; k < depth; k += 2, w += SPW_QS8_GEMM_PAIR_BYTES) {
    const uint8_t* x0 = x + k * stride;
    __m256i v[2];
    load_pairs(x0, k + 1 < depth ? x0 + stride : x0, v, partial, NV, PARTIAL);
    for (int i = 0; i < MR; i++) {
      const __m256i wi = spw_avx2_broadcast_u32(w + 4 * i);
      for (int j = 0; j < NV; j++) acc[i][j] = _mm256_add_epi32(acc[i][j], _mm256_madd_epi16(v[j], wi));
    }
  }
  const int32_t zero_point = a->p->input_zero_point;
  for (int i = 0; i < MR; i++) {
    if ((size_t)i >= rows) break;
    const size_t r = row + (size_t)i;
    const int32_t bias =
        OUT != SPW_QS8_GEMM_OUTPUT_F32 && a->bias != NULL ? ((const int32_t*)a->bias)[r] : 0;
    const int32_t correction =
        spw_wrap_add_s32(bias, spw_wrap_mul_s32(-zero_point, spw_qs8_gemm_packed_row_sum(panel, i0 + (size_t)i)));
    const __m256i vcorrection = _mm256_set1_epi32(correction);
    __m256i t[2];
    for (int j = 0; j < NV; j++) t[j] = _mm256_add_epi32(acc[i][j], vcorrection);
    store_row(a, r, c, t, partial, NV, PARTIAL, OUT);
  }
}

// Every row for columns [c, c + 8*NV).
SPW_INLINE void gemm_columns(const gemm_args* a, size_t c, size_t partial, const int MR, const int NV,
                             const bool PARTIAL, const int OUT) {
  const size_t rows = a->p->rows;
  const uint8_t* panel = a->packed;
  for (size_t r0 = 0; r0 < rows; r0 += SPW_QS8_GEMM_PANEL_ROWS, panel += a->panel_bytes) {
    for (size_t i0 = 0; i0 < SPW_QS8_GEMM_PANEL_ROWS && r0 + i0 < rows; i0 += (size_t)MR) {
      gemm_tile(a, panel, i0, r0 + i0, spw_min_size((size_t)MR, rows - r0 - i0), c, partial, MR, NV, PARTIAL,
                OUT);
    }
  }
}

SPW_INLINE void gemm(const gemm_args* a, const int MR, const int NV, const int OUT) {
  const size_t columns = a->p->columns, block = 8 * (size_t)NV;
  size_t c = 0;
  for (; columns - c >= block; c += block) gemm_columns(a, c, 0, MR, NV, false, OUT);
  if (NV == 2 && columns - c >= 8) {
    gemm_columns(a, c, 0, MR, 1, false, OUT);
    c += 8;
  }
  if (c < columns) {
    if (columns >= 8) {
      gemm_columns(a, columns - 8, 0, MR, 1, false, OUT);
    } else {
      gemm_columns(a, c, columns - c, MR, 1, true, OUT);
    }
  }
}

SPW_INLINE void qs8_gemm(
    const spw_qs8_gemm_params* p, const uint8_t* input, const void* packed_weights, const void* bias,
    const float* scales, void* output, const int MR, const int NV) {
  SPW_DEBUG_ASSERT(p->rows == 0 || (p->input_stride >= p->columns && p->output_stride >= p->columns));
  if (p->rows == 0 || p->columns == 0) return;
  const gemm_args a = {
    .p = p, .input = input, .packed = (const uint8_t*)packed_weights,
    .panel_bytes = spw_qs8_gemm_panel_bytes(p->depth), .bias = bias, .scales = scales, .output = output,
    .bounds = spw_avx2_qu8_broadcast_bounds(spw_qu8_make_bounds(p->output_zero_point, p->output_min,
                                                                 p->output_max)),
    .float_min = _mm256_set1_ps(p->float_min), .float_max = _mm256_set1_ps(p->float_max),
  };
  switch (p->output_type) {
    case SPW_QS8_GEMM_OUTPUT_QU8: gemm(&a, MR, NV, SPW_QS8_GEMM_OUTPUT_QU8); break;
    case SPW_QS8_GEMM_OUTPUT_F32: gemm(&a, MR, NV, SPW_QS8_GEMM_OUTPUT_F32); break;
    case SPW_QS8_GEMM_OUTPUT_S32: gemm(&a, MR, NV, SPW_QS8_GEMM_OUTPUT_S32); break;
  }
}

#define QS8_GEMM_VARIANT(name, mr, nv)                                                                            \
  void name(const spw_qs8_gemm_params* p, const uint8_t* input, const void* packed_weights, const void* bias,    \
            const float* scales, void* output) {                                                                 \
    qs8_gemm(p, input, packed_weights, bias, scales, output, mr, nv);                                            \
  }

QS8_GEMM_VARIANT(spw_qs8_gemm_ukernel_4x16__avx2, 4, 2)

#ifdef SPW_QS8_GEMM_EXPERIMENTS
// Tiles measured against 4x16 (rows x columns), CKernels/bench/qs8_gemm_bench.c.
QS8_GEMM_VARIANT(spw_qs8_gemm_ukernel_8x8__avx2, 8, 1)
QS8_GEMM_VARIANT(spw_qs8_gemm_ukernel_4x8__avx2, 4, 1)
#endif

SPW_TARGET_END

#endif  // SPW_ARCH_X86
