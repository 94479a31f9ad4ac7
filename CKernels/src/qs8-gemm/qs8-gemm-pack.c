// Packing of int8 GEMM weights into the panels of sparrow_kernels.h, once per layer at load time.
#include "../qu8.h"

size_t spw_qs8_gemm_packed_size(size_t rows, size_t depth) {
  const size_t panels = (rows + SPW_QS8_GEMM_PANEL_ROWS - 1) / SPW_QS8_GEMM_PANEL_ROWS;
  return panels * spw_qs8_gemm_panel_bytes(depth);
}

void spw_qs8_gemm_pack(size_t rows, size_t depth, const int8_t* weights, void* packed) {
  const size_t panel_bytes = spw_qs8_gemm_panel_bytes(depth);
  uint8_t* panel = (uint8_t*)packed;
  for (size_t r0 = 0; r0 < rows; r0 += SPW_QS8_GEMM_PANEL_ROWS, panel += panel_bytes) {
    memset(panel, 0, panel_bytes);
    for (size_t i = 0; i < SPW_QS8_GEMM_PANEL_ROWS && r0 + i < rows; i++) {
      const int8_t* w = weights + (r0 + i) * depth;
      int32_t sum = 0;  // |sum| <= 128 * depth: no overflow below depth 2^24
      for (size_t k = 0; k < depth; k++) {
        const int16_t value = w[k];
        sum = spw_wrap_add_s32(sum, value);
        memcpy(panel + SPW_QS8_GEMM_PANEL_HEADER + (k / 2) * SPW_QS8_GEMM_PAIR_BYTES + i * 4 + (k % 2) * 2, &value,
               sizeof value);
      }
      memcpy(panel + i * 4, &sum, sizeof sum);
    }
  }
}
