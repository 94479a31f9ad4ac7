// Stand-alone benchmark of the uint8 element-wise, pooling and depthwise kernels (every registered variant of
// qu8_dwconv, qu8_maxpool, qu8_gavgpool, qu8_add, f32_qu8_cvt, qu8_f32_cvt) on MobileNetV2 / ResNet-50 shapes, next
// to the f32 kernel of the same op where one exists. Not part of the SwiftPM target (Package.swift excludes bench/).
// Build and run from the package root:
//
//   clang -O2 -I CKernels/include -I CKernels/src -o /tmp/qu8_bench CKernels/bench/qu8_bench.c
//       CKernels/src/qu8-*/*.c CKernels/src/f32-dwconv/*.c CKernels/src/f32-pool/*.c CKernels/src/cpu/cpu.c
//       -lpthread -lm                                             (one command line)
//   /tmp/qu8_bench          # 1 thread, wall clock
//   /tmp/qu8_bench -cpu     # timed with the thread's CPU clock (use on a busy machine)
//   /tmp/qu8_bench -q       # quick: fewer samples
//
// Every variant's output is checked byte for byte against the scalar reference's before timing. Each sample times
// enough calls to last >= 0.5 ms; the jobs of a layer take turns, one sample each per round; the table gives the
// median per call. The f32 column runs the f32 kernel the selection table would take (AVX2 on this machine) on the
// same shape, as the float runtime would.
//
// AMD EPYC (Zen 3, AVX2+FMA), 2 shared cores (load average 1.4-1.7), 2026-11-25, `-cpu`, 5 runs of 15 samples,
// median of the runs' medians, ns per call:
//
//   layer                         scalar     avx2   f32 avx2   avx2 vs scalar   f32 time / qu8 time
//   dwconv 32x112x112 3x3/1      7954548   444113     202856       17.9x            0.46x
//   dwconv 96x112x112 3x3/2      8824580   535193     484468       16.5x            0.91x
//   dwconv 144x56x56 3x3/1      13648138   907431     345298       15.0x            0.38x
//   dwconv 144x56x56 3x3/2       3712834   337794     149057       11.0x            0.44x
//   dwconv 192x28x28 3x3/1       4865896   480722     152692       10.1x            0.32x
//   dwconv 192x28x28 3x3/2       1262578   208277      54866        6.1x            0.26x
//   dwconv 384x14x14 3x3/1       2439235   405044      55792        6.0x            0.14x
//   dwconv 576x14x14 3x3/2        932600   279048      38794        3.3x            0.14x
//   dwconv 960x7x7 3x3/1         1531041   489568      39658        3.1x            0.08x
//   maxpool 64x112x112 3x3/2     5543266   258424     315812       21.5x            1.22x
//   gavgpool 2048x7x7              30620    26315      17211        1.2x            0.65x
//   gavgpool 1280x7x7              18789    16316      10529        1.2x            0.65x
//   add 256x56x56                3586516   267597          -       13.4x
//   quantize 256x56x56           3616243   160755          -       22.5x
//   dequantize 256x56x56          175259    91127          -        1.9x
//
// The uint8 depthwise convolution is the weak spot: below the f32 kernel everywhere, far below on small images,
// where the f32 kernel puts 8 channels in the lanes of a vector and this one pays per row and per channel (building
// rows, requantizing 8 or 16 outputs for a row of 7). Single runs vary by up to 1.5x on this machine.
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SPW_BENCH_REGISTRY
#include "bench_common.h"

static int g_samples = 15;

// One layer's buffers (big enough for every op below) and the call of a job.
typedef struct layer {
  size_t channels, height, width, out_height, out_width, kernel, stride, count;
  uint8_t *q_in, *q_in2, *q_out;
  int8_t* q_weights;
  int32_t* q_bias;
  float *scales, *f_in, *f_weights, *f_bias, *f_out;
} layer;

typedef enum job_kind { DWCONV, MAXPOOL, GAVGPOOL, ADD, QUANTIZE, DEQUANTIZE } job_kind;

typedef struct job {
  const layer* l;
  job_kind kind;
  const spw_kernel_info* entry;  // NULL: the f32 kernel of the op
} job;

