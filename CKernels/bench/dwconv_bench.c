// Stand-alone benchmark of the f32_dwconv variants on the depthwise layers of MobileNetV2 (3x3) and of
// EfficientNet-B0 / MobileNetV3 (5x5). Not part of the SwiftPM target (Package.swift excludes bench/). Build and
// run from the package root:
//
//   clang -O2 -I CKernels/include -I CKernels/src CKernels/bench/dwconv_bench.c \
//       CKernels/src/f32-dwconv/*.c CKernels/src/cpu/cpu.c -lpthread -o /tmp/dwconv_bench
//   /tmp/dwconv_bench                 # every variant the CPU supports, 1 thread, wall clock
//   /tmp/dwconv_bench -cpu            # timed with the thread's CPU clock (use on a busy machine)
//   /tmp/dwconv_bench -q              # quick: fewer samples
//   /tmp/dwconv_bench -s 3            # shape 3 only
//   /tmp/dwconv_bench -v 1x8,1x16     # variants whose name contains one of the words
//   /tmp/dwconv_bench -all            # also the 5x5 layers
//   /tmp/dwconv_bench -l 8,112,112,3,2 # one layer given as channels,height,width,kernel,stride
//   /tmp/dwconv_bench -c 16           # at most 16 channels per layer (data mostly in L2: compute, not memory)
//   /tmp/dwconv_bench -r              # the variants take their turns in reverse order
//
// Only the depthwise sources and cpu.c are linked (the variants are called directly, not through the registry), so
// the benchmark builds while other kernels are being edited. The "old AVX2" column of the table below is the kernel
// before the specialised paths: `git show e798e9e:CKernels/src/f32-dwconv/f32-dwconv-1x8-avx2.c`, its function
// renamed `spw_f32_dwconv_ukernel_1x8__avx2_baseline`, compiled in with -DSPW_DWCONV_EXPERIMENTS.
// Layers: NCHW, one image, pad kernel/2 on every side, bias, ReLU6. Inputs and weights uniform in [-1, 1).
// Each sample times enough calls to last >= 0.5 ms; the figure is the median of the samples, per call; the variants
// take turns (one sample each per round). The last line sums the MobileNetV2 layers.
// GFLOP/s counts 2 FLOP per multiply-add of the full kernel window (padding taps included), as usual.
//
// Which variant runs right after the scalar reference matters: the first vector variant after it ran 2.5x slower
// on 96x112x112 stride 2 (old AVX2 kernel; 1.2x for the new one), reproducibly, so compare the AVX2 kernels with
// -v avx2 (the scalar reference left out) and time the scalar reference on its own.
//
// AMD EPYC (Zen 3, AVX2+FMA, no AVX-512), 2 shared cores, 2026-11-25, `-cpu -v avx2`, 7 runs of 15 samples each,
// median of the runs' medians (load average 0.40 in the VM); scalar: `-cpu`, 7 runs, median. ns per call:
//
//   layer                  scalar     old AVX2 (GFLOP/s)   new AVX2 (GFLOP/s)   speedup
//   32x112x112 3x3/1     11272803     289633  (24.9)       234273  (30.8)       1.24x
//   96x112x112 3x3/2      8096034     464803  (11.7)       323928  (16.7)       1.43x
//   144x56x56  3x3/1     11887675     435908  (18.6)       324504  (25.0)       1.34x
//   144x56x56  3x3/2      3152252     231942   (8.8)       139935  (14.5)       1.66x
//   192x28x28  3x3/1      4000273     191720  (14.1)       151892  (17.8)       1.26x
//   192x28x28  3x3/2      1000006     105635   (6.4)        54120  (12.5)       1.95x
//   384x14x14  3x3/1      1971357      86628  (15.6)        51983  (26.1)       1.67x
//   576x14x14  3x3/1      2846388     125203  (16.2)        78114  (26.0)       1.60x
//   576x14x14  3x3/2       731111      95639   (5.3)        35482  (14.3)       2.70x
//   960x7x7    3x3/1      1149255      62606  (13.5)        40002  (21.2)       1.57x
//   all ten              45592542    2073631  (14.9)      1424207  (21.7)       1.46x
//
// The 3x3 stride-1 layers are bound by the FMA loop of f32-dwconv-avx2-ring.c (about 2 ns per 8 outputs with the
// rows in L1, ~70 GFLOP/s; the rest is the row copies and the per-block driver); stride 2 and the small images by
// the 8x8 transposes of f32-dwconv-avx2-8ch.c.
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_common.h"

