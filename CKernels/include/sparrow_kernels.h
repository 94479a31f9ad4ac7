// Sparrow compute kernels: the one public C header (SwiftPM builds the CKernels module map from it).
//
// Every operation has a scalar C reference and per-ISA variants. A variant is chosen once at run time from the CPU
// features (`spw_get_kernel_config`); `SPARROW_ISA=scalar|avx2|avx512|neon` forces a lower level for debugging.
// Kernels allocate nothing, do no I/O, keep no state (any number of threads may call them on disjoint outputs)
// and take their shapes in a small params struct. All tensors are dense NCHW for one batch image, float32 or, for the
// quantized kernels (qs8/qu8, see "Quantized parameters"), uint8 activations and int8 weights; sizes are element
// counts. Pointers need no particular alignment.
//
// Kernel names follow `spw_<dtype>_<op>_ukernel_<tile>__<isa>`; the registry (`spw_kernel_registry`) lists them.
#ifndef SPARROW_KERNELS_H
#define SPARROW_KERNELS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// MARK: - CPU features

// Bits of `spw_cpu_features()`. x86 bits are only ever set on x86, ARM bits only on AArch64.
#define SPW_CPU_SSE42        0x00000001u
#define SPW_CPU_PCLMUL       0x00000002u
#define SPW_CPU_AVX          0x00000004u
#define SPW_CPU_AVX2         0x00000008u
#define SPW_CPU_FMA          0x00000010u
#define SPW_CPU_F16C         0x00000020u
#define SPW_CPU_AVX512F      0x00000040u
#define SPW_CPU_AVX512BW     0x00000080u
#define SPW_CPU_AVX512DQ     0x00000100u
#define SPW_CPU_AVX512VL     0x00000200u
#define SPW_CPU_AVX512VNNI   0x00000400u
#define SPW_CPU_AVX512BF16   0x00000800u
#define SPW_CPU_AVX512VBMI   0x00001000u
#define SPW_CPU_AVXVNNI      0x00002000u
#define SPW_CPU_ARM_NEON     0x00010000u
#define SPW_CPU_ARM_CRC32    0x00020000u
#define SPW_CPU_ARM_DOTPROD  0x00040000u

/// Features of the CPU this process runs on (detected once; OS support for AVX/AVX-512 state is included).
uint32_t spw_cpu_features(void);

/// Writes the names of the detected features, space separated (e.g. "sse4.2 pclmul avx avx2 fma"), NUL-terminated
/// and truncated to `capacity`. Returns the length the full string needs (excluding the NUL), like snprintf.
size_t spw_cpu_features_describe(char* buffer, size_t capacity);

// MARK: - ISA levels

/// A level of kernels. Each level includes the levels below it on the same architecture:
/// scalar < avx2 (AVX2+FMA) < avx512 (AVX-512F) on x86; scalar < neon on AArch64.
typedef enum spw_isa {
  SPW_ISA_SCALAR = 0,
  SPW_ISA_AVX2 = 1,
  SPW_ISA_AVX512 = 2,
  SPW_ISA_NEON = 3,
} spw_isa;

#define SPW_ISA_COUNT 4

/// "scalar", "avx2", "avx512" or "neon"; "unknown" for a value outside the enum.
const char* spw_isa_label(spw_isa isa);

/// Whether the current CPU can run the kernels of `isa`.
bool spw_isa_is_supported(spw_isa isa);

/// The level chosen for a request such as the value of SPARROW_ISA ("scalar", "avx2", "avx512", "neon"; NULL, ""
/// or an unknown word mean "best"). A level the CPU lacks falls back to the best supported level below it.
spw_isa spw_isa_select(const char* request);

// MARK: - Parameters

