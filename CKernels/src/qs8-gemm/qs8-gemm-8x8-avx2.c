// Quantized matrix product, AVX2: 8 rows x 8 columns of int32 accumulators per tile, the activations of the tile's
// columns widened once into a strip on the stack.
//
// No VNNI on the target (Zen 3), and vpmaddubsw (u8 x s8 -> saturating s16 pair sums) is not exact: 255 * -128 * 2
// = -65280 does not fit int16. So both operands are widened to int16 and multiplied with vpmaddwd (s16 x s16 ->
// exact s32 pair sums, |sum| <= 65280): 16 multiply-adds per instruction where vpmaddubsw would do 32, and one
// vpaddd per vpmaddwd to accumulate (VNNI's vpdpwssd would fuse the two). The weights are widened once, when
// packing: each panel holds, per pair of k, the int16 pairs {w[r][k], w[r][k+1]} of its 8 rows, so one 32-bit
// broadcast feeds a row. The activations of 8 columns are widened once per column block into a strip of int16
// pairs {x[k][c], x[k+1][c]}, one 32-byte vector per pair of k, which every 8-row panel then reads from L1: per pair
// of k a tile costs 1 load, 8 broadcasts, 8 vpmaddwd and 8 vpaddd for 128 multiply-adds, no shuffle.
//
// The strip covers up to 1024 k (16 KB, with the panel stream well within L1); deeper products go in chunks of
// 1024 k, the accumulators of up to 256 rows waiting on the stack (8 KB) between chunks. The input zero point is
// not subtracted in the loop: sum w*(x - z) = sum w*x - z * sum w, the row sums coming from the packed panel. All
// integer arithmetic wraps (vpaddd, and uint32 for the correction), like the reference's, so the int32 results are
// the reference's for any input; the epilogues do the reference's fp32 operations in its order (qu8.h).
//
// Measured against the first version of this kernel (CKernels/bench/qs8_gemm_bench.c, Zen 3, 1 thread, the
// 11 layers of the bench, busy machine): a 4x16 tile that interleaved and widened the activations inside the
// k loop (2 loads and 4 shuffles per pair of k, every 4 rows) took 1.04-1.97x as long, most on deep layers
// (256x1024x196: 1.97x), whose 1024 input rows per column block missed L1 for every tile; an 8x8 tile without the
// strip took 1.0-1.6x as long. With the strip, 8x8 runs at 1.1-1.8x the speed of OpenBLAS sgemm on these layers
// (uint8 output, median of 5 runs, table in the bench's header). A product with one column (a classifier) still
// computes 8: 7/8 of the work is wasted there (1000x2048x1 ran at 2.3x sgemm's speed anyway, sgemm being worse).
//
// Column blocks of 8; the last one loads its < 8 columns with partial loads (zeros above) and stores them with
// partial stores. Rows past `rows` in the last panel are computed (their weights are zero) and not stored. For an
// odd depth the last k pairs row k with itself, against a zero weight, so no input row past the last is read.
#include "../kernels.h"
#include "../qu8.h"

#if SPW_ARCH_X86
#include <immintrin.h>

SPW_TARGET_BEGIN_AVX2

#include "../x86-avx2.h"
#include "../x86-avx2-qu8.h"

#define DEPTH_CHUNK 1024  // k per strip: 512 pairs x 32 bytes
#define ROW_GROUP 256     // rows whose accumulators wait between depth chunks

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