#ifdef SPW_DWCONV_EXPERIMENTS
void spw_f32_dwconv_ukernel_1x8__avx2_baseline(
    const spw_f32_dwconv_params* p, const float* input, const float* weights, const float* bias, float* output);
#endif

typedef struct variant {
  const char* name;
  spw_f32_dwconv_ukernel_fn fn;
  uint32_t features;
} variant;

static const variant k_variants[] = {
  {"spw_f32_dwconv_ukernel_1x1__scalar", spw_f32_dwconv_ukernel_1x1__scalar, 0},
#ifdef SPW_DWCONV_EXPERIMENTS
  {"spw_f32_dwconv_ukernel_1x8__avx2_baseline", spw_f32_dwconv_ukernel_1x8__avx2_baseline,
   SPW_CPU_AVX2 | SPW_CPU_FMA},
#endif
  {"spw_f32_dwconv_ukernel_1x8__avx2", spw_f32_dwconv_ukernel_1x8__avx2, SPW_CPU_AVX2 | SPW_CPU_FMA},
  {"spw_f32_dwconv_ukernel_1x16__avx512f", spw_f32_dwconv_ukernel_1x16__avx512f,
   SPW_CPU_AVX512F | SPW_CPU_AVX2 | SPW_CPU_FMA},
};
#define VARIANT_COUNT (sizeof(k_variants) / sizeof(k_variants[0]))

typedef struct shape {
  const char* net;
  size_t channels, height, width, kernel, stride;
  bool extra;  // listed with -all only
} shape;

static shape k_shapes[] = {
  {"mbv2", 32, 112, 112, 3, 1, false},   {"mbv2", 96, 112, 112, 3, 2, false}, {"mbv2", 144, 56, 56, 3, 1, false},
  {"mbv2", 144, 56, 56, 3, 2, false},    {"mbv2", 192, 28, 28, 3, 1, false},  {"mbv2", 192, 28, 28, 3, 2, false},
  {"mbv2", 384, 14, 14, 3, 1, false},    {"mbv2", 576, 14, 14, 3, 1, false},  {"mbv2", 576, 14, 14, 3, 2, false},
  {"mbv2", 960, 7, 7, 3, 1, false},
  {"effb0", 144, 56, 56, 5, 2, true},    {"effb0", 240, 28, 28, 5, 1, true},  {"effb0", 480, 14, 14, 5, 1, true},
  {"effb0", 672, 14, 14, 5, 2, true},    {"effb0", 1152, 7, 7, 5, 1, true},
  {"custom", 0, 0, 0, 0, 0, true},  // -l
};
#define SHAPE_COUNT (sizeof(k_shapes) / sizeof(k_shapes[0]))

typedef struct layer {
  spw_f32_dwconv_params params;
  float *input, *weights, *bias, *output;
} layer;

typedef struct job {
  const layer* l;
  spw_f32_dwconv_ukernel_fn fn;
} job;

static void run(const job* j) { j->fn(&j->l->params, j->l->input, j->l->weights, j->l->bias, j->l->output); }

static int g_samples = 15;

// Median nanoseconds per call of each job. The jobs take turns, one sample each per round, so that a change in
// the machine's load hits all of them alike; each sample times enough warm calls to last >= 0.5 ms.
static bool g_reverse = false;

