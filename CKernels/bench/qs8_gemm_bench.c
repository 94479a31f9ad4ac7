// Stand-alone benchmark of the qs8_gemm variants against OpenBLAS sgemm on 1x1-convolution layer shapes of ResNet-50
// and MobileNetV2 (Cout x Cin x HW = rows x depth x columns), and ResNet-50's classifier (1000x2048x1, a product
// with one column). Not part of the SwiftPM target (Package.swift
// excludes bench/). Build and run from the package root:
//
//   clang -O2 -I CKernels/include -I CKernels/src $(pkg-config --cflags openblas) -o /tmp/qs8_gemm_bench
//       CKernels/bench/qs8_gemm_bench.c CKernels/src/qs8-gemm/*.c CKernels/src/cpu/cpu.c
//       $(pkg-config --libs openblas) -lpthread -lm            (one command line)
//   /tmp/qs8_gemm_bench              # every registered qs8_gemm variant the CPU supports, 1 thread
//   /tmp/qs8_gemm_bench -q           # quick: fewer samples
//   /tmp/qs8_gemm_bench -s 3 -cpu    # shape 3 only, timed with the thread's CPU clock
//   /tmp/qs8_gemm_bench -v avx2      # variants whose name contains one of the comma-separated words
//   /tmp/qs8_gemm_bench -f32         # the dequantized float output instead of the requantized uint8 one
//
// The variants come from the registry list (src/config/kernels.inc), every kernel declared weak: only the qs8-gemm
// sources need to be linked. Weights and inputs are uniform random bytes, the input zero point 128, the output
// clamp [zero point, 255] (a fused ReLU). sgemm computes the same product in float (weights [Cout][Cin] x input
// [Cin][HW], what the f32 runtime runs for a 1x1 convolution). Every variant's output is checked bit for bit
// against the scalar reference's before timing. Jobs take turns, one sample each per round; each sample times
// enough warm calls to last >= 0.5 ms; the table gives the median and the fastest sample per call, and GOP/s
// counts a multiply-add as 2 operations (2 * Cout * Cin * HW per call) from the median.
//
// AMD EPYC (Zen 3, AVX2+FMA, no AVX-512/VNNI), 2 shared cores (load average 1.1-1.7), 2026-11-25, `-cpu`, 5 runs
// of 15 samples, median of the runs' medians (ns per call; in brackets the fastest sample of all runs):
//
//   layer                 qs8 8x8 ns (fastest)    GOP/s   sgemm ns (fastest)     GFLOP/s   speedup
//   resnet50 256x64x3136     1428319 (1047264)     71.9     1557010 (1445901)      66.0    1.09x
//   resnet50 64x256x3136      980289  (891823)    104.8     1448176 (1387943)      71.0    1.48x
//   resnet50 512x128x784      973145  (849895)    105.6     1392411 (1271234)      73.8    1.43x
//   resnet50 1024x256x196    1018299  (822292)    100.9     1457473 (1226440)      70.5    1.43x
//   resnet50 256x1024x196     954259  (773039)    107.7     1381161 (1206272)      74.4    1.45x
//   resnet50 2048x512x49      923502  (857759)    111.3     1662489 (1495976)      61.8    1.80x
//   mbv2     144x24x3136      383354  (338009)     56.5      445726  (421641)      48.6    1.16x
//   mbv2     24x144x3136      230662  (218250)     94.0      366297  (323256)      59.2    1.59x
//   mbv2     192x32x784       135730  (124391)     71.0      179670  (168045)      53.6    1.32x
//   mbv2     960x160x49       145546  (138516)    103.4      229500  (215848)      65.6    1.58x
//   mbv2     160x960x49       134578  (124293)    111.9      225109  (208949)      66.9    1.67x
//   resnet50 1000x2048x1      414297  (273668)      9.9      963768  (822102)       4.2    2.33x
//
// The float output (-f32, 3 runs) is slower than sgemm where the output is large (256x64x3136: 0.75x, 3.2 MB of
// floats written; 144x24x3136: 0.87x) and 1.04-1.8x as fast elsewhere. The machine's other core runs other builds,
// so single runs vary by up to 1.5x.
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

typedef struct variant {
  const char* name;
  spw_qs8_gemm_ukernel_fn fn;
} variant;

typedef struct shape {
  const char* net;
  size_t cout, cin, hw;
} shape;