// The registry entry the selection table would take for `op`: the last linked one the CPU supports.
static const spw_kernel_info* best(spw_kernel_op op) {
  const spw_kernel_info* chosen = NULL;
  for (size_t i = 0; i < sizeof(k_registry) / sizeof(k_registry[0]); i++) {
    const spw_kernel_info* e = &k_registry[i];
    if (e->op != op || e->fn.crc32c == NULL) continue;
    if ((spw_cpu_features() & e->required_features) == e->required_features) chosen = e;
  }
  return chosen;
}

static void run(const job* j) {
  const layer* l = j->l;
  switch (j->kind) {
    case DWCONV: {
      const spw_qu8_dwconv_params p = {
        .channels = l->channels, .input_height = l->height, .input_width = l->width,
        .output_height = l->out_height, .output_width = l->out_width, .kernel_height = l->kernel,
        .kernel_width = l->kernel, .stride_h = l->stride, .stride_w = l->stride, .dilation_h = 1, .dilation_w = 1,
        .pad_top = l->kernel / 2, .pad_left = l->kernel / 2, .input_zero_point = 128, .output_zero_point = 0,
        .output_min = 0, .output_max = 255, .c_begin = 0, .c_end = l->channels};
      if (j->entry != NULL) {
        j->entry->fn.qu8_dwconv(&p, l->q_in, l->q_weights, l->q_bias, l->scales, l->q_out);
      } else {
        const spw_f32_dwconv_params fp = {
          .channels = l->channels, .input_height = l->height, .input_width = l->width,
          .output_height = l->out_height, .output_width = l->out_width, .kernel_height = l->kernel,
          .kernel_width = l->kernel, .stride_h = l->stride, .stride_w = l->stride, .dilation_h = 1, .dilation_w = 1,
          .pad_top = l->kernel / 2, .pad_left = l->kernel / 2, .output_min = 0, .output_max = 6, .c_begin = 0,
          .c_end = l->channels};
        best(SPW_OP_F32_DWCONV)->fn.f32_dwconv(&fp, l->f_in, l->f_weights, l->f_bias, l->f_out);
      }
      break;
    }
    case MAXPOOL: {
      const spw_qu8_maxpool_params p = {
        .channels = l->channels, .input_height = l->height, .input_width = l->width,
        .output_height = l->out_height, .output_width = l->out_width, .kernel_height = l->kernel,
        .kernel_width = l->kernel, .stride_h = l->stride, .stride_w = l->stride, .dilation_h = 1, .dilation_w = 1,
        .pad_top = l->kernel / 2, .pad_left = l->kernel / 2, .c_begin = 0, .c_end = l->channels};
      if (j->entry != NULL) {
        j->entry->fn.qu8_maxpool(&p, l->q_in, l->q_out);
      } else {
        const spw_f32_pool_params fp = {
          .channels = l->channels, .input_height = l->height, .input_width = l->width,
          .output_height = l->out_height, .output_width = l->out_width, .kernel_height = l->kernel,
          .kernel_width = l->kernel, .stride_h = l->stride, .stride_w = l->stride, .dilation_h = 1, .dilation_w = 1,
          .pad_top = l->kernel / 2, .pad_left = l->kernel / 2, .pad_bottom = l->kernel / 2,
          .pad_right = l->kernel / 2, .c_begin = 0, .c_end = l->channels};
        best(SPW_OP_F32_MAXPOOL)->fn.f32_pool(&fp, l->f_in, l->f_out);
      }
      break;
    }
    case GAVGPOOL: {
      const size_t n = l->height * l->width;
      const spw_qu8_gavgpool_params p = {
        .channels = l->channels, .spatial_size = n, .c_begin = 0, .c_end = l->channels,
        .multiplier = 1.0f / (float)n, .input_zero_point = 3, .output_zero_point = 3, .output_min = 0,
        .output_max = 255};
      if (j->entry != NULL) {
        j->entry->fn.qu8_gavgpool(&p, l->q_in, l->q_out);
      } else {
        const spw_f32_gavgpool_params fp = {.channels = l->channels, .spatial_size = n, .c_begin = 0,
                                            .c_end = l->channels};
        best(SPW_OP_F32_GAVGPOOL)->fn.f32_gavgpool(&fp, l->f_in, l->f_out);
      }
      break;
    }
    case ADD: {
      const spw_qu8_add_params p = {
        .count = l->count, .a_multiplier = 0.83f, .b_multiplier = 1.21f, .a_zero_point = 120, .b_zero_point = 131,
        .output_zero_point = 0, .output_min = 0, .output_max = 255};
      j->entry->fn.qu8_add(&p, l->q_in, l->q_in2, l->q_out);
      break;
    }
    case QUANTIZE: {
      const spw_qu8_cvt_params p = {.count = l->count, .scale = 0.0173f, .zero_point = 128};
      j->entry->fn.f32_qu8_cvt(&p, l->f_in, l->q_out);
      break;
    }
    case DEQUANTIZE: {
      const spw_qu8_cvt_params p = {.count = l->count, .scale = 0.0173f, .zero_point = 128};
      j->entry->fn.qu8_f32_cvt(&p, l->q_in, l->f_out);
      break;
    }
  }
}