/// Depthwise 2D convolution, NCHW, one image: for each channel c in [c_begin, c_end)
///   out[c][oy][ox] = clamp(bias[c] + sum_{ky,kx} w[c][ky][kx] * in[c][oy*stride_h - pad_top + ky*dilation_h]
///                                                                 [ox*stride_w - pad_left + kx*dilation_w],
///                          output_min, output_max)
/// with taps outside the input treated as zero (the bottom/right padding follows from the output size).
/// Tensors: input [channels][input_height][input_width], weights [channels][kernel_height][kernel_width],
/// bias [channels] or NULL (zero), output [channels][output_height][output_width]; only channels in
/// [c_begin, c_end) are read and written, so threads can split the channel range (outputs of other channels are
/// never touched, not even temporarily).
/// Clamps: none = [-INFINITY, +INFINITY], ReLU = [0, +INFINITY], ReLU6 = [0, 6]; a NaN sum stays NaN.
/// Weights must be finite: the vector variants may multiply a weight by a padding zero where the reference skips
/// the tap. Variants differ from the scalar reference by FMA contraction and summation order only.
typedef struct spw_f32_dwconv_params {
  size_t channels;
  size_t input_height;
  size_t input_width;
  size_t output_height;
  size_t output_width;
  size_t kernel_height;
  size_t kernel_width;
  size_t stride_h;
  size_t stride_w;
  size_t dilation_h;
  size_t dilation_w;
  size_t pad_top;
  size_t pad_left;
  float output_min;
  float output_max;
  size_t c_begin;
  size_t c_end;
} spw_f32_dwconv_params;

/// im2col for an NCHW convolution feeding a row-major sgemm Y[Cout][HW] = W[Cout][Cg*kh*kw] x columns.
/// The column matrix has one row per (channel c of the group, ky, kx), row index (c*kernel_height + ky)*kernel_width
/// + kx, and one column per output position (oy, ox) for oy in [oy_begin, oy_end): its leading dimension is
/// (oy_end - oy_begin) * output_width, so a caller can build it one band of output rows at a time.
/// Entry = in[channel_offset + c][oy*stride_h - pad_top + ky*dilation_h][ox*stride_w - pad_left + kx*dilation_w],
/// zero outside the input. Only rows of group channels c in [c_begin, c_end) are written (c_end <= group_channels).
/// The input is [input_channels][input_height][input_width]; a group reads channels
/// [channel_offset, channel_offset + group_channels).
typedef struct spw_f32_im2col_params {
  size_t input_channels;
  size_t channel_offset;
  size_t group_channels;
  size_t input_height;
  size_t input_width;
  size_t output_height;
  size_t output_width;
  size_t kernel_height;
  size_t kernel_width;
  size_t stride_h;
  size_t stride_w;
  size_t dilation_h;
  size_t dilation_w;
  size_t pad_top;
  size_t pad_left;
  size_t c_begin;
  size_t c_end;
  size_t oy_begin;
  size_t oy_end;
} spw_f32_im2col_params;

/// GEMM epilogue on a row-major block: data[r][col] = clamp(data[r][col] + bias[r], output_min, output_max) for
/// r < rows, col < cols, with data[r] at data + r * row_stride (row_stride >= cols). bias may be NULL (zero).
/// With a residual (a fused residual Add): data[r][col] = clamp((data[r][col] + bias[r]) + residual[r *
/// residual_stride + col], …), the two additions in that order in every variant; residual may equal data.
typedef struct spw_f32_bias_act_params {
  size_t rows;
  size_t cols;
  size_t row_stride;
  float output_min;
  float output_max;
  const float* residual;   ///< NULL: none
  size_t residual_stride;  ///< elements between residual rows (>= cols when residual is set)
} spw_f32_bias_act_params;

