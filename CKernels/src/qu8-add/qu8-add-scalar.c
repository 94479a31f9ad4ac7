// Quantized addition reference: one element at a time, the header's formula, one fp32 operation per statement.
#include "../qu8.h"

SPW_SCALAR_REFERENCE_FILE

void spw_qu8_add_ukernel_1x1__scalar(
    const spw_qu8_add_params* p, const uint8_t* a, const uint8_t* b, uint8_t* output) {
  const spw_qu8_bounds bounds = spw_qu8_make_bounds(p->output_zero_point, p->output_min, p->output_max);
  const int32_t a_zero_point = p->a_zero_point, b_zero_point = p->b_zero_point;
  for (size_t i = 0; i < p->count; i++) {
    const float va = (float)((int32_t)a[i] - a_zero_point) * p->a_multiplier;
    const float vb = (float)((int32_t)b[i] - b_zero_point) * p->b_multiplier;
    const float v = va + vb;
    output[i] = spw_qu8_clamp_round(v, bounds);
  }
}
