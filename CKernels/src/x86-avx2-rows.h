// Internal AVX2 helpers of the windowed uint8 kernels (max pooling, depthwise convolution): rows of the input with
// their padding made explicit, split by stride phase, so that every tap of a vector of outputs is one contiguous,
// unmasked load. Include inside an SPW_TARGET_BEGIN_AVX2 region, after <immintrin.h>, with qu8.h.
//
// For outputs ox0 + j (j < n) of a row, stride s and dilation d, tap kx reads input column
// B + s*j + kx*d, B = ox0*s - pad_left. With kx*d = s*q + r (0 <= r < s), that is element j + q of phase r,
// phase[r][j] = row[B + s*j + r]: tap kx of outputs j .. j+31 is phase r, elements j + q .. j + q + 31.
#ifndef SPW_X86_AVX2_ROWS_H
#define SPW_X86_AVX2_ROWS_H

#define SPW_ROW_BUFFER_BYTES 8192  // each of the padded row and its phases, on the stack

// Elements per phase for n outputs: whole vectors of 32 plus the farthest tap's shift, rounded up to 32 (the
// deinterleaving works on 32-byte blocks). 0 when s phases of that length do not fit in a row buffer.
SPW_INLINE size_t spw_row_phase_length(size_t n, size_t stride, size_t last_tap_offset) {
  const size_t length = ((n + 31) / 32) * 32 + (last_tap_offset / stride + 31) / 32 * 32;
  return stride * length <= SPW_ROW_BUFFER_BYTES ? length : 0;
}

// The largest number of outputs (a multiple of 32, at most `n` rounded up) whose phases fit in a row buffer;
// 0 when not even 32 do.
SPW_INLINE size_t spw_row_chunk(size_t n, size_t stride, size_t last_tap_offset) {
  size_t chunk = ((n + 31) / 32) * 32;
  while (chunk > 0 && spw_row_phase_length(chunk, stride, last_tap_offset) == 0) chunk -= 32;
  return chunk;
}

// padded[i] = row[base + i] for 0 <= base + i < width, else `fill`, for i < count (a multiple of 32). `padded`
// needs 16 bytes of room past `count`. The fill goes first, in whole vectors; the row's last partial block (read
// with a partial load, zeros above) is followed by one more vector of fill.
SPW_INLINE void spw_row_pad_copy(uint8_t* padded, const uint8_t* row, ptrdiff_t base, ptrdiff_t width,
                                 ptrdiff_t count, uint8_t fill) {
  ptrdiff_t lo = -base, hi = width - base;
  lo = lo < 0 ? 0 : lo > count ? count : lo;
  hi = hi < lo ? lo : hi > count ? count : hi;
  const __m256i vfill = _mm256_set1_epi8((char)fill);
  for (ptrdiff_t i = 0; i < count; i += 32) _mm256_storeu_si256((__m256i*)(padded + i), vfill);
  ptrdiff_t i = lo;
  for (; i + 16 <= hi; i += 16) {
    _mm_storeu_si128((__m128i*)(padded + i), _mm_loadu_si128((const __m128i*)(row + base + i)));
  }
  if (i < hi) {
    _mm_storeu_si128((__m128i*)(padded + i), spw_load_u8_partial(row + base + i, (size_t)(hi - i)));
    _mm_storeu_si128((__m128i*)(padded + hi), _mm256_castsi256_si128(vfill));
  }
}

// phases[r * length + j] = padded[stride * j + r] for r < stride, j < length (length a multiple of 32). Stride 1
// needs no copy (the caller reads `padded`); stride 2 splits 32-byte blocks with one shuffle and one permute.
SPW_INLINE void spw_row_deinterleave(const uint8_t* padded, size_t stride, size_t length, uint8_t* phases) {
  if (stride == 2) {
    const __m256i split = _mm256_setr_epi8(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15,
                                           0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15);
    for (size_t j = 0; j < length; j += 16) {
      // even0-7 odd0-7 | even8-15 odd8-15 -> even0-15 | odd0-15
      const __m256i v = _mm256_shuffle_epi8(_mm256_loadu_si256((const __m256i*)(padded + 2 * j)), split);
      const __m256i halves = _mm256_permute4x64_epi64(v, _MM_SHUFFLE(3, 1, 2, 0));
      _mm_storeu_si128((__m128i*)(phases + j), _mm256_castsi256_si128(halves));
      _mm_storeu_si128((__m128i*)(phases + length + j), _mm256_extracti128_si256(halves, 1));
    }
  } else {
    for (size_t r = 0; r < stride; r++) {
      for (size_t j = 0; j < length; j++) phases[r * length + j] = padded[stride * j + r];
    }
  }
}

#endif  // SPW_X86_AVX2_ROWS_H