/// Max and average pooling, NCHW, one image, channels [c_begin, c_end) (input/output layouts as for dwconv).
/// Window (oy, ox) reads in[oy*stride_h - pad_top + ky*dilation_h][ox*stride_w - pad_left + kx*dilation_w].
/// The caller computes the output size (floor or ceil mode).
/// Max: taps outside the input are skipped; a window with no tap inside the input gives -INFINITY.
/// Average: sum of the taps inside the input divided by
///   - count_include_pad: the number of taps inside the padded input [-pad_top, input_height + pad_bottom) x
///     [-pad_left, input_width + pad_right) (a ceil-mode window hanging beyond the padding is not counted there),
///   - otherwise: the number of taps inside the input;
/// a divisor of 0 gives 0. pad_bottom and pad_right only matter for count_include_pad.
typedef struct spw_f32_pool_params {
  size_t channels;
  size_t input_height;
  size_t input_width;
  size_t output_height;
  size_t output_width;
  size_t kernel_height;
  size_t kernel_width;
  size_t stride_h;
  size_t stride_w;
  size_t dilation_h;
  size_t dilation_w;
  size_t pad_top;
  size_t pad_left;
  size_t pad_bottom;
  size_t pad_right;
  bool count_include_pad;
  size_t c_begin;
  size_t c_end;
} spw_f32_pool_params;

/// Global average pooling: out[c] = mean of in[c][0 ..< spatial_size] for c in [c_begin, c_end); input is
/// [channels][spatial_size] (spatial_size = H*W), output [channels]. spatial_size 0 gives 0.
typedef struct spw_f32_gavgpool_params {
  size_t channels;
  size_t spatial_size;
  size_t c_begin;
  size_t c_end;
} spw_f32_gavgpool_params;

/// Sparse x dense matrix product with fused bias and clamp (the core of sparse 1x1 and direct sparse k x k
/// convolutions): a CSR weight matrix times a dense operand whose "rows" are arbitrary runs of the input.
/// For r in [0, rows) and p in [0, pixels):
///   output[r*output_stride + p] = clamp(bias[r] + sum_{j in [row_pointers[r], row_pointers[r+1])}
///                                                     values[j] * input[offsets[j] + p], output_min, output_max)
/// - row_pointers has rows + 1 entries, non-decreasing. row_pointers[0] need not be 0: values and offsets are
///   indexed absolutely by j, so a caller splitting rows across threads passes row_pointers + r0, bias + r0 and
///   output + r0 * output_stride with the original values and offsets. An empty row gives clamp(bias[r]).
/// - offsets[j] is an absolute element offset into input, precomputed by the caller (input_channel * plane for a
///   1x1 convolution, channel*Hp*Wp + ky*Wp + kx for a direct k x k convolution over a padded input). Offsets
///   may repeat and need not be sorted. The kernel reads input[offsets[j] + p] for p < pixels only, never beyond
///   (vector tails use masked loads), and writes output[r*output_stride + p] for p < pixels only (the elements
///   between pixels and output_stride are untouched).
/// - bias may be NULL (zero). Clamps as for dwconv: none = [-INFINITY, +INFINITY], ReLU = [0, +INFINITY],
///   ReLU6 = [0, 6]; a NaN sum stays NaN.
/// - residual (NULL: none) is added to the finished sum before the clamp: output[r*output_stride + p] =
///   clamp(sum + residual[r*residual_stride + p], …). It serves a fused residual Add, and lets a caller split the
///   nonzeros of each row into runs of input channels (one call per run, each later call taking the output as
///   its residual, with no bias and no clamp but in the last). residual may equal output (same stride); it is
///   read for p < pixels only. Threads splitting rows or pixels offset it like output.
/// - Each output is accumulated from its bias in nonzero order (j ascending), so variants differ from the scalar
///   reference by FMA contraction only.
/// - Threads may split rows (as above) or pixels (input + p0, output + p0, pixels = count); rows = 0 or
///   pixels = 0 does nothing.
typedef struct spw_f32_spmm_params {
  size_t rows;           ///< output rows (output channels) to compute
  size_t pixels;         ///< columns of the dense operand / output computed, p in [0, pixels)
  size_t output_stride;  ///< elements between consecutive output rows (>= pixels)
  float output_min;      ///< fused clamp
  float output_max;
  const float* residual;   ///< added before the clamp; NULL: none
  size_t residual_stride;  ///< elements between residual rows (>= pixels when residual is set)
} spw_f32_spmm_params;

