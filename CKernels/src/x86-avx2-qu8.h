// Internal AVX2 helpers of the quantized kernels. Include inside an SPW_TARGET_BEGIN_AVX2 region, after
// <immintrin.h>, with qu8.h.
#ifndef SPW_X86_AVX2_QU8_H
#define SPW_X86_AVX2_QU8_H

typedef struct spw_avx2_qu8_bounds {
  __m256 lo;
  __m256 hi;
  __m256i zero_point;
} spw_avx2_qu8_bounds;

SPW_INLINE spw_avx2_qu8_bounds spw_avx2_qu8_broadcast_bounds(spw_qu8_bounds b) {
  const spw_avx2_qu8_bounds v = {
    .lo = _mm256_set1_ps(b.lo), .hi = _mm256_set1_ps(b.hi), .zero_point = _mm256_set1_epi32(b.zero_point)};
  return v;
}

// spw_qu8_clamp_round on 8 lanes (maxps, minps, cvtps2dq, add). The operand order of max/min is the one of the
// scalar ternaries: MAXPS(v, lo) returns lo for a NaN v. Returns int32 lanes in [output_min, output_max].
SPW_INLINE __m256i spw_avx2_qu8_clamp_round(__m256 v, const spw_avx2_qu8_bounds* b) {
  v = _mm256_max_ps(v, b->lo);
  v = _mm256_min_ps(v, b->hi);
  return _mm256_add_epi32(_mm256_cvtps_epi32(v), b->zero_point);
}

// spw_qu8_requantize on 8 lanes: the same fp32 operations in the same order (cvtdq2ps, mulps, then
// spw_avx2_qu8_clamp_round), as separate intrinsics, which clang does not fuse (no FMA is formed across them at
// -ffp-contract=on).
SPW_INLINE __m256i spw_avx2_qu8_requantize(__m256i acc, __m256 multiplier, const spw_avx2_qu8_bounds* b) {
  __m256 v = _mm256_cvtepi32_ps(acc);
  v = _mm256_mul_ps(v, multiplier);
  return spw_avx2_qu8_clamp_round(v, b);
}

// 16 int32 lanes in [0, 255] (a then b) to 16 bytes, in order.
SPW_INLINE __m128i spw_avx2_pack_u8x16(__m256i a, __m256i b) {
  const __m256i words = _mm256_permute4x64_epi64(_mm256_packs_epi32(a, b), _MM_SHUFFLE(3, 1, 2, 0));
  return _mm_packus_epi16(_mm256_castsi256_si128(words), _mm256_extracti128_si256(words, 1));
}

// 32 int32 lanes in [0, 255] (a, b, c, d) to 32 bytes, in order.
SPW_INLINE __m256i spw_avx2_pack_u8x32(__m256i a, __m256i b, __m256i c, __m256i d) {
  // packs/packus work within 128-bit lanes: the bytes come out as a0-3 b0-3 c0-3 d0-3 | a4-7 b4-7 c4-7 d4-7.
  const __m256i bytes = _mm256_packus_epi16(_mm256_packs_epi32(a, b), _mm256_packs_epi32(c, d));
  return _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

// 8 int32 lanes in [0, 255] to the low 8 bytes, in order.
SPW_INLINE __m128i spw_avx2_pack_u8x8(__m256i a) {
  const __m128i words = _mm_packs_epi32(_mm256_castsi256_si128(a), _mm256_extracti128_si256(a, 1));
  return _mm_packus_epi16(words, words);
}

// Bytes [0, n) of p, n < 16, zeros above, without touching p[n] or beyond: up to four loads of 8, 4, 2 and 1
// bytes, the last ones first, each shifted up past the ones before.
SPW_INLINE __m128i spw_load_u8_partial(const uint8_t* p, size_t n) {
  __m128i v = _mm_setzero_si128();
  size_t i = n;
  if (n & 1) {
    i -= 1;
    v = _mm_cvtsi32_si128(p[i]);
  }
  if (n & 2) {
    i -= 2;
    uint16_t t;
    memcpy(&t, p + i, 2);
    v = _mm_or_si128(_mm_slli_si128(v, 2), _mm_cvtsi32_si128(t));
  }
  if (n & 4) {
    i -= 4;
    int32_t t;
    memcpy(&t, p + i, 4);
    v = _mm_or_si128(_mm_slli_si128(v, 4), _mm_cvtsi32_si128(t));
  }
  if (n & 8) v = _mm_or_si128(_mm_slli_si128(v, 8), _mm_loadl_epi64((const __m128i*)p));
  return v;
}

// Stores bytes [0, n) of v, n < 16.
SPW_INLINE void spw_store_u8_partial(uint8_t* p, __m128i v, size_t n) {
  if (n & 8) {
    _mm_storel_epi64((__m128i*)p, v);
    v = _mm_srli_si128(v, 8);
    p += 8;
  }
  if (n & 4) {
    const int32_t t = _mm_cvtsi128_si32(v);
    memcpy(p, &t, 4);
    v = _mm_srli_si128(v, 4);
    p += 4;
  }
  if (n & 2) {
    const uint16_t t = (uint16_t)_mm_cvtsi128_si32(v);
    memcpy(p, &t, 2);
    v = _mm_srli_si128(v, 2);
    p += 2;
  }
  if (n & 1) *p = (uint8_t)_mm_cvtsi128_si32(v);
}

// Stores bytes [0, n) of v, n < 32.
SPW_INLINE void spw_store_u8x32_partial(uint8_t* p, __m256i v, size_t n) {
  __m128i part = _mm256_castsi256_si128(v);
  if (n >= 16) {
    _mm_storeu_si128((__m128i*)p, part);
    part = _mm256_extracti128_si256(v, 1);
    p += 16;
    n -= 16;
  }
  spw_store_u8_partial(p, part, n);
}

// Broadcast of 4 bytes at p (any alignment).
SPW_INLINE __m256i spw_avx2_broadcast_u32(const void* p) {
  int32_t t;
  memcpy(&t, p, 4);
  return _mm256_set1_epi32(t);
}

#endif  // SPW_X86_AVX2_QU8_H