// Input rows [k0, k0 + count) of columns [c, c + columns) (columns <= 8; zeros above) as int16 pairs.
static void pack_strip(const gemm_args* a, size_t k0, size_t count, size_t c, size_t columns, __m256i* strip) {
  const size_t depth = a->p->depth, stride = a->p->input_stride;
  for (size_t j = 0; 2 * j < count; j++) {
    const size_t k = k0 + 2 * j;
    const uint8_t* x0 = a->input + k * stride + c;
    const uint8_t* x1 = k + 1 < depth ? x0 + stride : x0;
    __m128i lo, hi;
    if (columns == 8) {
      lo = _mm_loadl_epi64((const __m128i*)x0);
      hi = _mm_loadl_epi64((const __m128i*)x1);
    } else {
      lo = spw_load_u8_partial(x0, columns);
      hi = spw_load_u8_partial(x1, columns);
    }
    _mm256_store_si256(strip + j, _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(lo, hi)));
  }
}

// acc[i] += sum over the strip's pairs j of {w[i][2j], w[i][2j+1]} . strip[j]; `w` points at the panel's first pair.
SPW_INLINE void tile_8x8(const uint8_t* w, const __m256i* strip, size_t pairs, __m256i* acc) {
  __m256i a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3], a4 = acc[4], a5 = acc[5], a6 = acc[6], a7 = acc[7];
  for (size_t j = 0; j < pairs; j++, w += SPW_QS8_GEMM_PAIR_BYTES) {
    const __m256i x = _mm256_load_si256(strip + j);
    a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(x, spw_avx2_broadcast_u32(w + 0)));
    a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(x, spw_avx2_broadcast_u32(w + 4)));
    a2 = _mm256_add_epi32(a2, _mm256_madd_epi16(x, spw_avx2_broadcast_u32(w + 8)));
    a3 = _mm256_add_epi32(a3, _mm256_madd_epi16(x, spw_avx2_broadcast_u32(w + 12)));
    a4 = _mm256_add_epi32(a4, _mm256_madd_epi16(x, spw_avx2_broadcast_u32(w + 16)));
    a5 = _mm256_add_epi32(a5, _mm256_madd_epi16(x, spw_avx2_broadcast_u32(w + 20)));
    a6 = _mm256_add_epi32(a6, _mm256_madd_epi16(x, spw_avx2_broadcast_u32(w + 24)));
    a7 = _mm256_add_epi32(a7, _mm256_madd_epi16(x, spw_avx2_broadcast_u32(w + 28)));
  }
  acc[0] = a0, acc[1] = a1, acc[2] = a2, acc[3] = a3, acc[4] = a4, acc[5] = a5, acc[6] = a6, acc[7] = a7;
}

// Output row `row`, columns [c, c + columns) (columns <= 8), from the int32 sums t (zero point and bias included).
SPW_INLINE void store_row(const gemm_args* a, size_t row, size_t c, size_t columns, __m256i t, const int OUT) {
  const size_t o = row * a->p->output_stride + c;
  if (OUT == SPW_QS8_GEMM_OUTPUT_QU8) {
    const __m128i q = spw_avx2_pack_u8x8(spw_avx2_qu8_requantize(t, _mm256_set1_ps(a->scales[row]), &a->bounds));
    uint8_t* out = (uint8_t*)a->output + o;
    if (columns == 8) {
      _mm_storel_epi64((__m128i*)out, q);
    } else {
      spw_store_u8_partial(out, q, columns);
    }
  } else if (OUT == SPW_QS8_GEMM_OUTPUT_F32) {
    const __m256 bias = _mm256_set1_ps(a->bias != NULL ? ((const float*)a->bias)[row] : 0.0f);
    __m256 v = _mm256_cvtepi32_ps(t);
    v = _mm256_mul_ps(v, _mm256_set1_ps(a->scales[row]));
    v = _mm256_add_ps(v, bias);
    v = _mm256_min_ps(a->float_max, _mm256_max_ps(a->float_min, v));
    float* out = (float*)a->output + o;
    if (columns == 8) {
      _mm256_storeu_ps(out, v);
    } else {
      spw_avx2_store_partial(out, v, (ptrdiff_t)columns);
    }
  } else {
    int32_t* out = (int32_t*)a->output + o;
    if (columns == 8) {
      _mm256_storeu_si256((__m256i*)out, t);
    } else {
      spw_avx2_store_partial((float*)out, _mm256_castsi256_ps(t), (ptrdiff_t)columns);  // moves bits only
    }
  }
}

