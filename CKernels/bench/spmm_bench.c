// Stand-alone benchmark of the f32_spmm variants against dense OpenBLAS sgemm on 1x1-convolution layer shapes.
// Not part of the SwiftPM target (Package.swift excludes bench/). Build and run from the package root:
//
//   clang -O2 -I CKernels/include -I CKernels/src $(pkg-config --cflags openblas) -o /tmp/spmm_bench
//       CKernels/bench/spmm_bench.c CKernels/src/f32-spmm/*.c CKernels/src/cpu/cpu.c
//       $(pkg-config --libs openblas) -lpthread -lm            (one command line)
//   /tmp/spmm_bench                 # every registered spmm variant the CPU supports, 1 thread
//   /tmp/spmm_bench -q              # quick: fewer samples
//   /tmp/spmm_bench -s 3 -cpu       # shape 3 only, timed with the thread's CPU clock
//   /tmp/spmm_bench -v 64x1,scalar  # variants whose name contains one of the words
//   /tmp/spmm_bench -x -v avx2      # crossover: sparsities 0..90%, where the last variant listed meets sgemm
//   /tmp/spmm_bench -r              # variants in reverse order (to see whether the order of the turns matters)
//   /tmp/spmm_bench -k 256          # nonzeros in runs of 256 input channels, as the runtime's SpMMOperands
//                                   # lays them out (one call per run, later runs adding to the output)
//
// The variants come from the registry list (src/config/kernels.inc), every kernel declared weak: only the
// f32-spmm sources need to be linked, and a registry line added for a new variant puts it here too. Add
// -DSPW_SPMM_EXPERIMENTS to also time the unregistered tile experiments of f32-spmm-64x1-avx2.c.
// Weights are Bernoulli-pruned (each entry kept with probability 1 - sparsity, so rows differ in length as after
// unstructured magnitude pruning), inputs and weights uniform in [-1, 1), ReLU fused. The jobs of one shape and
// sparsity (sgemm and the variants) take turns, one sample each per round; each sample times enough warm calls
// to last >= 0.5 ms; the table gives the median and the fastest sample per call. On a busy machine (check
// `uptime`) the fastest sample is the steadier figure.
#define _GNU_SOURCE
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SPW_BENCH_REGISTRY
#include "bench_common.h"

void openblas_set_num_threads(int num_threads);

#ifdef SPW_SPMM_EXPERIMENTS
// Unregistered tile experiments of f32-spmm-64x1-avx2.c (pixels x rows).
#define SPMM_EXPERIMENTS(X)                                                                                    \
  X(spw_f32_spmm_ukernel_32x1__avx2) X(spw_f32_spmm_ukernel_48x1__avx2) X(spw_f32_spmm_ukernel_64x1_plain__avx2) \
  X(spw_f32_spmm_ukernel_80x1__avx2) X(spw_f32_spmm_ukernel_96x1__avx2)                                        \
  X(spw_f32_spmm_ukernel_32x2__avx2) X(spw_f32_spmm_ukernel_40x2__avx2) X(spw_f32_spmm_ukernel_48x2__avx2)      \
  X(spw_f32_spmm_ukernel_16x4__avx2)
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
  {"mbv2", 960, 160, 49},       {"mbv2", 160, 960, 49},       {"resnet50", 512, 2048, 49},
};
static const double k_sparsities[] = {0.7, 0.9, 0.95};
static const double k_crossover_sparsities[] = {0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9};

static double unit(void) { return (double)(splitmix64() >> 11) / 9007199254740992.0; }

typedef struct layer {
  size_t cout, cin, hw, nnz;
  float *input, *dense_weights, *bias, *output, *values;
  uint32_t *row_pointers, *offsets;
  size_t runs;  // > 1: row_pointers holds runs x (cout + 1), the nonzeros run-major (-k)
} layer;

// -k: input channels per run; 0 keeps every row's nonzeros together.
static size_t g_run_channels = 0;

// One call of the job: fn != NULL: spmm; else sgemm.
typedef struct job {
  const layer* l;
  spw_f32_spmm_ukernel_fn fn;
} job;

static void run(const job* j) {
  const layer* l = j->l;
  if (j->fn != NULL) {
    // Only the first run takes the bias and only the last clamps; each later run adds to the output in place.
    for (size_t k = 0; k < l->runs; k++) {
      const bool last = k + 1 == l->runs;
      const spw_f32_spmm_params p = {.rows = l->cout, .pixels = l->hw, .output_stride = l->hw,
                                     .output_min = last ? 0.0f : -INFINITY, .output_max = INFINITY,
                                     .residual = k > 0 ? l->output : NULL, .residual_stride = l->hw};
      j->fn(&p, l->input, l->row_pointers + k * (l->cout + 1), l->offsets, l->values, k == 0 ? l->bias : NULL,
            l->output);
    }
  } else {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)l->cout, (int)l->hw, (int)l->cin, 1.0f,
                l->dense_weights, (int)l->cin, l->input, (int)l->hw, 0.0f, l->output, (int)l->hw);
  }
}