static void time_jobs(const job* jobs, size_t count, double* medians) {
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
      run(&jobs[i]);
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

static size_t window_output(size_t input, size_t kernel, size_t stride) {
  return (input + 2 * (kernel / 2) - kernel) / stride + 1;
}

static layer make_layer(size_t channels, size_t height, size_t width, size_t kernel, size_t stride) {
  layer l = {.channels = channels, .height = height, .width = width, .kernel = kernel, .stride = stride};
  l.out_height = kernel ? window_output(height, kernel, stride) : 1;
  l.out_width = kernel ? window_output(width, kernel, stride) : 1;
  l.count = channels * height * width;
  const size_t n = l.count, taps = channels * (kernel ? kernel * kernel : 1);
  l.q_in = malloc(n);
  l.q_in2 = malloc(n);
  l.q_out = malloc(n);
  l.q_weights = malloc(taps);
  l.q_bias = malloc(sizeof(int32_t) * channels);
  l.scales = malloc(sizeof(float) * channels);
  l.f_in = malloc(sizeof(float) * n);
  l.f_weights = malloc(sizeof(float) * taps);
  l.f_bias = malloc(sizeof(float) * channels);
  l.f_out = malloc(sizeof(float) * n);
  for (size_t i = 0; i < n; i++) {
    l.q_in[i] = (uint8_t)(splitmix64() >> 56);
    l.q_in2[i] = (uint8_t)(splitmix64() >> 56);
    l.f_in[i] = (float)l.q_in[i] / 64.0f - 2.0f;
  }
  for (size_t i = 0; i < taps; i++) {
    l.q_weights[i] = (int8_t)(splitmix64() >> 56);
    l.f_weights[i] = (float)l.q_weights[i] / 128.0f;
  }
  for (size_t c = 0; c < channels; c++) {
    l.q_bias[c] = (int32_t)(splitmix64() >> 50) - 8192;
    l.f_bias[c] = (float)l.q_bias[c] / 16384.0f;
    l.scales[c] = 0.004f + (float)(splitmix64() >> 54) / 1024.0f * 0.004f;
  }
  return l;
}

static void free_layer(layer* l) {
  free(l->q_in);
  free(l->q_in2);
  free(l->q_out);
  free(l->q_weights);
  free(l->q_bias);
  free(l->scales);
  free(l->f_in);
  free(l->f_weights);
  free(l->f_bias);
  free(l->f_out);
}

static size_t output_bytes(const layer* l, job_kind kind) {
  switch (kind) {
    case DWCONV:
    case MAXPOOL: return l->channels * l->out_height * l->out_width;
    case GAVGPOOL: return l->channels;
    case DEQUANTIZE: return 4 * l->count;
    default: return l->count;
  }
}

static void bench(const char* label, job_kind kind, spw_kernel_op op, layer* l, bool with_f32) {
  job jobs[16];
  size_t count = 0;
  for (size_t i = 0; i < sizeof(k_registry) / sizeof(k_registry[0]); i++) {
    const spw_kernel_info* e = &k_registry[i];
    if (e->op != op || e->fn.crc32c == NULL) continue;
    if ((spw_cpu_features() & e->required_features) != e->required_features) continue;
    jobs[count++] = (job){l, kind, e};
  }
  if (with_f32) jobs[count++] = (job){l, kind, NULL};
  // The variants' outputs against the reference's (the first entry), byte for byte.
  const size_t bytes = output_bytes(l, kind);
  uint8_t* expected = malloc(bytes);
  uint8_t* out = kind == DEQUANTIZE ? (uint8_t*)l->f_out : l->q_out;
  run(&jobs[0]);
  memcpy(expected, out, bytes);
  bool mismatch = false;
  for (size_t i = 1; i < count; i++) {
    if (jobs[i].entry == NULL) continue;
    memset(out, 0x5A, bytes);
    run(&jobs[i]);
    mismatch |= memcmp(out, expected, bytes) != 0;
  }
  free(expected);
  double ns[16];
  time_jobs(jobs, count, ns);
  printf("%-32s", label);
  for (size_t i = 0; i < count; i++) {
    printf("  %s %10.0f", jobs[i].entry == NULL ? "f32" : jobs[i].entry->isa == SPW_ISA_SCALAR ? "scalar" : "avx2",
           ns[i]);
  }
  if (count >= 2 && jobs[1].entry != NULL) printf("  (%.1fx)", ns[0] / ns[1]);
  if (with_f32 && count >= 3) printf("  f32/avx2 %.2fx", ns[count - 1] / ns[count - 2]);
  printf("%s\n", mismatch ? "  MISMATCH" : "");
}

int main(int argc, char** argv) {
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "-q") == 0) g_samples = 7;
    if (strcmp(argv[i], "-cpu") == 0) g_clock = CLOCK_THREAD_CPUTIME_ID;
  }
  printf("# ns per call, median; 1 thread; %d samples; %s clock; (scalar / avx2)\n", g_samples,
         g_clock == CLOCK_MONOTONIC ? "wall" : "thread CPU");
  static const size_t dw_layers[][4] = {
    {32, 112, 3, 1}, {96, 112, 3, 2}, {144, 56, 3, 1}, {144, 56, 3, 2}, {192, 28, 3, 1},
    {192, 28, 3, 2}, {384, 14, 3, 1}, {576, 14, 3, 2}, {960, 7, 3, 1},
  };
  for (size_t i = 0; i < sizeof(dw_layers) / sizeof(dw_layers[0]); i++) {
    const size_t* d = dw_layers[i];
    layer l = make_layer(d[0], d[1], d[1], d[2], d[3]);
    char label[64];
    snprintf(label, sizeof(label), "dwconv %zux%zux%zu %zux%zu/%zu", d[0], d[1], d[1], d[2], d[2], d[3]);
    bench(label, DWCONV, SPW_OP_QU8_DWCONV, &l, true);
    free_layer(&l);
  }
  layer pool = make_layer(64, 112, 112, 3, 2);
  bench("maxpool 64x112x112 3x3/2", MAXPOOL, SPW_OP_QU8_MAXPOOL, &pool, true);
  free_layer(&pool);
  layer global = make_layer(2048, 7, 7, 0, 1);
  bench("gavgpool 2048x7x7", GAVGPOOL, SPW_OP_QU8_GAVGPOOL, &global, true);
  free_layer(&global);
  layer global2 = make_layer(1280, 7, 7, 0, 1);
  bench("gavgpool 1280x7x7", GAVGPOOL, SPW_OP_QU8_GAVGPOOL, &global2, true);
  free_layer(&global2);
  layer elementwise = make_layer(256, 56, 56, 0, 1);
  bench("add 256x56x56", ADD, SPW_OP_QU8_ADD, &elementwise, false);
  bench("quantize 256x56x56", QUANTIZE, SPW_OP_F32_QU8_CVT, &elementwise, false);
  bench("dequantize 256x56x56", DEQUANTIZE, SPW_OP_QU8_F32_CVT, &elementwise, false);
  free_layer(&elementwise);
  return 0;
}