// MARK: - Quantized parameters
//
// Activations are uint8 with a per-tensor scale and zero point (real = scale * (q - zero_point)); weights are int8,
// symmetric (zero point 0), with one scale per output channel. That is what ONNX Runtime's QDQ quantizer writes by
// default (U8 activations, S8 per-channel weights), and a uint8 zero point lets a ReLU output use all 256 levels.
// Products and sums are exact int32 arithmetic (wrapping, so variants agree even where a sum overflows).
//
// Requantization, shared by every kernel with a uint8 output (int32 acc -> uint8):
//   v = (float)acc * multiplier                                   (one fp32 multiplication, never fused)
//   v = v > lo ? v : lo;  v = v < hi ? v : hi                     lo = output_min - output_zero_point,
//                                                                 hi = output_max - output_zero_point (exact)
//   q = lrintf(v) + output_zero_point                             (round half to even)
// with multiplier = input_scale * weight_scale[c] / output_scale, computed by the caller in fp32. Clamping before
// the conversion keeps it in range; the bounds are integers and rounding is monotonic, so this equals
// clamp(round(acc * multiplier) + zero_point, output_min, output_max), and [output_min, output_max] is where a
// fused ReLU or Clip goes. The max/min above are MAXPS/MINPS exactly (a NaN multiplier gives output_min). The vector
// variants do the same fp32 operations in the same order (cvtdq2ps, mulps, maxps, minps, cvtps2dq), so they match
// the scalar references bit for bit in the default rounding mode (round to nearest even).
// The AVX2 variants of qs8_gemm, qu8_dwconv and qu8_maxpool keep padded rows and activation strips on the stack
// (at most 36 KB per call).

/// Rows of weights per panel of the packed qs8 GEMM weights (see spw_qs8_gemm_pack).
#define SPW_QS8_GEMM_PANEL_ROWS 8

/// Output element type of spw_qs8_gemm.
typedef enum spw_qs8_gemm_output {
  /// uint8, requantized with scales[r] as the multiplier; bias is int32_t[rows].
  SPW_QS8_GEMM_OUTPUT_QU8 = 0,
  /// float, dequantized: clamp((float)acc * scales[r] + bias[r], float_min, float_max), two separate fp32
  /// operations (no FMA); scales[r] = input_scale * weight_scale[r]; bias is float[rows].
  SPW_QS8_GEMM_OUTPUT_F32 = 1,
  /// int32: acc itself; bias is int32_t[rows]; scales are not read (may be NULL).
  SPW_QS8_GEMM_OUTPUT_S32 = 2,
} spw_qs8_gemm_output;

/// Quantized matrix product (1x1 convolution, Gemm, im2col'd convolution), one image; "qs8" names the signed 8-bit
/// weights, the activations being uint8:
///   acc[r][c] = bias[r] + sum_{k < depth} w[r][k] * (input[k*input_stride + c] - input_zero_point)   (int32)
///   output[r*output_stride + c] = the output_type of acc[r][c]
/// for r < rows, c < columns. w is int8 [rows][depth], packed once by spw_qs8_gemm_pack; input is uint8
/// [depth][input_stride] (activation rows: input channels, or im2col rows; columns: pixels). int32 bias is the
/// ONNX quantized bias (scale input_scale * weight_scale[r], zero point 0) and is added before scaling; NULL is 0.
/// The accumulation is exact for depth <= 65536 without bias; beyond, it wraps, identically in every variant.
/// Only outputs c < columns of rows < rows are written. Threads may split columns (input + c0, output + c0,
/// columns = count) or rows at multiples of SPW_QS8_GEMM_PANEL_ROWS (packed + spw_qs8_gemm_packed_size(r0, depth),
/// bias + r0, scales + r0, output + r0 * output_stride).
typedef struct spw_qs8_gemm_params {
  size_t rows;           ///< output channels
  size_t columns;        ///< pixels
  size_t depth;          ///< input channels (x kernel taps for an im2col'd convolution)
  size_t input_stride;   ///< elements between input rows (>= columns)
  size_t output_stride;  ///< elements between output rows (>= columns)
  spw_qs8_gemm_output output_type;
  uint8_t input_zero_point;
  uint8_t output_zero_point;  ///< QU8 only
  uint8_t output_min;         ///< QU8 clamp
  uint8_t output_max;
  float float_min;            ///< F32 clamp (-INFINITY, +INFINITY for none)
  float float_max;
} spw_qs8_gemm_params;