static int g_samples = 15;

// Median nanoseconds per call of each job. The jobs take turns, one sample each per round, so that a change in
// the machine's load hits all of them alike; each sample times enough warm calls to last >= 0.5 ms.
static void time_jobs(const job* jobs, size_t count, double* medians, double* minima) {
  int calls[32];
  static double samples[32][64];
  for (size_t i = 0; i < count; i++) {
    run(&jobs[i]);
    const double start = now_ns();
    run(&jobs[i]);
    const double once = now_ns() - start;
    calls[i] = once >= 5e5 ? 1 : (int)(5e5 / (once + 1.0)) + 1;
  }
  for (int s = 0; s < g_samples; s++) {
    for (size_t i = 0; i < count; i++) {
      run(&jobs[i]);  // untimed: brings the job's data back into the caches the previous job used
      const double start = now_ns();
      for (int c = 0; c < calls[i]; c++) run(&jobs[i]);
      samples[i][s] = (now_ns() - start) / calls[i];
    }
  }
  for (size_t i = 0; i < count; i++) {
    qsort(samples[i], (size_t)g_samples, sizeof(double), compare_double);
    medians[i] = samples[i][g_samples / 2];
    minima[i] = samples[i][0];
  }
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
  const size_t width = g_run_channels > 0 && g_run_channels < s->cin ? g_run_channels : s->cin;
  l->runs = (s->cin + width - 1) / width;
  l->row_pointers = malloc(sizeof(uint32_t) * l->runs * (s->cout + 1));
  for (size_t i = 0; i < s->cin * s->hw; i++) l->input[i] = uniform();
  for (size_t r = 0; r < s->cout; r++) {
    l->bias[r] = uniform();
    for (size_t c = 0; c < s->cin; c++) {
      if (unit() < sparsity) continue;
      l->dense_weights[r * s->cin + c] = uniform();
    }
  }
  // CSR of each run of `width` input channels in turn (one run without -k).
  size_t nnz = 0;
  for (size_t k = 0; k < l->runs; k++) {
    uint32_t* pointers = l->row_pointers + k * (s->cout + 1);
    for (size_t r = 0; r < s->cout; r++) {
      pointers[r] = (uint32_t)nnz;
      for (size_t c = k * width; c < (k + 1) * width && c < s->cin; c++) {
        const float w = l->dense_weights[r * s->cin + c];
        if (w == 0.0f) continue;
        l->values[nnz] = w;
        l->offsets[nnz] = (uint32_t)(c * s->hw);
        nnz++;
      }
    }
    pointers[s->cout] = (uint32_t)nnz;
  }
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
  const char* only_variants = NULL;
  bool crossover = false, reverse = false;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "-q") == 0) g_samples = 7;
    if (strcmp(argv[i], "-cpu") == 0) g_clock = CLOCK_THREAD_CPUTIME_ID;
    if (strcmp(argv[i], "-x") == 0) crossover = true;
    if (strcmp(argv[i], "-r") == 0) reverse = true;
    if (strcmp(argv[i], "-s") == 0 && i + 1 < argc) only_shape = atoi(argv[++i]);
    if (strcmp(argv[i], "-v") == 0 && i + 1 < argc) only_variants = argv[++i];
    if (strcmp(argv[i], "-k") == 0 && i + 1 < argc) g_run_channels = (size_t)atoi(argv[++i]);
  }
  openblas_set_num_threads(1);

  variant variants[32];
  size_t variant_count = 0;
  spw_f32_spmm_ukernel_fn reference = NULL;
  const spw_kernel_info* registry = k_registry;
  const char* selected_name = "none";
  for (size_t i = 0; i < sizeof(k_registry) / sizeof(k_registry[0]); i++) {
    if (registry[i].op != SPW_OP_F32_SPMM) continue;
    if (registry[i].fn.f32_spmm == NULL) {
      printf("# %s: not linked in\n", registry[i].name);
      continue;
    }
    if (reference == NULL) reference = registry[i].fn.f32_spmm;
    if ((spw_cpu_features() & registry[i].required_features) != registry[i].required_features) {
      printf("# %s: not supported by this CPU\n", registry[i].name);
      continue;
    }
    variants[variant_count++] = (variant){registry[i].name, registry[i].fn.f32_spmm};
    selected_name = registry[i].name;  // the last supported entry, as the selection table picks
  }
#ifdef SPW_SPMM_EXPERIMENTS
#define SPMM_ADD(name) variants[variant_count++] = (variant){#name " (exp)", name};
  if ((spw_cpu_features() & (SPW_CPU_AVX2 | SPW_CPU_FMA)) == (SPW_CPU_AVX2 | SPW_CPU_FMA)) {
    SPMM_EXPERIMENTS(SPMM_ADD)
  }
