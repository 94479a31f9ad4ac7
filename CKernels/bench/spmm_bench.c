// Stand-alone benchmark of the f32_spmm variants against dense OpenBLAS sgemm on 1x1-convolution layer shapes.
// Not part of the SwiftPM target (Package.swift excludes bench/). Build and run from the package root:
//
//   clang -O2 -I CKernels/include -I CKernels/src $(pkg-config --cflags openblas) CKernels/bench/spmm_bench.c \
//       $(find CKernels/src -name '*.c') $(pkg-config --libs openblas) -lpthread -o /tmp/spmm_bench
//   /tmp/spmm_bench                 # every registered variant the CPU supports, 1 thread
//   /tmp/spmm_bench -q              # quick: fewer samples
//   /tmp/spmm_bench -s 3 -cpu       # shape 3 only, timed with the thread's CPU clock
//
// Add -DSPW_SPMM_EXPERIMENTS to both the build and the sources to also time the unregistered tile experiments of
// f32-spmm-32x2-avx2.c. Weights are Bernoulli-pruned (each entry kept with probability 1 - sparsity, so rows
// differ in length as after unstructured magnitude pruning), inputs and weights are uniform in [-1, 1).
// Each sample times enough calls to last >= 0.5 ms; the figure is the median of the samples, per call.
#define _GNU_SOURCE
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sparrow_kernels.h"

void openblas_set_num_threads(int num_threads);

#ifdef SPW_SPMM_EXPERIMENTS
// Unregistered tile experiments of f32-spmm-32x2-avx2.c: pixels x rows, "m" = a last block of up to 1.5 tiles.
#define SPMM_EXPERIMENTS(X)                                                                                    \
  X(spw_f32_spmm_ukernel_32x1__avx2) X(spw_f32_spmm_ukernel_48x1__avx2) X(spw_f32_spmm_ukernel_64x1__avx2)    \
  X(spw_f32_spmm_ukernel_64x1m__avx2) X(spw_f32_spmm_ukernel_16x2__avx2) X(spw_f32_spmm_ukernel_24x2__avx2)  \
  X(spw_f32_spmm_ukernel_40x2__avx2) X(spw_f32_spmm_ukernel_32x2m__avx2) X(spw_f32_spmm_ukernel_16x4__avx2)
#define SPMM_DECLARE(name)                                                                                     \
  void name(const spw_f32_spmm_params*, const float*, const uint32_t*, const uint32_t*, const float*,        \
            const float*, float*);
SPMM_EXPERIMENTS(SPMM_DECLARE)
#endif

typedef struct variant {
  const char* name;
  spw_f32_spmm_ukernel_fn fn;
} variant;

typedef struct shape {
  const char* net;
  size_t cout, cin, hw;
} shape;

static const shape k_shapes[] = {
  {"resnet50", 256, 64, 3136},  {"resnet50", 64, 256, 3136},  {"resnet50", 512, 128, 784},
  {"resnet50", 1024, 256, 196}, {"resnet50", 256, 1024, 196}, {"resnet50", 2048, 512, 49},
  {"mbv2", 144, 24, 3136},      {"mbv2", 24, 144, 3136},      {"mbv2", 192, 32, 784},
  {"mbv2", 960, 160, 49},       {"mbv2", 160, 960, 49},
};
static const double k_sparsities[] = {0.7, 0.9, 0.95};

