// The registry table, expanded from kernels.inc.
#include "../kernels.h"

static const spw_kernel_info k_registry[] = {
#define SPW_KERNEL(op_, member, function, isa_, tile_, features)                                               \
  {.name = #function, .op = op_, .isa = isa_, .tile = tile_, .required_features = (features),                 \
   .fn = {.member = function}},
#include "kernels.inc"
#undef SPW_KERNEL
};

const spw_kernel_info* spw_kernel_registry(size_t* count) {
  if (count != NULL) *count = sizeof(k_registry) / sizeof(k_registry[0]);
  return k_registry;
}

bool spw_kernel_is_supported(const spw_kernel_info* info) {
  if (info == NULL) return false;
  return (spw_cpu_features() & info->required_features) == info->required_features;
}
