// Internal to the AVX2 depthwise kernel, spw_f32_dwconv_ukernel_1x8__avx2 (f32-dwconv-1x8-avx2.c): the shape it
// works on and the two fast paths that live in their own files. Include inside an SPW_TARGET_BEGIN_AVX2 region,
// after <immintrin.h> and x86-avx2.h.
#ifndef SPW_F32_DWCONV_AVX2_H
#define SPW_F32_DWCONV_AVX2_H

#define SPW_NOINLINE __attribute__((noinline))

typedef struct spw_dw_geometry {
  ptrdiff_t ih, iw, oh, ow, kh, kw, sh, sw, dh, dw, pt, pl;
  // End of the outputs this call writes (channel c_end): a store may spill past a row's end up to here.
  const float* out_end;
} spw_dw_geometry;

// Zeros that stand in for input rows above and below the image and for channels past c_end (never read from the
// caller's buffers). The paths use it for rows of at most SPW_DW_ZERO_ROW_FLOATS - 32 floats.
#define SPW_DW_ZERO_ROW_FLOATS 1024
extern const float spw_dw_zero_row[SPW_DW_ZERO_ROW_FLOATS];

// Both paths below take kernel 3x3 or 5x5, equal strides of 1 or 2, dilation 1 and any padding, and return false
// (having done nothing) when the shape is outside what their stack buffers hold.

// Eight channels per vector (f32-dwconv-avx2-8ch.c): images of up to 256 inputs and outputs (16x16) at once, and
// stride-2 and 5x5 rows of up to 64 outputs through a ring of transposed rows; 3x3 stride 1 only as a whole image.
bool spw_f32_dwconv_avx2_8ch(const spw_f32_dwconv_params* p, const spw_dw_geometry* g, const float* input,
                             const float* weights, const float* bias, float* output);

// One channel at a time, 8 outputs of a row per vector and 4 rows per block, from a ring of zero-padded copies of
// the input rows (f32-dwconv-avx2-ring.c): input rows of up to 766 floats (3x3 stride 1; 606 for 3x3 stride 2, 508
// and 428 for 5x5).
bool spw_f32_dwconv_avx2_ring(const spw_f32_dwconv_params* p, const spw_dw_geometry* g, const float* input,
                              const float* weights, const float* bias, float* output);

#endif  // SPW_F32_DWCONV_AVX2_H
