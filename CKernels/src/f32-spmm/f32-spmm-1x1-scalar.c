// Sparse x dense reference: one output at a time, nonzeros in order from the bias, no FMA contraction.
#include "../kernels.h"

SPW_SCALAR_REFERENCE_FILE

void spw_f32_spmm_ukernel_1x1__scalar(
    const spw_f32_spmm_params* p, const float* input, const uint32_t* row_pointers, const uint32_t* offsets,
    const float* values, const float* bias, float* output) {
  SPW_DEBUG_ASSERT(p->rows == 0 || p->output_stride >= p->pixels);
  for (size_t r = 0; r < p->rows; r++) {
    const uint32_t j_begin = row_pointers[r], j_end = row_pointers[r + 1];
    SPW_DEBUG_ASSERT(j_begin <= j_end);
    const float b = bias != NULL ? bias[r] : 0.0f;
    float* out = output + r * p->output_stride;
    const float* res = p->residual != NULL ? p->residual + r * p->residual_stride : NULL;
    for (size_t x = 0; x < p->pixels; x++) {
      float acc = b;
      for (uint32_t j = j_begin; j < j_end; j++) acc += values[j] * input[offsets[j] + x];
      if (res != NULL) acc += res[x];
      out[x] = spw_clamp_f32(acc, p->output_min, p->output_max);
    }
  }
}
