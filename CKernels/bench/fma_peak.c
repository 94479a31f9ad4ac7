// Single-thread AVX2 FMA peak of this CPU: 12 independent ymm FMA chains (enough to cover 2 pipes x 4-5 cycles).
// Build and run: clang -O2 CKernels/bench/fma_peak.c -o /tmp/fma_peak && /tmp/fma_peak
#include <immintrin.h>
#include <stdio.h>
#include <time.h>
__attribute__((target("avx2,fma"))) static float run(long iters) {
  __m256 a[12]; __m256 m = _mm256_set1_ps(0.9999f), c = _mm256_set1_ps(0.0001f);
  for (int i = 0; i < 12; i++) a[i] = _mm256_set1_ps((float)i);
  for (long n = 0; n < iters; n++)
    for (int i = 0; i < 12; i++) a[i] = _mm256_fmadd_ps(a[i], m, c);
  __m256 s = a[0]; for (int i = 1; i < 12; i++) s = _mm256_add_ps(s, a[i]);
  float out[8]; _mm256_storeu_ps(out, s); return out[0];
}
int main() {
  double best = 0;
  for (int r = 0; r < 7; r++) {
    long iters = 20000000; struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0); volatile float x = run(iters); clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (t1.tv_sec - t0.tv_sec) + 1e-9 * (t1.tv_nsec - t0.tv_nsec);
    double gf = iters * 12.0 * 8 * 2 / s / 1e9; if (gf > best) best = gf; (void)x;
  }
  printf("best FMA throughput: %.1f GFLOP/s (1 thread, 12 independent ymm FMA chains)\n", best);
}