static uint64_t g_rng = 0x5EED;
static uint64_t splitmix64(void) {
  uint64_t z = (g_rng += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
static float uniform(void) { return (float)((int32_t)(splitmix64() >> 40) - (1 << 23)) / (float)(1 << 23); }
static double unit(void) { return (double)(splitmix64() >> 11) / 9007199254740992.0; }

// CLOCK_MONOTONIC by default; -cpu: this thread's CPU time, which leaves out the time the thread waits for a core
// on a busy machine (not the cache misses other processes cause).
static clockid_t g_clock = CLOCK_MONOTONIC;

static double now_ns(void) {
  struct timespec t;
  clock_gettime(g_clock, &t);
  return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static int compare_double(const void* a, const void* b) {
  const double x = *(const double*)a, y = *(const double*)b;
  return x < y ? -1 : x > y;
}

typedef struct layer {
  size_t cout, cin, hw, nnz;
  float *input, *dense_weights, *bias, *output, *values;
  uint32_t *row_pointers, *offsets;
} layer;

// One call of the job: fn != NULL: spmm; else sgemm.
typedef struct job {
  const layer* l;
  spw_f32_spmm_ukernel_fn fn;
} job;

static void run(const job* j) {
  const layer* l = j->l;
  if (j->fn != NULL) {
    const spw_f32_spmm_params p = {
      .rows = l->cout, .pixels = l->hw, .output_stride = l->hw, .output_min = 0.0f, .output_max = INFINITY};
    j->fn(&p, l->input, l->row_pointers, l->offsets, l->values, l->bias, l->output);
  } else {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)l->cout, (int)l->hw, (int)l->cin, 1.0f,
                l->dense_weights, (int)l->cin, l->input, (int)l->hw, 0.0f, l->output, (int)l->hw);
  }
}

static int g_samples = 15;

// Median nanoseconds per call.
static double time_job(const job* j) {
  run(j);
  double start = now_ns();
  run(j);
  const double once = now_ns() - start;
  const int calls = once >= 5e5 ? 1 : (int)(5e5 / (once + 1.0)) + 1;
  double samples[64];
  for (int s = 0; s < g_samples; s++) {
    start = now_ns();
    for (int c = 0; c < calls; c++) run(j);
    samples[s] = (now_ns() - start) / calls;
  }
  qsort(samples, (size_t)g_samples, sizeof(double), compare_double);
  return samples[g_samples / 2];
}

static void make_layer(layer* l, const shape* s, double sparsity) {
  memset(l, 0, sizeof(*l));
  l->cout = s->cout;
  l->cin = s->cin;
  l->hw = s->hw;
  l->input = malloc(sizeof(float) * s->cin * s->hw);
  l->output = malloc(sizeof(float) * s->cout * s->hw);
  l->dense_weights = calloc(s->cout * s->cin, sizeof(float));
  l->bias = malloc(sizeof(float) * s->cout);
  l->values = malloc(sizeof(float) * s->cout * s->cin);
  l->offsets = malloc(sizeof(uint32_t) * s->cout * s->cin);
  l->row_pointers = malloc(sizeof(uint32_t) * (s->cout + 1));
  for (size_t i = 0; i < s->cin * s->hw; i++) l->input[i] = uniform();
  size_t nnz = 0;
  for (size_t r = 0; r < s->cout; r++) {
    l->row_pointers[r] = (uint32_t)nnz;
    l->bias[r] = uniform();
    for (size_t c = 0; c < s->cin; c++) {
      if (unit() < sparsity) continue;
      const float w = uniform();
      l->dense_weights[r * s->cin + c] = w;
      l->values[nnz] = w;
      l->offsets[nnz] = (uint32_t)(c * s->hw);
      nnz++;
    }
  }
  l->row_pointers[s->cout] = (uint32_t)nnz;
  l->nnz = nnz;
}

static void free_layer(layer* l) {
  free(l->input);
  free(l->output);
  free(l->dense_weights);
  free(l->bias);
  free(l->values);
  free(l->offsets);
  free(l->row_pointers);
}

// Largest |variant - expected| relative to 1 + |expected|, as a sanity check of the benchmarked code.
static double check(const layer* l, spw_f32_spmm_ukernel_fn fn, const float* expected) {
  run(&(job){l, fn});
  double worst = 0;
  for (size_t i = 0; i < l->cout * l->hw; i++) {
    const double d = fabs((double)l->output[i] - expected[i]) / (1.0 + fabs(expected[i]));
    if (d > worst) worst = d;
  }
  return worst;
}

int main(int argc, char** argv) {
  int only_shape = -1;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "-q") == 0) g_samples = 7;
    if (strcmp(argv[i], "-cpu") == 0) g_clock = CLOCK_THREAD_CPUTIME_ID;
    if (strcmp(argv[i], "-s") == 0 && i + 1 < argc) only_shape = atoi(argv[++i]);
  }
  openblas_set_num_threads(1);

  variant variants[32];
  size_t variant_count = 0;
  spw_f32_spmm_ukernel_fn reference = NULL;
  size_t registry_count = 0;
  const spw_kernel_info* registry = spw_kernel_registry(&registry_count);
  for (size_t i = 0; i < registry_count; i++) {
    if (registry[i].op != SPW_OP_F32_SPMM) continue;
    if (reference == NULL) reference = registry[i].fn.f32_spmm;
    if (!spw_kernel_is_supported(&registry[i])) {
      printf("# %s: not supported by this CPU\n", registry[i].name);
      continue;
    }
    variants[variant_count++] = (variant){registry[i].name, registry[i].fn.f32_spmm};
  }