static void time_jobs(const job* jobs, size_t count, double* medians) {
  int calls[8];
  static double samples[8][64];
  for (size_t i = 0; i < count; i++) {
    run(&jobs[i]);
    const double start = now_ns();
    run(&jobs[i]);
    const double once = now_ns() - start;
    calls[i] = once >= 5e5 ? 1 : (int)(5e5 / (once + 1.0)) + 1;
  }
  for (int s = 0; s < g_samples; s++) {
    for (size_t k = 0; k < count; k++) {
      const size_t i = g_reverse ? count - 1 - k : k;
      run(&jobs[i]);  // untimed: brings the job's data back into the caches the previous job used
      const double start = now_ns();
      for (int c = 0; c < calls[i]; c++) run(&jobs[i]);
      samples[i][s] = (now_ns() - start) / calls[i];
    }
  }
  for (size_t i = 0; i < count; i++) {
    qsort(samples[i], (size_t)g_samples, sizeof(double), compare_double);
    medians[i] = samples[i][g_samples / 2];
  }
}

static void make_layer(layer* l, const shape* s) {
  const size_t pad = s->kernel / 2;
  const size_t oh = (s->height + 2 * pad - s->kernel) / s->stride + 1;
  const size_t ow = (s->width + 2 * pad - s->kernel) / s->stride + 1;
  l->params = (spw_f32_dwconv_params){
    .channels = s->channels, .input_height = s->height, .input_width = s->width, .output_height = oh,
    .output_width = ow, .kernel_height = s->kernel, .kernel_width = s->kernel, .stride_h = s->stride,
    .stride_w = s->stride, .dilation_h = 1, .dilation_w = 1, .pad_top = pad, .pad_left = pad,
    .output_min = 0.0f, .output_max = 6.0f, .c_begin = 0, .c_end = s->channels};
  const size_t in_count = s->channels * s->height * s->width, w_count = s->channels * s->kernel * s->kernel;
  l->input = malloc(sizeof(float) * in_count);
  l->weights = malloc(sizeof(float) * w_count);
  l->bias = malloc(sizeof(float) * s->channels);
  l->output = malloc(sizeof(float) * s->channels * oh * ow);
  for (size_t i = 0; i < in_count; i++) l->input[i] = 2.0f * uniform();
  for (size_t i = 0; i < w_count; i++) l->weights[i] = uniform();
  for (size_t i = 0; i < s->channels; i++) l->bias[i] = uniform();
}

static void free_layer(layer* l) {
  free(l->input);
  free(l->weights);
  free(l->bias);
  free(l->output);
}

static size_t output_count(const layer* l) {
  return l->params.channels * l->params.output_height * l->params.output_width;
}

// Largest |variant - expected| relative to 1 + |expected|, as a sanity check of the benchmarked code.
static double check(const layer* l, spw_f32_dwconv_ukernel_fn fn, const float* expected) {
  memset(l->output, 0xff, sizeof(float) * output_count(l));  // NaN: an output not written shows
  run(&(job){l, fn});
  double worst = 0;
  for (size_t i = 0; i < output_count(l); i++) {
    const double d = fabs((double)l->output[i] - expected[i]) / (1.0 + fabs(expected[i]));
    if (!(d <= worst)) worst = d;
  }
  return worst;
}