/// Conversions at the graph boundaries (ONNX QuantizeLinear / DequantizeLinear with a per-tensor scale), i < count:
///   quantize (f32_qu8):   v = in[i] / scale (IEEE division, as ONNX defines it), then the requantization's clamp
///                         and rounding with output_min 0, output_max 255: clamp(round_half_even(v) + zero_point,
///                         0, 255); a NaN gives 0
///   dequantize (qu8_f32): out[i] = (float)(in[i] - zero_point) * scale
/// scale must be positive and finite.
typedef struct spw_qu8_cvt_params {
  size_t count;
  float scale;
  uint8_t zero_point;
} spw_qu8_cvt_params;

/// Element-wise sum of two uint8 tensors of the same shape, each with its own scale and zero point (ONNX QDQ Add,
/// com.microsoft.QLinearAdd), for i < count:
///   v = (float)(a[i] - a_zero_point) * a_multiplier       a_multiplier = a_scale / output_scale
///   v = v + (float)(b[i] - b_zero_point) * b_multiplier   b_multiplier = b_scale / output_scale
/// (separate fp32 multiplications and one addition, never fused), then the requantization's clamp and rounding:
/// out[i] = clamp(round_half_even(v) + output_zero_point, output_min, output_max). `output` may be `a` or `b`.
typedef struct spw_qu8_add_params {
  size_t count;
  float a_multiplier;
  float b_multiplier;
  uint8_t a_zero_point;
  uint8_t b_zero_point;
  uint8_t output_zero_point;
  uint8_t output_min;
  uint8_t output_max;
} spw_qu8_add_params;

/// Max pooling of uint8, NCHW, one image, channels [c_begin, c_end): the window geometry of spw_f32_pool_params
/// (the caller computes the output size); taps outside the input are skipped, and a window with none gives 0.
/// Input and output share their scale and zero point (QDQ MaxPool), so there is no requantization: the maximum
/// commutes with the (increasing) dequantization.
typedef struct spw_qu8_maxpool_params {
  size_t channels;
  size_t input_height;
  size_t input_width;
  size_t output_height;
  size_t output_width;
  size_t kernel_height;
  size_t kernel_width;
  size_t stride_h;
  size_t stride_w;
  size_t dilation_h;
  size_t dilation_w;
  size_t pad_top;
  size_t pad_left;
  size_t c_begin;
  size_t c_end;
} spw_qu8_maxpool_params;

/// Global average pooling of uint8 (QDQ GlobalAveragePool), input [channels][spatial_size], output [channels],
/// for c in [c_begin, c_end):
///   acc = sum_{i < spatial_size} (in[c][i] - input_zero_point)     (int32, exact for spatial_size < 2^23)
///   out[c] = requantized acc, multiplier = input_scale / (output_scale * spatial_size)
typedef struct spw_qu8_gavgpool_params {
  size_t channels;
  size_t spatial_size;
  size_t c_begin;
  size_t c_end;
  float multiplier;
  uint8_t input_zero_point;
  uint8_t output_zero_point;
  uint8_t output_min;
  uint8_t output_max;
} spw_qu8_gavgpool_params;