static const shape k_shapes[] = {
  {"resnet50", 256, 64, 3136},  {"resnet50", 64, 256, 3136},  {"resnet50", 512, 128, 784},
  {"resnet50", 1024, 256, 196}, {"resnet50", 256, 1024, 196}, {"resnet50", 2048, 512, 49},
  {"mbv2", 144, 24, 3136},      {"mbv2", 24, 144, 3136},      {"mbv2", 192, 32, 784},
  {"mbv2", 960, 160, 49},       {"mbv2", 160, 960, 49},       {"resnet50", 1000, 2048, 1},
};

typedef struct layer {
  spw_qs8_gemm_params params;
  uint8_t* input;
  void* packed;
  int32_t* int_bias;
  float* float_bias;
  float* scales;
  void* output;
  float *input_f32, *weights_f32, *output_f32;
} layer;

// One call of the job: fn != NULL: qs8_gemm; else sgemm.
typedef struct job {
  const layer* l;
  spw_qs8_gemm_ukernel_fn fn;
} job;

static void run(const job* j) {
  const layer* l = j->l;
  const spw_qs8_gemm_params* p = &l->params;
  if (j->fn != NULL) {
    const void* bias = p->output_type == SPW_QS8_GEMM_OUTPUT_F32 ? (const void*)l->float_bias : l->int_bias;
    j->fn(p, l->input, l->packed, bias, l->scales, l->output);
  } else {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)p->rows, (int)p->columns, (int)p->depth, 1.0f,
                l->weights_f32, (int)p->depth, l->input_f32, (int)p->columns, 0.0f, l->output_f32,
                (int)p->columns);
  }
}

static int g_samples = 15;