#ifdef SPW_SPMM_EXPERIMENTS
#define SPMM_ADD(name) variants[variant_count++] = (variant){#name " (exp)", name};
  if ((spw_cpu_features() & (SPW_CPU_AVX2 | SPW_CPU_FMA)) == (SPW_CPU_AVX2 | SPW_CPU_FMA)) {
    SPMM_EXPERIMENTS(SPMM_ADD)
  }
#endif

  char features[256];
  spw_cpu_features_describe(features, sizeof(features));
  printf("# CPU features: %s; table ISA: %s; 1 thread; median of %d samples; %s clock\n", features,
         spw_isa_name(), g_samples, g_clock == CLOCK_MONOTONIC ? "wall" : "thread CPU");
  printf("%-9s %-15s %5s %-42s %11s %8s %8s %11s %7s\n", "net", "CoutxCinxHW", "sp", "variant", "ns", "effGF/s",
         "actGF/s", "sgemm ns", "speedup");
  const size_t shape_count = sizeof(k_shapes) / sizeof(k_shapes[0]);
  for (size_t si = 0; si < shape_count; si++) {
    if (only_shape >= 0 && (size_t)only_shape != si) continue;
    const shape* s = &k_shapes[si];
    char dims[32];
    snprintf(dims, sizeof(dims), "%zux%zux%zu", s->cout, s->cin, s->hw);
    double sgemm_ns = -1;
    for (size_t k = 0; k < sizeof(k_sparsities) / sizeof(k_sparsities[0]); k++) {
      layer l;
      make_layer(&l, s, k_sparsities[k]);
      if (sgemm_ns < 0) sgemm_ns = time_job(&(job){&l, NULL});
      const double dense_flops = 2.0 * (double)(s->cout * s->cin * s->hw);
      const double actual_flops = 2.0 * (double)l.nnz * (double)s->hw;
      float* expected = malloc(sizeof(float) * s->cout * s->hw);
      run(&(job){&l, reference});
      memcpy(expected, l.output, sizeof(float) * s->cout * s->hw);
      for (size_t v = 0; v < variant_count; v++) {
        if (variants[v].fn == reference && s->cout * s->cin * s->hw > 30000000 && variant_count > 1) continue;
        const double error = check(&l, variants[v].fn, expected);
        const double ns = time_job(&(job){&l, variants[v].fn});
        printf("%-9s %-15s %4.0f%% %-42s %11.0f %8.2f %8.2f %11.0f %6.2fx%s\n", s->net, dims,
               100 * k_sparsities[k], variants[v].name, ns, dense_flops / ns, actual_flops / ns, sgemm_ns,
               sgemm_ns / ns, error > 1e-4 ? "  MISMATCH" : "");
        fflush(stdout);
      }
      free(expected);
      free_layer(&l);
    }
    printf("%-9s %-15s  sgemm %.0f ns = %.2f GFLOP/s\n", s->net, dims, sgemm_ns,
           2.0 * (double)(s->cout * s->cin * s->hw) / sgemm_ns);
  }
  return 0;
}
