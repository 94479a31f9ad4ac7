// Internal AVX2 helpers. Include inside an SPW_TARGET_BEGIN_AVX2 region, after <immintrin.h>.
#ifndef SPW_X86_AVX2_H
#define SPW_X86_AVX2_H

SPW_INLINE __m256i spw_avx2_iota(void) { return _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7); }

// All-ones in lanes j for which base + j * step lies in [0, limit); `step_iota` = {0, step, 2 step, ...}.
// Adding 2^31 to both sides turns the unsigned test (base + j * step < limit) into a signed compare.
SPW_INLINE __m256i spw_avx2_lane_mask(ptrdiff_t base, __m256i step_iota, ptrdiff_t limit) {
  const __m256i biased =
      _mm256_add_epi32(_mm256_set1_epi32((int32_t)((uint32_t)base ^ 0x80000000u)), step_iota);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32((int32_t)((uint32_t)limit ^ 0x80000000u)), biased);
}

// Stores lanes [0, n) of v, 0 < n < 8, with at most three plain stores: vmaskmovps stores cost about 40 cycles
// on Zen 3 (measured), so no kernel uses them.
SPW_INLINE void spw_avx2_store_partial(float* out, __m256 v, ptrdiff_t n) {
  __m128 part = _mm256_castps256_ps128(v);
  if (n & 4) {
    _mm_storeu_ps(out, part);
    part = _mm256_extractf128_ps(v, 1);
    out += 4;
  }
  if (n & 2) {
    _mm_storel_pi((__m64*)out, part);
    part = _mm_movehl_ps(part, part);
    out += 2;
  }
  if (n & 1) _mm_store_ss(out, part);
}

// Stores lanes [0, n) of v (n may exceed 8). `room` floats from `out` may be written: kernels write their outputs
// in increasing address order, so a full store whose tail lands on outputs written later is cheaper than a
// partial one.
SPW_INLINE void spw_avx2_store(float* out, __m256 v, ptrdiff_t n, ptrdiff_t room) {
  if (n >= 8 || room >= 8) {
    _mm256_storeu_ps(out, v);
  } else {
    spw_avx2_store_partial(out, v, n);
  }
}

#endif  // SPW_X86_AVX2_H