static void time_jobs(const job* jobs, size_t count, double* medians, double* minima) {
  int calls[16];
  static double samples[16][64];
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

static size_t output_bytes(const layer* l) {
  const size_t elements = l->params.rows * l->params.columns;
  return l->params.output_type == SPW_QS8_GEMM_OUTPUT_QU8 ? elements : 4 * elements;
}

static void make_layer(layer* l, const shape* s, spw_qs8_gemm_output type) {
  memset(l, 0, sizeof(*l));
  l->params = (spw_qs8_gemm_params){
    .rows = s->cout, .columns = s->hw, .depth = s->cin, .input_stride = s->hw, .output_stride = s->hw,
    .output_type = type, .input_zero_point = 128, .output_zero_point = 3, .output_min = 3, .output_max = 255,
    .float_min = 0.0f, .float_max = 1.0f / 0.0f};
  int8_t* weights = malloc(s->cout * s->cin);
  l->input = malloc(s->cin * s->hw);
  l->packed = malloc(spw_qs8_gemm_packed_size(s->cout, s->cin));
  l->int_bias = malloc(sizeof(int32_t) * s->cout);
  l->float_bias = malloc(sizeof(float) * s->cout);
  l->scales = malloc(sizeof(float) * s->cout);
  l->output = malloc(4 * s->cout * s->hw);
  l->input_f32 = malloc(sizeof(float) * s->cin * s->hw);
  l->weights_f32 = malloc(sizeof(float) * s->cout * s->cin);
  l->output_f32 = malloc(sizeof(float) * s->cout * s->hw);
  for (size_t i = 0; i < s->cout * s->cin; i++) {
    weights[i] = (int8_t)(splitmix64() >> 56);
    l->weights_f32[i] = (float)weights[i] / 128.0f;
  }
  for (size_t i = 0; i < s->cin * s->hw; i++) {
    l->input[i] = (uint8_t)(splitmix64() >> 56);
    l->input_f32[i] = (float)l->input[i] / 256.0f;
  }
  for (size_t r = 0; r < s->cout; r++) {
    l->int_bias[r] = (int32_t)(splitmix64() >> 48) - 32768;
    l->float_bias[r] = (float)l->int_bias[r] / 65536.0f;
    // Spreads the sums (standard deviation about 5500 * sqrt(Cin)) over about 100 output levels.
    l->scales[r] = 100.0f / (5500.0f * sqrtf((float)s->cin)) * (0.5f + (float)(splitmix64() >> 54) / 1024.0f);
  }
  spw_qs8_gemm_pack(s->cout, s->cin, weights, l->packed);
  free(weights);
}

static void free_layer(layer* l) {
  free(l->input);
  free(l->packed);
  free(l->int_bias);
  free(l->float_bias);
  free(l->scales);
  free(l->output);
  free(l->input_f32);
  free(l->weights_f32);
  free(l->output_f32);
}

int main(int argc, char** argv) {
  int only_shape = -1;
  const char* only_variants = NULL;
  spw_qs8_gemm_output type = SPW_QS8_GEMM_OUTPUT_QU8;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "-q") == 0) g_samples = 7;
    if (strcmp(argv[i], "-cpu") == 0) g_clock = CLOCK_THREAD_CPUTIME_ID;
    if (strcmp(argv[i], "-f32") == 0) type = SPW_QS8_GEMM_OUTPUT_F32;
    if (strcmp(argv[i], "-s") == 0 && i + 1 < argc) only_shape = atoi(argv[++i]);
    if (strcmp(argv[i], "-v") == 0 && i + 1 < argc) only_variants = argv[++i];
  }
  openblas_set_num_threads(1);

  variant variants[16];
  size_t variant_count = 0;
  spw_qs8_gemm_ukernel_fn reference = NULL;
  const char* selected_name = "none";
  for (size_t i = 0; i < sizeof(k_registry) / sizeof(k_registry[0]); i++) {
    const spw_kernel_info* entry = &k_registry[i];
    if (entry->op != SPW_OP_QS8_GEMM) continue;
    if (entry->fn.qs8_gemm == NULL) {
      printf("# %s: not linked in\n", entry->name);
      continue;
    }
    if (reference == NULL) reference = entry->fn.qs8_gemm;
    if ((spw_cpu_features() & entry->required_features) != entry->required_features) {
      printf("# %s: not supported by this CPU\n", entry->name);
      continue;
    }
    if (entry->fn.qs8_gemm != reference) variants[variant_count++] = (variant){entry->name, entry->fn.qs8_gemm};
    selected_name = entry->name;
  }

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
  printf("# CPU: %s (%s); the table's variant: %s; %s output; 1 thread; %d samples; %s clock\n", model, features,
         selected_name, type == SPW_QS8_GEMM_OUTPUT_QU8 ? "uint8" : "float", g_samples,
         g_clock == CLOCK_MONOTONIC ? "wall" : "thread CPU");
  printf("%-9s %-15s %-38s %10s %10s %8s %10s %10s %8s %7s\n", "net", "CoutxCinxHW", "variant", "ns", "min ns",
         "GOP/s", "sgemm ns", "sgemm min", "sGFLOP/s", "speedup");
  for (size_t si = 0; si < sizeof(k_shapes) / sizeof(k_shapes[0]); si++) {
    if (only_shape >= 0 && (size_t)only_shape != si) continue;
    const shape* s = &k_shapes[si];
    char dims[32];
    snprintf(dims, sizeof(dims), "%zux%zux%zu", s->cout, s->cin, s->hw);
    const double ops = 2.0 * (double)(s->cout * s->cin * s->hw);
    layer l;
    make_layer(&l, s, type);
    const size_t bytes = output_bytes(&l);
    uint8_t* expected = malloc(bytes);
    run(&(job){&l, reference});
    memcpy(expected, l.output, bytes);
    job jobs[16] = {{&l, NULL}};
    size_t names[16];
    bool mismatch[16] = {false};
    size_t job_count = 1;
    for (size_t v = 0; v < variant_count && job_count < 16; v++) {
      if (!selected(variants[v].name, only_variants)) continue;
      memset(l.output, 0x5A, bytes);
      run(&(job){&l, variants[v].fn});
      mismatch[job_count] = memcmp(l.output, expected, bytes) != 0;
      names[job_count] = v;
      jobs[job_count++] = (job){&l, variants[v].fn};
    }
    double ns[16], fastest[16];
    time_jobs(jobs, job_count, ns, fastest);
    for (size_t i = 1; i < job_count; i++) {
      printf("%-9s %-15s %-38s %10.0f %10.0f %8.2f %10.0f %10.0f %8.2f %6.2fx%s\n", s->net, dims,
             variants[names[i]].name, ns[i], fastest[i], ops / ns[i], ns[0], fastest[0], ops / ns[0], ns[0] / ns[i],
             mismatch[i] ? "  MISMATCH" : "");
    }
    free(expected);
    free_layer(&l);
  }
  return 0;
}
