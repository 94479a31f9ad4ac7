// Internal helpers shared by all kernel files. Not part of the public API.
#ifndef SPW_COMMON_H
#define SPW_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "sparrow_kernels.h"

#if defined(__x86_64__) || defined(__i386__) || defined(_M_X64)
  #define SPW_ARCH_X86 1
#else
  #define SPW_ARCH_X86 0
#endif

#if defined(__aarch64__)
  #define SPW_ARCH_ARM64 1
#else
  #define SPW_ARCH_ARM64 0
#endif

#define SPW_INLINE static inline __attribute__((always_inline))
#define SPW_UNUSED(x) ((void)(x))

#if defined(__GNUC__)
  #define SPW_LIKELY(x) __builtin_expect(!!(x), 1)
  #define SPW_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
  #define SPW_LIKELY(x) (x)
  #define SPW_UNLIKELY(x) (x)
#endif

// Debug-only argument checks: SwiftPM never defines NDEBUG, so the package defines DEBUG for debug builds.
#if defined(DEBUG)
  #include <assert.h>
  #define SPW_DEBUG_ASSERT(cond) assert(cond)
#else
  #define SPW_DEBUG_ASSERT(cond) ((void)0)
#endif

// Whole-file target regions. Clang needs `#pragma clang attribute` so that static inline helpers get the target
// too (otherwise always_inline helpers fail to inline into the target function); GCC has push_options/target.
#if defined(__clang__)
  #define SPW_TARGET_BEGIN_SSE42_PCLMUL \
    _Pragma("clang attribute push(__attribute__((target(\"sse4.2,pclmul\"))), apply_to = function)")
  #define SPW_TARGET_BEGIN_AVX2 \
    _Pragma("clang attribute push(__attribute__((target(\"avx2,fma\"))), apply_to = function)")
  #define SPW_TARGET_BEGIN_AVX512F \
    _Pragma("clang attribute push(__attribute__((target(\"avx512f,avx2,fma\"))), apply_to = function)")
  #define SPW_TARGET_END _Pragma("clang attribute pop")
#elif defined(__GNUC__)
  #define SPW_TARGET_BEGIN_SSE42_PCLMUL _Pragma("GCC push_options") _Pragma("GCC target(\"sse4.2,pclmul\")")
  #define SPW_TARGET_BEGIN_AVX2 _Pragma("GCC push_options") _Pragma("GCC target(\"avx2,fma\")")
  #define SPW_TARGET_BEGIN_AVX512F _Pragma("GCC push_options") _Pragma("GCC target(\"avx512f,avx2,fma\")")
  #define SPW_TARGET_END _Pragma("GCC pop_options")
#endif

// Scalar references must not be contracted into FMAs, so that "reference" does not depend on compiler flags.
// Use at the top of a scalar file, after the includes.
#if defined(__clang__)
  #define SPW_SCALAR_REFERENCE_FILE _Pragma("STDC FP_CONTRACT OFF")
#elif defined(__GNUC__)
  #define SPW_SCALAR_REFERENCE_FILE _Pragma("GCC optimize(\"fp-contract=off\")")
#else
  #define SPW_SCALAR_REFERENCE_FILE
#endif

static inline size_t spw_min_size(size_t a, size_t b) { return a < b ? a : b; }
static inline ptrdiff_t spw_min_ptrdiff(ptrdiff_t a, ptrdiff_t b) { return a < b ? a : b; }
static inline ptrdiff_t spw_max_ptrdiff(ptrdiff_t a, ptrdiff_t b) { return a > b ? a : b; }

// Clamp with NaN propagation, matching `max_ps(vmin, x)` then `min_ps(vmax, x)` on x86 (a NaN x is returned).
static inline float spw_clamp_f32(float x, float lo, float hi) {
  x = x < lo ? lo : x;
  x = x > hi ? hi : x;
  return x;
}

// Range [k_begin, k_end) of kernel taps k for which `base + k * dilation` lies in [lo, hi). Empty when k_end <= k_begin.
// Called once per output row by several kernels: dilation 1 avoids the (slow) integer divisions.
static inline void spw_tap_range(
    ptrdiff_t base, ptrdiff_t dilation, ptrdiff_t taps, ptrdiff_t lo, ptrdiff_t hi,
    ptrdiff_t* k_begin, ptrdiff_t* k_end) {
  ptrdiff_t kb = 0, ke = 0;
  if (dilation == 1) {
    kb = base < lo ? lo - base : 0;
    ke = base < hi ? hi - base : 0;
  } else {
    if (base < lo) kb = (lo - base + dilation - 1) / dilation;
    if (base < hi) ke = (hi - base + dilation - 1) / dilation;
  }
  if (ke > taps) ke = taps;
  if (ke < kb) ke = kb;
  *k_begin = kb;
  *k_end = ke;
}

#endif  // SPW_COMMON_H
