// Quantize and dequantize references: one element at a time, the header's formulas.
#include "../qu8.h"

SPW_SCALAR_REFERENCE_FILE

void spw_f32_qu8_cvt_ukernel_1x1__scalar(const spw_qu8_cvt_params* p, const float* input, uint8_t* output) {
  const spw_qu8_bounds bounds = spw_qu8_make_bounds(p->zero_point, 0, 255);
  for (size_t i = 0; i < p->count; i++) output[i] = spw_qu8_clamp_round(input[i] / p->scale, bounds);
}

void spw_qu8_f32_cvt_ukernel_1x1__scalar(const spw_qu8_cvt_params* p, const uint8_t* input, float* output) {
  const int32_t zero_point = p->zero_point;
  for (size_t i = 0; i < p->count; i++) output[i] = (float)((int32_t)input[i] - zero_point) * p->scale;
}