/// Depthwise 2D convolution of uint8, NCHW, one image (the geometry of spw_f32_dwconv_params): for c in
/// [c_begin, c_end)
///   acc = bias[c] + sum_{ky,kx} w[c][ky][kx] * (in[c][iy][ix] - input_zero_point)      (int32)
///   out[c][oy][ox] = requantized acc, multiplier scales[c]
/// with iy = oy*stride_h - pad_top + ky*dilation_h, ix = ox*stride_w - pad_left + kx*dilation_w. Taps outside the
/// input read the input zero point (ONNX pads quantized tensors with it), so they add 0. Weights are int8
/// [channels][kernel_height][kernel_width], bias int32 [channels] or NULL, scales [channels]; only channels in
/// [c_begin, c_end) are read and written.
typedef struct spw_qu8_dwconv_params {
  size_t channels;
  size_t input_height;
  size_t input_width;
  size_t output_height;
  size_t output_width;
  size_t kernel_height;
  size_t kernel_width;
  size_t stride_h;
  size_t stride_w;
  size_t dilation_h;
  size_t dilation_w;
  size_t pad_top;
  size_t pad_left;
  uint8_t input_zero_point;
  uint8_t output_zero_point;
  uint8_t output_min;
  uint8_t output_max;
  size_t c_begin;
  size_t c_end;
} spw_qu8_dwconv_params;

// MARK: - Kernel function types

/// Raw CRC-32C register update (reflected, polynomial 0x1EDC6F41): no initial or final inversion.
typedef uint32_t (*spw_crc32c_ukernel_fn)(uint32_t state, const uint8_t* data, size_t length);
typedef void (*spw_f32_dwconv_ukernel_fn)(
    const spw_f32_dwconv_params* params, const float* input, const float* weights, const float* bias,
    float* output);
typedef void (*spw_f32_im2col_ukernel_fn)(const spw_f32_im2col_params* params, const float* input, float* columns);
typedef void (*spw_f32_bias_act_ukernel_fn)(const spw_f32_bias_act_params* params, const float* bias, float* data);
typedef void (*spw_f32_pool_ukernel_fn)(const spw_f32_pool_params* params, const float* input, float* output);
typedef void (*spw_f32_gavgpool_ukernel_fn)(
    const spw_f32_gavgpool_params* params, const float* input, float* output);
typedef void (*spw_f32_spmm_ukernel_fn)(
    const spw_f32_spmm_params* params, const float* input, const uint32_t* row_pointers, const uint32_t* offsets,
    const float* values, const float* bias, float* output);
/// `bias` is int32_t[rows] or float[rows] as the output_type says (NULL: zero); `output` has that element type.
typedef void (*spw_qs8_gemm_ukernel_fn)(
    const spw_qs8_gemm_params* params, const uint8_t* input, const void* packed_weights, const void* bias,
    const float* scales, void* output);
typedef void (*spw_f32_qu8_cvt_ukernel_fn)(const spw_qu8_cvt_params* params, const float* input, uint8_t* output);
typedef void (*spw_qu8_f32_cvt_ukernel_fn)(const spw_qu8_cvt_params* params, const uint8_t* input, float* output);
typedef void (*spw_qu8_add_ukernel_fn)(
    const spw_qu8_add_params* params, const uint8_t* a, const uint8_t* b, uint8_t* output);
typedef void (*spw_qu8_maxpool_ukernel_fn)(
    const spw_qu8_maxpool_params* params, const uint8_t* input, uint8_t* output);
typedef void (*spw_qu8_gavgpool_ukernel_fn)(
    const spw_qu8_gavgpool_params* params, const uint8_t* input, uint8_t* output);
typedef void (*spw_qu8_dwconv_ukernel_fn)(
    const spw_qu8_dwconv_params* params, const uint8_t* input, const int8_t* weights, const int32_t* bias,
    const float* scales, uint8_t* output);

// MARK: - Registry

/// The operations that have kernels.
typedef enum spw_kernel_op {
  SPW_OP_CRC32C = 0,
  SPW_OP_F32_DWCONV = 1,
  SPW_OP_F32_IM2COL = 2,
  SPW_OP_F32_BIAS_ACT = 3,
  SPW_OP_F32_MAXPOOL = 4,
  SPW_OP_F32_AVGPOOL = 5,
  SPW_OP_F32_GAVGPOOL = 6,
  SPW_OP_F32_SPMM = 7,
  SPW_OP_QS8_GEMM = 8,
  SPW_OP_F32_QU8_CVT = 9,
  SPW_OP_QU8_F32_CVT = 10,
  SPW_OP_QU8_ADD = 11,
  SPW_OP_QU8_MAXPOOL = 12,
  SPW_OP_QU8_GAVGPOOL = 13,
  SPW_OP_QU8_DWCONV = 14,
} spw_kernel_op;

