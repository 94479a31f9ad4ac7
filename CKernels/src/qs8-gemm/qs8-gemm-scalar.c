// Quantized matrix product reference: one output at a time, straight from the definition. It subtracts the input
// zero point from every input instead of using the packed row sums, so a wrong sum in a variant or in the packing
// shows up as a mismatch.
#include "../qu8.h"

SPW_SCALAR_REFERENCE_FILE

void spw_qs8_gemm_ukernel_1x1__scalar(
    const spw_qs8_gemm_params* p, const uint8_t* input, const void* packed_weights, const void* bias,
    const float* scales, void* output) {
  SPW_DEBUG_ASSERT(p->rows == 0 || (p->input_stride >= p->columns && p->output_stride >= p->columns));
  const size_t panel_bytes = spw_qs8_gemm_panel_bytes(p->depth);
  const int32_t zero_point = p->input_zero_point;
  const spw_qu8_bounds bounds = spw_qu8_make_bounds(p->output_zero_point, p->output_min, p->output_max);
  for (size_t r = 0; r < p->rows; r++) {
    const uint8_t* panel =
        (const uint8_t*)packed_weights + (r / SPW_QS8_GEMM_PANEL_ROWS) * panel_bytes;
    const size_t i = r % SPW_QS8_GEMM_PANEL_ROWS;
    const bool int_bias = p->output_type != SPW_QS8_GEMM_OUTPUT_F32;
    const int32_t b = int_bias && bias != NULL ? ((const int32_t*)bias)[r] : 0;
    for (size_t c = 0; c < p->columns; c++) {
      int32_t acc = b;
      for (size_t k = 0; k < p->depth; k++) {
        const int32_t x = (int32_t)input[k * p->input_stride + c] - zero_point;
        acc = spw_wrap_add_s32(acc, spw_qs8_gemm_packed_weight(panel, i, k) * x);
      }
      const size_t o = r * p->output_stride + c;
      switch (p->output_type) {
        case SPW_QS8_GEMM_OUTPUT_QU8:
          ((uint8_t*)output)[o] = spw_qu8_requantize(acc, scales[r], bounds);
          break;
        case SPW_QS8_GEMM_OUTPUT_F32: {
          float v = (float)acc;
          v = v * scales[r];
          v = v + (bias != NULL ? ((const float*)bias)[r] : 0.0f);
          ((float*)output)[o] = spw_clamp_f32(v, p->float_min, p->float_max);
          break;
        }
        case SPW_QS8_GEMM_OUTPUT_S32:
          ((int32_t*)output)[o] = acc;
          break;
      }
    }
  }
}
