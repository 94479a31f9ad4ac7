// GEMM epilogue reference: y = clamp(y + bias[row] [+ residual], min, max), in place.
#include "../kernels.h"

SPW_SCALAR_REFERENCE_FILE

void spw_f32_bias_act_ukernel_1x1__scalar(const spw_f32_bias_act_params* p, const float* bias, float* data) {
  SPW_DEBUG_ASSERT(p->rows == 0 || p->row_stride >= p->cols);
  for (size_t r = 0; r < p->rows; r++) {
    const float b = bias != NULL ? bias[r] : 0.0f;
    float* row = data + r * p->row_stride;
    if (p->residual != NULL) {
      const float* res = p->residual + r * p->residual_stride;
      for (size_t c = 0; c < p->cols; c++) {
        const float y = row[c] + b;
        row[c] = spw_clamp_f32(y + res[c], p->output_min, p->output_max);
      }
      continue;
    }
    for (size_t c = 0; c < p->cols; c++) row[c] = spw_clamp_f32(row[c] + b, p->output_min, p->output_max);
  }
}
