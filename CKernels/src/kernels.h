// Internal: declarations of every kernel variant, generated from the registry list (config/kernels.inc).
#ifndef SPW_KERNELS_H
#define SPW_KERNELS_H

#include "common.h"

// Function types (not pointer types) so that the X-macro can declare functions.
typedef uint32_t spw_crc32c_ukernel_t(uint32_t state, const uint8_t* data, size_t length);
typedef void spw_f32_dwconv_ukernel_t(
    const spw_f32_dwconv_params* params, const float* input, const float* weights, const float* bias,
    float* output);
typedef void spw_f32_im2col_ukernel_t(const spw_f32_im2col_params* params, const float* input, float* columns);
typedef void spw_f32_bias_act_ukernel_t(const spw_f32_bias_act_params* params, const float* bias, float* data);
typedef void spw_f32_pool_ukernel_t(const spw_f32_pool_params* params, const float* input, float* output);
typedef void spw_f32_gavgpool_ukernel_t(const spw_f32_gavgpool_params* params, const float* input, float* output);
typedef void spw_f32_spmm_ukernel_t(
    const spw_f32_spmm_params* params, const float* input, const uint32_t* row_pointers, const uint32_t* offsets,
    const float* values, const float* bias, float* output);
typedef void spw_qs8_gemm_ukernel_t(
    const spw_qs8_gemm_params* params, const uint8_t* input, const void* packed_weights, const void* bias,
    const float* scales, void* output);
typedef void spw_f32_qu8_cvt_ukernel_t(const spw_qu8_cvt_params* params, const float* input, uint8_t* output);
typedef void spw_qu8_f32_cvt_ukernel_t(const spw_qu8_cvt_params* params, const uint8_t* input, float* output);
typedef void spw_qu8_add_ukernel_t(
    const spw_qu8_add_params* params, const uint8_t* a, const uint8_t* b, uint8_t* output);
typedef void spw_qu8_maxpool_ukernel_t(const spw_qu8_maxpool_params* params, const uint8_t* input, uint8_t* output);
typedef void spw_qu8_gavgpool_ukernel_t(const spw_qu8_gavgpool_params* params, const uint8_t* input, uint8_t* output);
typedef void spw_qu8_dwconv_ukernel_t(
    const spw_qu8_dwconv_params* params, const uint8_t* input, const int8_t* weights, const int32_t* bias,
    const float* scales, uint8_t* output);

#define SPW_KERNEL(op, member, function, isa, tile, features) spw_##member##_ukernel_t function;
#include "config/kernels.inc"
#undef SPW_KERNEL

#endif  // SPW_KERNELS_H