int main(int argc, char** argv) {
  int only_shape = -1;
  const char* only_variants = NULL;
  bool all_shapes = false, reverse = false;
  size_t max_channels = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "-q") == 0) g_samples = 7;
    if (strcmp(argv[i], "-cpu") == 0) g_clock = CLOCK_THREAD_CPUTIME_ID;
    if (strcmp(argv[i], "-all") == 0) all_shapes = true;
    if (strcmp(argv[i], "-r") == 0) reverse = true;
    if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) max_channels = (size_t)atol(argv[++i]);
    if (strcmp(argv[i], "-s") == 0 && i + 1 < argc) only_shape = atoi(argv[++i]);
    if (strcmp(argv[i], "-v") == 0 && i + 1 < argc) only_variants = argv[++i];
    if (strcmp(argv[i], "-l") == 0 && i + 1 < argc) {
      shape* s = &k_shapes[SHAPE_COUNT - 1];
      s->net = "custom";
      s->extra = false;
      if (sscanf(argv[++i], "%zu,%zu,%zu,%zu,%zu", &s->channels, &s->height, &s->width, &s->kernel, &s->stride) != 5)
        return 2;
      only_shape = (int)SHAPE_COUNT - 1;
    }
  }

  g_reverse = reverse;
  size_t chosen[VARIANT_COUNT], chosen_count = 0;
  for (size_t v = 0; v < VARIANT_COUNT; v++) {
    if ((spw_cpu_features() & k_variants[v].features) != k_variants[v].features) {
      printf("# %s: not supported by this CPU\n", k_variants[v].name);
      continue;
    }
    if (v == 0 || selected(k_variants[v].name, only_variants)) chosen[chosen_count++] = v;
  }
  char features[256];
  spw_cpu_features_describe(features, sizeof(features));
  printf("# CPU features: %s; 1 thread; median of %d samples; %s clock\n", features, g_samples,
         g_clock == CLOCK_MONOTONIC ? "wall" : "thread CPU");
  printf("%2s %-6s %-16s %-5s %-42s %11s %8s %8s\n", "#", "net", "CxHxW", "k/s", "variant", "ns", "GFLOP/s",
         "speedup");
  double total_ns[VARIANT_COUNT] = {0}, total_flops = 0;
  bool total_complete[VARIANT_COUNT];
  for (size_t i = 0; i < VARIANT_COUNT; i++) total_complete[i] = true;
  size_t total_shapes = 0;
  for (size_t si = 0; si < SHAPE_COUNT; si++) {
    const shape* s = &k_shapes[si];
    if (only_shape >= 0 ? (size_t)only_shape != si : (s->extra && !all_shapes) || s->channels == 0) continue;
    shape capped = *s;
    if (max_channels > 0 && capped.channels > max_channels) capped.channels = max_channels;
    s = &capped;
    layer l;
    make_layer(&l, s);
    const double flops = 2.0 * (double)(output_count(&l) * s->kernel * s->kernel);
    float* expected = malloc(sizeof(float) * output_count(&l));
    run(&(job){&l, k_variants[0].fn});
    memcpy(expected, l.output, sizeof(float) * output_count(&l));
    job jobs[VARIANT_COUNT];
    for (size_t i = 0; i < chosen_count; i++) jobs[i] = (job){&l, k_variants[chosen[i]].fn};
    double ns[VARIANT_COUNT];
    // The scalar reference is timed unless -v leaves it out (it is the slowest by far).
    const bool time_scalar = only_variants == NULL || selected("scalar", only_variants);
    time_jobs(jobs + (time_scalar ? 0 : 1), chosen_count - (time_scalar ? 0 : 1), ns + (time_scalar ? 0 : 1));
    char dims[32], ks[8];
    snprintf(dims, sizeof(dims), "%zux%zux%zu", s->channels, s->height, s->width);
    snprintf(ks, sizeof(ks), "%zu/%zu", s->kernel, s->stride);
    // Speedups are relative to the first vector variant: the old AVX2 kernel when built with the experiments.
    const double base_ns = chosen_count > 1 ? ns[1] : 0;
    if (strcmp(s->net, "mbv2") == 0) {
      total_shapes++;
      total_flops += flops;
      for (size_t i = 0; i < chosen_count; i++) {
        if (i == 0 && !time_scalar) total_complete[i] = false;
        else total_ns[i] += ns[i];
      }
    }
    for (size_t i = time_scalar ? 0 : 1; i < chosen_count; i++) {
      const double error = check(&l, jobs[i].fn, expected);
      printf("%2zu %-6s %-16s %-5s %-42s %11.0f %8.2f %7.2fx%s\n", si, s->net, dims, ks, k_variants[chosen[i]].name,
             ns[i], flops / ns[i], base_ns / ns[i], error > 1e-4 ? "  MISMATCH" : "");
    }
    fflush(stdout);
    free(expected);
    free_layer(&l);
  }
  if (total_shapes > 1) {
    for (size_t i = 0; i < chosen_count; i++) {
      if (!total_complete[i]) continue;
      printf("%2s %-6s %-16s %-5s %-42s %11.0f %8.2f %7.2fx\n", "", "mbv2", "all layers above", "", k_variants[chosen[i]].name,
             total_ns[i], total_flops / total_ns[i], chosen_count > 1 ? total_ns[1] / total_ns[i] : 0.0);
    }
  }
  return 0;
}