// Rows [r0, r0 + 8) ∩ [0, rows) of the panel at `panel`, columns [c, c + columns), from the finished sums.
SPW_INLINE void finish_tile(const gemm_args* a, const uint8_t* panel, size_t r0, size_t c, size_t columns,
                            const __m256i* acc, const int OUT) {
  const int32_t zero_point = a->p->input_zero_point;
  const size_t count = spw_min_size(SPW_QS8_GEMM_PANEL_ROWS, a->p->rows - r0);
  for (size_t i = 0; i < count; i++) {
    const size_t r = r0 + i;
    const int32_t bias = OUT != SPW_QS8_GEMM_OUTPUT_F32 && a->bias != NULL ? ((const int32_t*)a->bias)[r] : 0;
    const int32_t correction =
        spw_wrap_add_s32(bias, spw_wrap_mul_s32(-zero_point, spw_qs8_gemm_packed_row_sum(panel, i)));
    store_row(a, r, c, columns, _mm256_add_epi32(acc[i], _mm256_set1_epi32(correction)), OUT);
  }
}

SPW_INLINE void gemm(const gemm_args* a, const int OUT) {
  const size_t rows = a->p->rows, columns = a->p->columns, depth = a->p->depth;
  __m256i strip[DEPTH_CHUNK / 2];
  __m256i waiting[ROW_GROUP];  // one tile row's sums per row of the group, between depth chunks
  const size_t group = depth <= DEPTH_CHUNK ? rows : ROW_GROUP;
  for (size_t c = 0; c < columns; c += 8) {
    const size_t block = spw_min_size(8, columns - c);
    for (size_t g0 = 0; g0 < rows; g0 += group) {
      const size_t g1 = spw_min_size(rows, g0 + group);
      size_t k0 = 0;
      do {
        const size_t count = spw_min_size(DEPTH_CHUNK, depth - k0);
        const bool first = k0 == 0, last = k0 + count == depth;
        pack_strip(a, k0, count, c, block, strip);
        const uint8_t* panel = a->packed + (g0 / SPW_QS8_GEMM_PANEL_ROWS) * a->panel_bytes;
        for (size_t r0 = g0; r0 < g1; r0 += SPW_QS8_GEMM_PANEL_ROWS, panel += a->panel_bytes) {
          __m256i acc[8];
          for (int i = 0; i < 8; i++) acc[i] = first ? _mm256_setzero_si256() : waiting[r0 - g0 + (size_t)i];
          tile_8x8(panel + SPW_QS8_GEMM_PANEL_HEADER + (k0 / 2) * SPW_QS8_GEMM_PAIR_BYTES, strip, (count + 1) / 2,
                   acc);
          if (last) {
            finish_tile(a, panel, r0, c, block, acc, OUT);
          } else {
            for (int i = 0; i < 8; i++) waiting[r0 - g0 + (size_t)i] = acc[i];
          }
        }
        k0 += count;
      } while (k0 < depth);
    }
  }
}

void spw_qs8_gemm_ukernel_8x8__avx2(
    const spw_qs8_gemm_params* p, const uint8_t* input, const void* packed_weights, const void* bias,
    const float* scales, void* output) {
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
    case SPW_QS8_GEMM_OUTPUT_QU8: gemm(&a, SPW_QS8_GEMM_OUTPUT_QU8); break;
    case SPW_QS8_GEMM_OUTPUT_F32: gemm(&a, SPW_QS8_GEMM_OUTPUT_F32); break;
    case SPW_QS8_GEMM_OUTPUT_S32: gemm(&a, SPW_QS8_GEMM_OUTPUT_S32); break;
  }
}

SPW_TARGET_END

#endif  // SPW_ARCH_X86