#define SPW_KERNEL_OP_COUNT 15

/// The entry point of a kernel; the member that is set is the one of the entry's `op`
/// (maxpool and avgpool both use `f32_pool`).
typedef union spw_kernel_fn {
  spw_crc32c_ukernel_fn crc32c;
  spw_f32_dwconv_ukernel_fn f32_dwconv;
  spw_f32_im2col_ukernel_fn f32_im2col;
  spw_f32_bias_act_ukernel_fn f32_bias_act;
  spw_f32_pool_ukernel_fn f32_pool;
  spw_f32_gavgpool_ukernel_fn f32_gavgpool;
  spw_f32_spmm_ukernel_fn f32_spmm;
  spw_qs8_gemm_ukernel_fn qs8_gemm;
  spw_f32_qu8_cvt_ukernel_fn f32_qu8_cvt;
  spw_qu8_f32_cvt_ukernel_fn qu8_f32_cvt;
  spw_qu8_add_ukernel_fn qu8_add;
  spw_qu8_maxpool_ukernel_fn qu8_maxpool;
  spw_qu8_gavgpool_ukernel_fn qu8_gavgpool;
  spw_qu8_dwconv_ukernel_fn qu8_dwconv;
} spw_kernel_fn;

/// One kernel variant. For each op, the registry lists the scalar reference first.
typedef struct spw_kernel_info {
  const char* name;            ///< e.g. "spw_f32_dwconv_ukernel_1x8__avx2"
  spw_kernel_op op;
  spw_isa isa;                 ///< the lowest level whose table may use this variant
  const char* tile;            ///< e.g. "1x8" (output rows x output columns per step)
  uint32_t required_features;  ///< SPW_CPU_* bits the variant needs
  spw_kernel_fn fn;
} spw_kernel_info;

/// All variants compiled into this binary for this architecture, supported by the CPU or not.
const spw_kernel_info* spw_kernel_registry(size_t* count);

/// Whether the current CPU has all the features `info` needs.
bool spw_kernel_is_supported(const spw_kernel_info* info);

// MARK: - Selection table

/// The kernels of one ISA level: the best supported variant for each op.
typedef struct spw_kernel_config {
  spw_isa isa;
  spw_crc32c_ukernel_fn crc32c;
  spw_f32_dwconv_ukernel_fn f32_dwconv;
  spw_f32_im2col_ukernel_fn f32_im2col;
  spw_f32_bias_act_ukernel_fn f32_bias_act;
  spw_f32_pool_ukernel_fn f32_maxpool;
  spw_f32_pool_ukernel_fn f32_avgpool;
  spw_f32_gavgpool_ukernel_fn f32_gavgpool;
  spw_f32_spmm_ukernel_fn f32_spmm;
  spw_qs8_gemm_ukernel_fn qs8_gemm;
  spw_f32_qu8_cvt_ukernel_fn f32_qu8_cvt;
  spw_qu8_f32_cvt_ukernel_fn qu8_f32_cvt;
  spw_qu8_add_ukernel_fn qu8_add;
  spw_qu8_maxpool_ukernel_fn qu8_maxpool;
  spw_qu8_gavgpool_ukernel_fn qu8_gavgpool;
  spw_qu8_dwconv_ukernel_fn qu8_dwconv;
  /// Registry entries of the chosen variants, indexed by spw_kernel_op.
  const spw_kernel_info* entries[SPW_KERNEL_OP_COUNT];
} spw_kernel_config;

/// The process-wide table, filled once (thread-safe) for `spw_isa_select(getenv("SPARROW_ISA"))`.
const spw_kernel_config* spw_get_kernel_config(void);

