// What the stand-alone kernel benchmarks share: a seeded generator, the clock, sorting of samples, the -v word
// filter and, with SPW_BENCH_REGISTRY defined before the include, every registered kernel declared weak (those
// not linked in are NULL), so that a benchmark links only the sources of the op it times.
#ifndef SPW_BENCH_COMMON_H
#define SPW_BENCH_COMMON_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "kernels.h"

#ifdef SPW_BENCH_REGISTRY
#define SPW_KERNEL(op, member, function, isa, tile, features) \
  extern spw_##member##_ukernel_t function __attribute__((weak));
#include "config/kernels.inc"
#undef SPW_KERNEL

static const spw_kernel_info k_registry[] = {
#define SPW_KERNEL(op_, member, function, isa_, tile_, features)                                               \
  {.name = #function, .op = op_, .isa = isa_, .tile = tile_, .required_features = (features),                 \
   .fn = {.member = function}},
#include "config/kernels.inc"
#undef SPW_KERNEL
};
#endif

static uint64_t g_rng = 0x5EED;
static inline uint64_t splitmix64(void) {
  uint64_t z = (g_rng += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
/// Uniform in [-1, 1).
static inline float uniform(void) { return (float)((int32_t)(splitmix64() >> 40) - (1 << 23)) / (float)(1 << 23); }

// CLOCK_MONOTONIC by default; -cpu: this thread's CPU time, which leaves out the time the thread waits for a core
// on a busy machine (not the cache misses other processes cause).
static clockid_t g_clock = CLOCK_MONOTONIC;

static inline double now_ns(void) {
  struct timespec t;
  clock_gettime(g_clock, &t);
  return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static inline int compare_double(const void* a, const void* b) {
  const double x = *(const double*)a, y = *(const double*)b;
  return x < y ? -1 : x > y;
}

// Whether `name` contains one of the comma-separated words of `list` (NULL: every name).
static inline bool selected(const char* name, const char* list) {
  if (list == NULL) return true;
  char word[64];
  for (const char* p = list; *p != 0;) {
    size_t n = strcspn(p, ",");
    if (n > 0 && n < sizeof(word)) {
      memcpy(word, p, n);
      word[n] = 0;
      if (strstr(name, word) != NULL) return true;
    }
    p += n + (p[n] == ',');
  }
  return false;
}

#endif  // SPW_BENCH_COMMON_H
