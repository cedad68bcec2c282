// The machine's fp32 FMA peak, measured: every thread runs independent chains of vector fused
// multiply-adds that stay in registers (no memory traffic), wide enough to cover the FMA latency on every
// port. The sgemm figure is OpenBLAS's, whose kernels on some CPUs are narrower than the hardware.
#ifndef SFD_FMA_PEAK_H
#define SFD_FMA_PEAK_H
#include <time.h>
#ifdef __x86_64__
#include <immintrin.h>
#endif
#ifdef _OPENMP
#include <omp.h>
#endif

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

#define FMA_CHAINS 16

// FLOPs done by one thread for `iters` rounds (2 per lane per FMA); *sink keeps the result alive.
static double fma_chains(long iters, float *sink) {
#if defined(__AVX512F__)
  __m512 acc[FMA_CHAINS];
  const __m512 m = _mm512_set1_ps(0.9999999f), a = _mm512_set1_ps(1e-7f);
  for (int k = 0; k < FMA_CHAINS; k++) acc[k] = _mm512_set1_ps((float)k);
  for (long i = 0; i < iters; i++)
    for (int k = 0; k < FMA_CHAINS; k++) acc[k] = _mm512_fmadd_ps(acc[k], m, a);
  __m512 s = acc[0];
  for (int k = 1; k < FMA_CHAINS; k++) s = _mm512_add_ps(s, acc[k]);
  *sink += _mm512_reduce_add_ps(s);
  return 2.0 * 16 * FMA_CHAINS * (double)iters;
#elif defined(__FMA__) && defined(__AVX__)
  __m256 acc[FMA_CHAINS];
  const __m256 m = _mm256_set1_ps(0.9999999f), a = _mm256_set1_ps(1e-7f);
  for (int k = 0; k < FMA_CHAINS; k++) acc[k] = _mm256_set1_ps((float)k);
  for (long i = 0; i < iters; i++)
    for (int k = 0; k < FMA_CHAINS; k++) acc[k] = _mm256_fmadd_ps(acc[k], m, a);
  float out[8];
  __m256 s = acc[0];
  for (int k = 1; k < FMA_CHAINS; k++) s = _mm256_add_ps(s, acc[k]);
  _mm256_storeu_ps(out, s);
  for (int j = 0; j < 8; j++) *sink += out[j];
  return 2.0 * 8 * FMA_CHAINS * (double)iters;
#else
  float acc[FMA_CHAINS];
  for (int k = 0; k < FMA_CHAINS; k++) acc[k] = (float)k;
  for (long i = 0; i < iters; i++)
    for (int k = 0; k < FMA_CHAINS; k++) acc[k] = fmaf(acc[k], 0.9999999f, 1e-7f);
  for (int k = 0; k < FMA_CHAINS; k++) *sink += acc[k];
  return 2.0 * FMA_CHAINS * (double)iters;
#endif
}

// GFLOP/s of all threads together (OpenMP's count), best of `reps` runs of `iters` rounds each.
static double fma_peak_gflops(long iters, int reps, int *threads_out) {
  double best = 0;
  int threads = 1;
  for (int r = 0; r < reps; r++) {
    double flops = 0;
    float sink = 0;
    double t0 = now_seconds();
#pragma omp parallel reduction(+ : flops, sink)
    {
      flops += fma_chains(iters, &sink);
#ifdef _OPENMP
#pragma omp master
      threads = omp_get_num_threads();
#endif
    }
    double dt = now_seconds() - t0;
    if (sink == 12345.678f) flops += 1;  // never true in practice; keeps the chains from being optimised out
    if (flops / dt > best) best = flops / dt;
  }
  *threads_out = threads;
  return best / 1e9;
}
#endif