/// The table of one level, or NULL when the CPU does not support that level. For tests and benchmarks.
const spw_kernel_config* spw_config_for_isa(spw_isa isa);

/// Label of the level of `spw_get_kernel_config()`: "scalar", "avx2", "avx512" or "neon".
const char* spw_isa_name(void);

/// Name of the variant the process-wide table uses for `op` (e.g. "spw_f32_dwconv_ukernel_1x8__avx2").
const char* spw_kernel_name(spw_kernel_op op);

// MARK: - Dispatching entry points (use the process-wide table)

/// CRC-32C (Castagnoli) of a buffer: init 0xFFFFFFFF, final xor 0xFFFFFFFF; crc("123456789") = 0xE3069283.
uint32_t spw_crc32c(const void* data, size_t length);

/// Extends a finished CRC-32C: spw_crc32c_update(spw_crc32c(a), b) == spw_crc32c(a ++ b); start from 0.
uint32_t spw_crc32c_update(uint32_t crc, const void* data, size_t length);

void spw_f32_dwconv(
    const spw_f32_dwconv_params* params, const float* input, const float* weights, const float* bias,
    float* output);
void spw_f32_im2col(const spw_f32_im2col_params* params, const float* input, float* columns);
void spw_f32_bias_act(const spw_f32_bias_act_params* params, const float* bias, float* data);
void spw_f32_maxpool(const spw_f32_pool_params* params, const float* input, float* output);
void spw_f32_avgpool(const spw_f32_pool_params* params, const float* input, float* output);
void spw_f32_gavgpool(const spw_f32_gavgpool_params* params, const float* input, float* output);
void spw_f32_spmm(
    const spw_f32_spmm_params* params, const float* input, const uint32_t* row_pointers, const uint32_t* offsets,
    const float* values, const float* bias, float* output);
void spw_qs8_gemm(
    const spw_qs8_gemm_params* params, const uint8_t* input, const void* packed_weights, const void* bias,
    const float* scales, void* output);
void spw_f32_qu8_cvt(const spw_qu8_cvt_params* params, const float* input, uint8_t* output);
void spw_qu8_f32_cvt(const spw_qu8_cvt_params* params, const uint8_t* input, float* output);
void spw_qu8_add(const spw_qu8_add_params* params, const uint8_t* a, const uint8_t* b, uint8_t* output);
void spw_qu8_maxpool(const spw_qu8_maxpool_params* params, const uint8_t* input, uint8_t* output);
void spw_qu8_gavgpool(const spw_qu8_gavgpool_params* params, const uint8_t* input, uint8_t* output);
void spw_qu8_dwconv(
    const spw_qu8_dwconv_params* params, const uint8_t* input, const int8_t* weights, const int32_t* bias,
    const float* scales, uint8_t* output);

// MARK: - Weight packing (once, at load time)

/// Bytes spw_qs8_gemm_pack writes for `rows` x `depth` weights: one panel of SPW_QS8_GEMM_PANEL_ROWS rows per
/// started group of 8 rows, each 32 + 32 * ceil(depth / 2) bytes.
size_t spw_qs8_gemm_packed_size(size_t rows, size_t depth);

/// Packs int8 weights [rows][depth] (row r at weights + r * depth) for spw_qs8_gemm. Panel p holds rows 8p..8p+7:
///   int32_t row_sums[8]                     sum over k of w[8p+i][k]: the input zero point correction
///   int16_t pairs[ceil(depth / 2)][8][2]    pairs[j][i] = {w[8p+i][2j], w[8p+i][2j+1]}
/// (native byte order), zero for rows past `rows` and for k = depth when depth is odd. Pairs of int16 are what the
/// AVX2 kernel multiplies with vpmaddwd; the panel layout is part of the kernel contract, shared by all variants.
void spw_qs8_gemm_pack(size_t rows, size_t depth, const int8_t* weights, void* packed);

#ifdef __cplusplus
}  // extern "C"
#endif

#endif  // SPARROW_KERNELS_H