#endif

  char features[256], model[128] = "unknown";
  spw_cpu_features_describe(features, sizeof(features));
  FILE* cpuinfo = fopen("/proc/cpuinfo", "r");
  if (cpuinfo != NULL) {
    char line[256];
    while (fgets(line, sizeof(line), cpuinfo) != NULL) {
      if (strncmp(line, "model name", 10) == 0 && strchr(line, ':') != NULL) {
        snprintf(model, sizeof(model), "%s", strchr(line, ':') + 2);
        model[strcspn(model, "\n")] = 0;
        break;
      }
    }
    fclose(cpuinfo);
  }
  printf("# CPU: %s (%s); the table's variant: %s; 1 thread; %d samples; %s clock\n", model, features,
         selected_name, g_samples, g_clock == CLOCK_MONOTONIC ? "wall" : "thread CPU");
  printf("%-9s %-15s %5s %-42s %10s %10s %8s %8s %10s %10s %7s\n", "net", "CoutxCinxHW", "sp", "variant", "ns",
         "min ns", "effGF/s", "actGF/s", "sgemm ns", "sgemm min", "speedup");
  const size_t shape_count = sizeof(k_shapes) / sizeof(k_shapes[0]);
  const double* sparsities = crossover ? k_crossover_sparsities : k_sparsities;
  const size_t sparsity_count = crossover ? sizeof(k_crossover_sparsities) / sizeof(double)
                                          : sizeof(k_sparsities) / sizeof(double);
  for (size_t si = 0; si < shape_count; si++) {
    if (only_shape >= 0 && (size_t)only_shape != si) continue;
    const shape* s = &k_shapes[si];
    char dims[32];
    snprintf(dims, sizeof(dims), "%zux%zux%zu", s->cout, s->cin, s->hw);
    const double dense_flops = 2.0 * (double)(s->cout * s->cin * s->hw);
    // Crossover: the sparsity at which the last selected variant's fastest sample meets sgemm's, interpolated
    // linearly between the measured sparsities around it (the sparse time is close to linear in the nonzeros).
    double previous_ratio = 0, previous_sparsity = 0, crossover_at = -1;
    for (size_t k = 0; k < sparsity_count; k++) {
      layer l;
      make_layer(&l, s, sparsities[k]);
      const double actual_flops = 2.0 * (double)l.nnz * (double)s->hw;
      float* expected = malloc(sizeof(float) * s->cout * s->hw);
      run(&(job){&l, reference});
      memcpy(expected, l.output, sizeof(float) * s->cout * s->hw);
      job jobs[32] = {{&l, NULL}};
      size_t names[32];
      size_t job_count = 1;
      for (size_t v = 0; v < variant_count && job_count < 32; v++) {
        if (!selected(variants[v].name, only_variants)) continue;
        if (variants[v].fn == reference && s->cout * s->cin * s->hw > 30000000 && variant_count > 1) continue;
        names[job_count] = v;
        jobs[job_count++] = (job){&l, variants[v].fn};
      }
      if (reverse) {
        for (size_t i = 1, j = job_count - 1; i < j; i++, j--) {
          const job t = jobs[i];
          jobs[i] = jobs[j];
          jobs[j] = t;
          const size_t n = names[i];
          names[i] = names[j];
          names[j] = n;
        }
      }
      double ns[32], fastest[32];
      time_jobs(jobs, job_count, ns, fastest);
      const double sgemm_ns = ns[0];
      for (size_t i = 1; i < job_count; i++) {
        const double error = check(&l, jobs[i].fn, expected);
        printf("%-9s %-15s %4.0f%% %-42s %10.0f %10.0f %8.2f %8.2f %10.0f %10.0f %6.2fx%s\n", s->net, dims,
               100 * sparsities[k], variants[names[i]].name, ns[i], fastest[i], dense_flops / ns[i],
               actual_flops / ns[i], sgemm_ns, fastest[0], sgemm_ns / ns[i], error > 1e-4 ? "  MISMATCH" : "");
      }
      fflush(stdout);
      const double ratio = job_count > 1 ? fastest[0] / fastest[job_count - 1] : 0;
      if (crossover_at < 0 && ratio >= 1) {
        crossover_at = k == 0 ? 0 : previous_sparsity + (sparsities[k] - previous_sparsity) * (1 - previous_ratio) /
                                                            (ratio - previous_ratio);
      }
      previous_ratio = ratio;
      previous_sparsity = sparsities[k];
      free(expected);
      free_layer(&l);
    }
    if (crossover && crossover_at > 0) {
      printf("%-9s %-15s crossover (sparse = sgemm) at %.0f%% sparsity\n", s->net, dims, 100 * crossover_at);
    } else if (crossover) {
      printf("%-9s %-15s crossover: %s\n", s->net, dims,
             crossover_at == 0 ? "below the lowest sparsity measured" : "above the highest sparsity measured");
    }
  }
  return 0;
}
