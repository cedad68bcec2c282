// sfd-lab native kernels: float32 GEMM through the system BLAS, and NHWC convolutions as im2col + GEMM
// (forward, gradient w.r.t. the input, gradient w.r.t. the filter). Called synchronously from the
// tfjs backend in lib/runtime/native/; all buffers are Float32Arrays owned by JavaScript.
#ifdef SFD_ACCELERATE
#include <Accelerate/Accelerate.h>
#else
#include <cblas.h>
#endif
#include <node_api.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conv_geom.h"
#include "fast_exp.h"
#include "fma_peak.h"

#define CHECK(env, call)                                              \
  if ((call) != napi_ok) {                                            \
    napi_throw_error((env), NULL, "sfd_native: N-API call failed"); \
    return NULL;                                                      \
  }

static int get_f32(napi_env env, napi_value v, float** data, size_t* len) {
  napi_typedarray_type type;
  void* ptr;
  napi_value ab;
  size_t off;
  if (napi_get_typedarray_info(env, v, &type, len, &ptr, &ab, &off) != napi_ok || type != napi_float32_array) {
    napi_throw_type_error(env, NULL, "sfd_native: expected a Float32Array");
    return 0;
  }
  *data = (float*)ptr;
  return 1;
}

// Element i of a JS array, as a Float32Array (the kernels that take a list of tensors).
static int get_f32_at(napi_env env, napi_value arr, uint32_t i, float** data, size_t* len) {
  napi_value v;
  if (napi_get_element(env, arr, i, &v) != napi_ok) {
    napi_throw_error(env, NULL, "sfd_native: N-API call failed");
    return 0;
  }
  return get_f32(env, v, data, len);
}

// An optional Float32Array: null or undefined leave *data NULL and *len 0.
static int get_opt_f32(napi_env env, napi_value v, float** data, size_t* len) {
  napi_valuetype t;
  *data = NULL;
  *len = 0;
  if (napi_typeof(env, v, &t) != napi_ok) {
    napi_throw_error(env, NULL, "sfd_native: N-API call failed");
    return 0;
  }
  return t == napi_null || t == napi_undefined || get_f32(env, v, data, len);
}

static int get_i32s(napi_env env, napi_value v, int32_t** data, size_t* len) {
  napi_typedarray_type type;
  void* ptr;
  napi_value ab;
  size_t off;
  if (napi_get_typedarray_info(env, v, &type, len, &ptr, &ab, &off) != napi_ok || type != napi_int32_array) {
    napi_throw_type_error(env, NULL, "sfd_native: expected an Int32Array");
    return 0;
  }
  *data = (int32_t*)ptr;
  return 1;
}

static int get_i32(napi_env env, napi_value v, int* out) {
  if (napi_get_value_int32(env, v, out) != napi_ok) {
    napi_throw_type_error(env, NULL, "sfd_native: expected an integer");
    return 0;
  }
  return 1;
}

static int get_f64(napi_env env, napi_value v, double* out) {
  if (napi_get_value_double(env, v, out) != napi_ok) {
    napi_throw_type_error(env, NULL, "sfd_native: expected a number");
    return 0;
  }
  return 1;
}

// One thread pool for everything: OpenBLAS's own pthreads, waking and spinning beside OpenMP's (oneDNN and
// the element-wise kernels), cost a fifth of the SFD iteration (measured: 496 → 414 ms with the BLAS on one
// thread). So the BLAS runs single-threaded (set in init) and gemm() splits a product over OpenMP's threads:
// by blocks of rows or columns of C, or, for a product too narrow for that (a filter gradient: small M and N,
// long K), by blocks of K summed afterwards.
#if defined(_OPENMP) && !defined(SFD_ACCELERATE)
#include <omp.h>
#define ONE_POOL 1
#endif
// Products below this many FLOPs run on the calling thread (a parallel region costs a few µs to open).
#define GEMM_PAR_MIN_FLOPS (1 << 20)

#define SGEMM(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc)                                                    \
  cblas_sgemm(CblasRowMajor, (ta) ? CblasTrans : CblasNoTrans, (tb) ? CblasTrans : CblasNoTrans, M, N, K, alpha, A, \
              lda, B, ldb, beta, C, ldc)

// [lo, hi) of thread t of n over len items, in blocks of whole units.
static void share(int t, int n, int len, int unit, int* lo, int* hi) {
  int per = ((len + n - 1) / n + unit - 1) / unit * unit;
  *lo = t * per < len ? t * per : len;
  *hi = *lo + per < len ? *lo + per : len;
}

static void gemm(int ta, int tb, int M, int N, int K, float alpha, const float* A, int lda, const float* B, int ldb,
                 float beta, float* C, int ldc) {
#ifdef ONE_POOL
  int nt = omp_get_max_threads();
  if (nt > 1 && 2.0 * M * N * K >= GEMM_PAR_MIN_FLOPS && !omp_in_parallel()) {
    if (M >= 8 * nt || N >= 32 * nt) {
      int byRows = M >= 8 * nt && (M >= N || N < 32 * nt);
#pragma omp parallel num_threads(nt)
      {
        int lo, hi;
        share(omp_get_thread_num(), omp_get_num_threads(), byRows ? M : N, byRows ? 4 : 16, &lo, &hi);
        if (lo < hi && byRows)
          SGEMM(ta, tb, hi - lo, N, K, alpha, ta ? A + lo : A + (size_t)lo * lda, lda, B, ldb, beta,
                C + (size_t)lo * ldc, ldc);
        else if (lo < hi)
          SGEMM(ta, tb, M, hi - lo, K, alpha, A, lda, tb ? B + (size_t)lo * ldb : B + lo, ldb, beta, C + lo, ldc);
      }
      return;
    }
    // K-split: thread 0 writes C (with beta), the others dense partials that are added to it after; at
    // least 64 of K per thread
    int nk = K / 64 < nt ? K / 64 : nt;
    float* part = nk > 1 ? (float*)malloc(sizeof(float) * (size_t)(nk - 1) * M * N) : NULL;
    if (part) {
#pragma omp parallel num_threads(nk)
      {
        int t = omp_get_thread_num(), lo, hi;
        share(t, omp_get_num_threads(), K, 16, &lo, &hi);
        float* Ct = t ? part + (size_t)(t - 1) * M * N : C;
        if (lo < hi)  // (thread 0 always has a block: K ≥ 64 per thread)
          SGEMM(ta, tb, M, N, hi - lo, alpha, ta ? A + (size_t)lo * lda : A + lo, lda, tb ? B + lo : B + (size_t)lo * ldb,
                ldb, t ? 0.f : beta, Ct, t ? N : ldc);
        else
          memset(Ct, 0, sizeof(float) * M * N);
#pragma omp barrier
#pragma omp for schedule(static)
        for (int i = 0; i < M; i++)
          for (int p = 0; p < omp_get_num_threads() - 1; p++)
            for (int j = 0; j < N; j++) C[(size_t)i * ldc + j] += part[((size_t)p * M + i) * N + j];
      }
      free(part);
      return;
    }
  }
#endif
  SGEMM(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

// sgemm(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc): C = alpha·op(A)·op(B) + beta·C, row-major.
static napi_value sgemm(napi_env env, napi_callback_info info) {
  size_t argc = 13;
  napi_value a[13];
  CHECK(env, napi_get_cb_info(env, info, &argc, a, NULL, NULL));
  if (argc != 13) {
    napi_throw_error(env, NULL, "sgemm: expected 13 arguments");
    return NULL;
  }
  int ta, tb, M, N, K, lda, ldb, ldc;
  double alpha, beta;
  float *A, *B, *C;
  size_t la, lb, lc;
  if (!get_i32(env, a[0], &ta) || !get_i32(env, a[1], &tb) || !get_i32(env, a[2], &M) || !get_i32(env, a[3], &N) ||
      !get_i32(env, a[4], &K) || !get_f64(env, a[5], &alpha) || !get_f32(env, a[6], &A, &la) ||
      !get_i32(env, a[7], &lda) || !get_f32(env, a[8], &B, &lb) || !get_i32(env, a[9], &ldb) ||
      !get_f64(env, a[10], &beta) || !get_f32(env, a[11], &C, &lc) || !get_i32(env, a[12], &ldc))
    return NULL;
  if (lda < (ta ? M : K) || ldb < (tb ? K : N) || ldc < N) {
    napi_throw_range_error(env, NULL, "sgemm: leading dimensions smaller than the rows they hold");
    return NULL;
  }
  size_t needA = ta ? (size_t)(K - 1) * lda + M : (size_t)(M - 1) * lda + K;
  size_t needB = tb ? (size_t)(N - 1) * ldb + K : (size_t)(K - 1) * ldb + N;
  size_t needC = (size_t)(M - 1) * ldc + N;
  if (M <= 0 || N <= 0 || K <= 0 || la < needA || lb < needB || lc < needC) {
    napi_throw_range_error(env, NULL, "sgemm: sizes do not fit the buffers");
    return NULL;
  }
  gemm(ta, tb, M, N, K, (float)alpha, A, lda, B, ldb, (float)beta, C, ldc);
  return NULL;
}

// sgemmBatch(transA, transB, M, N, K, batch, A, strideA, B, strideB, C): C_i = op(A_i)·op(B_i) for i < batch,
// A_i = A + i·strideA (a stride of 0 broadcasts one matrix over the batch), C dense [batch, M, N]. One call
// for attention's many small products, split over the batch.
static napi_value sgemm_batch(napi_env env, napi_callback_info info) {
  size_t argc = 11;
  napi_value a[11];
  CHECK(env, napi_get_cb_info(env, info, &argc, a, NULL, NULL));
  int ta, tb, M, N, K, batch, sA, sB;
  float *A, *B, *C;
  size_t la, lb, lc;
  if (argc != 11 || !get_i32(env, a[0], &ta) || !get_i32(env, a[1], &tb) || !get_i32(env, a[2], &M) ||
      !get_i32(env, a[3], &N) || !get_i32(env, a[4], &K) || !get_i32(env, a[5], &batch) || !get_f32(env, a[6], &A, &la) ||
      !get_i32(env, a[7], &sA) || !get_f32(env, a[8], &B, &lb) || !get_i32(env, a[9], &sB) ||
      !get_f32(env, a[10], &C, &lc)) {
    if (argc != 11) napi_throw_type_error(env, NULL, "sgemmBatch: expected 11 arguments");
    return NULL;
  }
  if (M <= 0 || N <= 0 || K <= 0 || batch <= 0 || sA < 0 || sB < 0 ||
      la < (size_t)(batch - 1) * sA + (size_t)M * K || lb < (size_t)(batch - 1) * sB + (size_t)K * N ||
      lc < (size_t)batch * M * N) {
    napi_throw_range_error(env, NULL, "sgemmBatch: sizes do not fit the buffers");
    return NULL;
  }
  int lda = ta ? M : K, ldb = tb ? K : N;
#ifdef ONE_POOL
  // one entry per thread when there are enough of them; else each product splits itself (gemm)
  if (batch >= omp_get_max_threads() && 2.0 * M * N * K * batch >= GEMM_PAR_MIN_FLOPS) {
#pragma omp parallel for schedule(static)
    for (int i = 0; i < batch; i++)
      SGEMM(ta, tb, M, N, K, 1.f, A + (size_t)i * sA, lda, B + (size_t)i * sB, ldb, 0.f, C + (size_t)i * M * N, N);
    return NULL;
  }
#endif
  for (int i = 0; i < batch; i++)
    gemm(ta, tb, M, N, K, 1.f, A + (size_t)i * sA, lda, B + (size_t)i * sB, ldb, 0.f, C + (size_t)i * M * N, N);
  return NULL;
}

// Grow-only scratch buffers reused across calls: fresh multi-MB mallocs cost a page fault per 4 KB on
// every convolution, which measured as much as the GEMMs themselves.
static float* scratch_buf[3];
static size_t scratch_len[3];
static float* scratch(int slot, size_t n) {
  if (scratch_len[slot] < n) {
    free(scratch_buf[slot]);
    scratch_buf[slot] = (float*)malloc(sizeof(float) * n);
    scratch_len[slot] = scratch_buf[slot] ? n : 0;
  }
  return scratch_buf[slot];
}


// args[first..first+14] hold the geometry, in ConvGeom's order.
static int get_geom(napi_env env, napi_value* a, ConvGeom* g) {
  int* f = (int*)g;
  for (int i = 0; i < 15; i++)
    if (!get_i32(env, a[i], &f[i])) return 0;
  return 1;
}

// Scratch budget in floats per chunk of images; SFD_NATIVE_CHUNK_FLOATS overrides it (tests force
// one-image chunks with it, to cover the chunk boundaries).
static size_t chunk_budget(size_t dflt) {
  const char* e = getenv("SFD_NATIVE_CHUNK_FLOATS");
  return e ? (size_t)strtoull(e, NULL, 10) : dflt;
}

// Images per chunk so that the im2col buffer stays below ~64 MB.
static int chunk_images(const ConvGeom* g) {
  size_t per = (size_t)g->outH * g->outW * g->fH * g->fW * g->inC;
  size_t n = per ? chunk_budget(16u << 20) / per : 1;
  if (n < 1) n = 1;
  if (n > (size_t)g->batch) n = g->batch;
  return (int)n;
}

// col[(b·outH·outW + oh·outW + ow), (kh·fW + kw)·inC + c] = x[b, oh·sH − padT + kh·dH, ow·sW − padL + kw·dW, c] (0 outside).
static void im2col(const ConvGeom* g, const float* x, int b0, int nb, float* col) {
  size_t K = (size_t)g->fH * g->fW * g->inC;
  for (int b = 0; b < nb; b++) {
    const float* xb = x + (size_t)(b0 + b) * g->inH * g->inW * g->inC;
    for (int oh = 0; oh < g->outH; oh++)
      for (int ow = 0; ow < g->outW; ow++) {
        float* row = col + (((size_t)b * g->outH + oh) * g->outW + ow) * K;
        for (int kh = 0; kh < g->fH; kh++) {
          int ih = oh * g->sH - g->padT + kh * g->dH;
          for (int kw = 0; kw < g->fW; kw++) {
            int iw = ow * g->sW - g->padL + kw * g->dW;
            float* dst = row + ((size_t)kh * g->fW + kw) * g->inC;
            if (ih < 0 || ih >= g->inH || iw < 0 || iw >= g->inW)
              memset(dst, 0, sizeof(float) * g->inC);
            else
              memcpy(dst, xb + ((size_t)ih * g->inW + iw) * g->inC, sizeof(float) * g->inC);
          }
        }
      }
  }
}

// The adjoint of im2col: adds each column entry back into dx.
static void col2im_add(const ConvGeom* g, const float* col, int b0, int nb, float* dx) {
  size_t K = (size_t)g->fH * g->fW * g->inC;
  for (int b = 0; b < nb; b++) {
    float* xb = dx + (size_t)(b0 + b) * g->inH * g->inW * g->inC;
    for (int oh = 0; oh < g->outH; oh++)
      for (int ow = 0; ow < g->outW; ow++) {
        const float* row = col + (((size_t)b * g->outH + oh) * g->outW + ow) * K;
        for (int kh = 0; kh < g->fH; kh++) {
          int ih = oh * g->sH - g->padT + kh * g->dH;
          if (ih < 0 || ih >= g->inH) continue;
          for (int kw = 0; kw < g->fW; kw++) {
            int iw = ow * g->sW - g->padL + kw * g->dW;
            if (iw < 0 || iw >= g->inW) continue;
            const float* src = row + ((size_t)kh * g->fW + kw) * g->inC;
            float* dst = xb + ((size_t)ih * g->inW + iw) * g->inC;
            for (int c = 0; c < g->inC; c++) dst[c] += src[c];
          }
        }
      }
  }
}

// A 1×1, stride-1 conv with no padding at all (outH = inH, outW = inW): x already is the column matrix.
static int is_pointwise(const ConvGeom* g) {
  return g->fH == 1 && g->fW == 1 && g->sH == 1 && g->sW == 1 && g->padT == 0 && g->padL == 0 && g->outH == g->inH &&
         g->outW == g->inW;
}


// Stride-1 convolutions with a row-wise im2col. With the input zero-padded to Hp×Wp (Hp = outH + (fH−1)·dH),
// output pixel (b, oh, ow) sits at padded row p = (b·Hp + oh)·Wp + ow, and filter tap (kh, kw) reads padded
// row p + kh·dH·Wp + kw·dW. The buffer xw holds, for every padded row p, the fW rows p + kw·dW side by side
// (fW·C values: one filter row's window), so filter row kh is ONE GEMM over the whole batch with K = fW·C,
// reading xw from row p + kh·dH·Wp; rows with oh ≥ outH or ow ≥ outW are scratch. Against one GEMM per tap
// (K = C) the GEMMs are fW× deeper and the output is accumulated fH rather than fH·fW times; against a full
// im2col the copy is fH× smaller.
static int conv_stride1_chunk(const ConvGeom* g, int kind, const float* P, const float* Q, float* O, float dwBeta) {
  int Hp = g->outH + (g->fH - 1) * g->dH, Wp = g->outW + (g->fW - 1) * g->dW;
  int C = g->inC, F = g->outC, KW = g->fW * C;
  size_t R = (size_t)g->batch * Hp * Wp;      // padded rows
  size_t Rw = R - (size_t)(g->fW - 1) * g->dW;  // rows of xw (each needs fW padded rows from p on)
  int M = (int)(Rw - (size_t)(g->fH - 1) * g->dH * Wp);
  size_t rowStep = (size_t)g->dH * Wp;  // xw rows between two filter rows
  float* xp = scratch(0, R * C);   // padded input
  float* xw = scratch(1, Rw * KW);  // row windows of xp (or, for dx, their gradient)
  float* yp = scratch(2, R * F);   // output (or dy) in padded row layout
  if (!xp || !xw || !yp) return 0;
#define FOR_PIXELS(h, w)                 \
  for (int b = 0; b < g->batch; b++)     \
    for (int i = 0; i < (h); i++)        \
      for (int j = 0; j < (w); j++)
  if (kind != 1) {  // forward and dW read x: pad it, then gather the row windows
    memset(xp, 0, sizeof(float) * R * C);
    FOR_PIXELS(g->inH, g->inW) {
      int pi = i + g->padT, pj = j + g->padL;
      if (pi >= Hp || pj >= Wp) continue;
      memcpy(xp + (((size_t)b * Hp + pi) * Wp + pj) * C, P + (((size_t)b * g->inH + i) * g->inW + j) * C, sizeof(float) * C);
    }
    if (g->dW == 1)  // the window of row p is rows p … p + fW − 1: contiguous
      for (size_t p = 0; p < Rw; p++) memcpy(xw + p * KW, xp + p * C, sizeof(float) * KW);
    else
      for (size_t p = 0; p < Rw; p++)
        for (int kw = 0; kw < g->fW; kw++)
          memcpy(xw + p * KW + (size_t)kw * C, xp + (p + (size_t)kw * g->dW) * C, sizeof(float) * C);
  }
  if (kind != 0) {  // dx and dW read dy; its scratch rows must be zero (they enter the products)
    const float* dy = kind == 1 ? P : Q;
    memset(yp, 0, sizeof(float) * R * F);
    FOR_PIXELS(g->outH, g->outW) {
      memcpy(yp + (((size_t)b * Hp + i) * Wp + j) * F, dy + (((size_t)b * g->outH + i) * g->outW + j) * F, sizeof(float) * F);
    }
  }
  if (kind == 1) memset(xw, 0, sizeof(float) * Rw * KW);
  for (int kh = 0; kh < g->fH; kh++) {
    const float* Wk = Q + (size_t)kh * KW * F;  // filter row kh: [fW·C, F], contiguous in [fH, fW, C, F]
    size_t off = (size_t)kh * rowStep * KW;
    if (kind == 0)  // y (+)= xw_shift · W_kh; the first filter row initialises every row of y that is read
      gemm(0, 0, M, F, KW, 1.f, xw + off, KW, Wk, F, kh ? 1.f : 0.f, yp, F);
    else if (kind == 1)  // dxw_shift += dy · W_khᵀ
      gemm(0, 1, M, KW, F, 1.f, yp, F, Wk, F, 1.f, xw + off, KW);
    else  // dW_kh (+)= xw_shiftᵀ · dy
      gemm(1, 0, KW, F, M, 1.f, xw + off, KW, yp, F, dwBeta,
                  O + (size_t)kh * KW * F, F);
  }
  if (kind == 0) {
    FOR_PIXELS(g->outH, g->outW) {
      memcpy(O + (((size_t)b * g->outH + i) * g->outW + j) * F, yp + (((size_t)b * Hp + i) * Wp + j) * F, sizeof(float) * F);
    }
  } else if (kind == 1) {  // dx at padded row q: the sum over kw of window kw of xw row q − kw·dW
    FOR_PIXELS(g->inH, g->inW) {
      int pi = i + g->padT, pj = j + g->padL;
      float* dst = O + (((size_t)b * g->inH + i) * g->inW + j) * C;
      memset(dst, 0, sizeof(float) * C);
      if (pi >= Hp || pj >= Wp) continue;  // never read by any output pixel
      size_t q = ((size_t)b * Hp + pi) * Wp + pj;
      for (int kw = 0; kw < g->fW; kw++) {
        size_t back = (size_t)kw * g->dW;
        if (q < back || q - back >= Rw) continue;
        const float* src = xw + (q - back) * KW + (size_t)kw * C;
        for (int c = 0; c < C; c++) dst[c] += src[c];
      }
    }
  }
#undef FOR_PIXELS
  return 1;
}

// Runs the stride-1 path on chunks of images, so its buffers stay a few MB (cache- and TLB-friendly).
static int conv_stride1(const ConvGeom* g, int kind, const float* P, const float* Q, float* O) {
  size_t perImage =
      (size_t)(g->outH + (g->fH - 1) * g->dH) * (g->outW + (g->fW - 1) * g->dW) * ((1 + g->fW) * g->inC + g->outC);
  int chunk = (int)(chunk_budget(4u << 20) / (perImage ? perImage : 1));
  if (chunk < 1) chunk = 1;
  size_t xs = (size_t)g->inH * g->inW * g->inC, ys = (size_t)g->outH * g->outW * g->outC;
  for (int b0 = 0; b0 < g->batch; b0 += chunk) {
    ConvGeom c = *g;
    c.batch = g->batch - b0 < chunk ? g->batch - b0 : chunk;
    int ok;
    if (kind == 0) ok = conv_stride1_chunk(&c, 0, P + b0 * xs, Q, O + b0 * ys, 0.f);
    else if (kind == 1) ok = conv_stride1_chunk(&c, 1, P + b0 * ys, Q, O + b0 * xs, 0.f);
    else ok = conv_stride1_chunk(&c, 2, P + b0 * xs, Q + b0 * ys, O, b0 ? 1.f : 0.f);
    if (!ok) return 0;
  }
  return 1;
}

// Below this many input channels a stride-1 conv uses im2col (one GEMM with K = fH·fW·C) instead of one
// GEMM per tap (K = C, too thin for the BLAS kernels). SFD_NATIVE_TAP_MIN_C overrides it (benchmarks, tests).
static int tap_min_channels(void) {
  const char* e = getenv("SFD_NATIVE_TAP_MIN_C");
  return e ? atoi(e) : 0;
}

// Which code runs convolutions: 1 = oneDNN where the addon was built with it (the default), 0 = the BLAS
// paths below. SFD_NATIVE_CONV=blas selects them (benchmarks, tests).
static int conv_engine(void) {
#ifdef SFD_DNNL
  const char* e = getenv("SFD_NATIVE_CONV");
  return e && !strcmp(e, "blas") ? 0 : 1;
#else
  return 0;
#endif
}

static int conv_blas(const ConvGeom* g, int kind, const float* P, const float* Q, float* O);
static void add_bias_rows(float* y, size_t rows, int C, const float* bias);

// op(geom..., kind, P, Q, OUT[, BIAS]): kind 0 = forward (P=x, Q=filter, OUT=y), 1 = dx (P=dy, Q=filter, OUT=dx),
// 2 = dW (P=x, Q=dy, OUT=dW). Shapes: x [B,inH,inW,inC], filter [fH,fW,inC,outC], y/dy [B,outH,outW,outC].
// BIAS ([outC], forward only) is added to y: by oneDNN inside the convolution, else in one pass after it.
static napi_value conv2d(napi_env env, napi_callback_info info) {
  size_t argc = 21;
  napi_value a[21];
  CHECK(env, napi_get_cb_info(env, info, &argc, a, NULL, NULL));
  if (argc < 19 || argc > 21) {
    napi_throw_error(env, NULL, "conv2d: expected 19 to 21 arguments");
    return NULL;
  }
  ConvGeom g;
  int kind;
  float *P, *Q, *O;
  size_t lp, lq, lo;
  if (!get_geom(env, a, &g) || !get_i32(env, a[15], &kind) || !get_f32(env, a[16], &P, &lp) ||
      !get_f32(env, a[17], &Q, &lq) || !get_f32(env, a[18], &O, &lo))
    return NULL;
  int* dims = (int*)&g;
  for (int i = 0; i < 13; i++)
    if (dims[i] < 1) {
      napi_throw_range_error(env, NULL, "conv2d: sizes, strides and dilations must be ≥ 1");
      return NULL;
    }
  if (g.padT < 0 || g.padL < 0) {
    napi_throw_range_error(env, NULL, "conv2d: negative padding");
    return NULL;
  }
  size_t nx = (size_t)g.batch * g.inH * g.inW * g.inC, nw = (size_t)g.fH * g.fW * g.inC * g.outC;
  size_t ny = (size_t)g.batch * g.outH * g.outW * g.outC;
  size_t sizes[3][3] = {{nx, nw, ny}, {ny, nw, nx}, {nx, ny, nw}};
  if (kind < 0 || kind > 2 || lp != sizes[kind][0] || lq != sizes[kind][1] || lo != sizes[kind][2]) {
    napi_throw_range_error(env, NULL, "conv2d: buffer sizes do not match the geometry");
    return NULL;
  }
  float* bias = NULL;
  double filterId = 0;  // > 0: names the filters' contents (kinds 0, 1), so oneDNN's reordered copy is reused
  if (argc == 21 && !get_f64(env, a[20], &filterId)) return NULL;
  if (argc >= 20) {
    size_t lb;
    if (!get_opt_f32(env, a[19], &bias, &lb)) return NULL;
    if (bias && (kind != 0 || lb != (size_t)g.outC)) {
      napi_throw_range_error(env, NULL, "conv2d: a bias is [outC], for the forward convolution only");
      return NULL;
    }
  }
#ifdef SFD_DNNL
  if (conv_engine() == 1 && dnnl_conv(&g, kind, P, Q, bias, O, kind == 2 ? 0 : filterId)) return NULL;
#endif
  if (!conv_blas(&g, kind, P, Q, O)) {
    napi_throw_error(env, NULL, "conv2d: out of memory");
    return NULL;
  }
  if (bias) add_bias_rows(O, ny / g.outC, g.outC, bias);
  return NULL;
}

// The convolution on the BLAS paths; 0 when out of memory.
static int conv_blas(const ConvGeom* g_, int kind, const float* P, const float* Q, float* O) {
  ConvGeom g = *g_;
  size_t nx = (size_t)g.batch * g.inH * g.inW * g.inC;
  if (g.sH == 1 && g.sW == 1 && !is_pointwise(&g) && g.inC >= tap_min_channels())
    return conv_stride1(&g, kind, P, Q, O);
  int K = g.fH * g.fW * g.inC, spatial = g.outH * g.outW;
  int pointwise = is_pointwise(&g);  // 1×1 stride-1 convs need no im2col: x already is the column matrix
  int chunk = chunk_images(&g);
  float* col = pointwise ? NULL : scratch(0, (size_t)chunk * spatial * K);
  if (!pointwise && !col) return 0;
  if (kind == 1) memset(O, 0, sizeof(float) * nx);
  for (int b0 = 0; b0 < g.batch; b0 += chunk) {
    int nb = g.batch - b0 < chunk ? g.batch - b0 : chunk;
    int rows = nb * spatial;
    size_t xoff = (size_t)b0 * g.inH * g.inW * g.inC, yoff = (size_t)b0 * spatial * g.outC;
    if (kind == 0) {
      const float* c = pointwise ? P + xoff : col;
      if (!pointwise) im2col(&g, P, b0, nb, col);
      gemm(0, 0, rows, g.outC, K, 1.f, c, K, Q, g.outC, 0.f, O + yoff, g.outC);
    } else if (kind == 1) {
      float* c = pointwise ? O + xoff : col;  // dcol = dy · Wᵀ
      gemm(0, 1, rows, K, g.outC, 1.f, P + yoff, g.outC, Q, g.outC, 0.f, c, K);
      if (!pointwise) col2im_add(&g, col, b0, nb, O);
    } else {
      const float* c = pointwise ? P + xoff : col;  // dW += colᵀ · dy
      if (!pointwise) im2col(&g, P, b0, nb, col);
      gemm(1, 0, K, g.outC, rows, 1.f, c, K, Q + yoff, g.outC, b0 ? 1.f : 0.f, O,
                  g.outC);
    }
  }
  return 1;
}

// y[r, c] += bias[c] over rows × C.
static void add_bias_rows(float* y, size_t rows, int C, const float* bias) {
#pragma omp parallel for if (rows * C >= 65536) schedule(static)
  for (size_t r = 0; r < rows; r++)
    for (int c = 0; c < C; c++) y[r * C + c] += bias[c];
}


// binary(op, mode, mid, inner, A, B, OUT): op 0 add, 1 sub, 2 mul, 3 div. The output is viewed as
// [outer, mid, inner]. mode 0: A and B are full; mode 1: B is [outer, 1, inner] (broadcast over the middle
// block: a per-channel bias, a per-sample scale); mode 2: A is. The tfjs backend derives the view from shapes.
// Element-wise loops split across cores (OpenMP) once they are big enough to pay for waking the threads.
#define PAR_MIN 65536
#define OP_ADD(p, q) ((p) + (q))
#define OP_SUB(p, q) ((p) - (q))
#define OP_MUL(p, q) ((p) * (q))
#define OP_DIV(p, q) ((p) / (q))
#define BINARY_LOOP(OP)                                              \
  _Pragma("omp parallel for if (lo >= PAR_MIN) schedule(static)")   \
  for (size_t om = 0; om < outer * mid; om++) {                     \
    size_t o = om / mid, r = om * inner;                            \
    const float* x = mode == 2 ? A + o * inner : A + r;             \
    const float* y = mode == 1 ? B + o * inner : B + r;             \
    float* z = O + r;                                               \
    for (size_t i = 0; i < inner; i++) z[i] = OP(x[i], y[i]);       \
  }
// inner = 1: the small operand is one value per outer index (a scalar, a per-sample scale). The loop above
// would then divide per element and run an inner loop of one (a product of 200 k values by a scalar took
// 300 µs); here each of the `outer` rows is one vectorised loop against its value, split across the threads.
#define BINARY_ROWS(OP)                                              \
  _Pragma("omp parallel if (lo >= PAR_MIN)")                        \
  for (size_t o = 0; o < outer; o++) {                              \
    float* z = O + o * mid;                                         \
    if (mode == 1) {                                                \
      const float* x = A + o * mid;                                 \
      const float yv = B[o];                                        \
      _Pragma("omp for schedule(static) nowait")                    \
      for (size_t i = 0; i < mid; i++) z[i] = OP(x[i], yv);         \
    } else {                                                        \
      const float xv = A[o];                                        \
      const float* y = B + o * mid;                                 \
      _Pragma("omp for schedule(static) nowait")                    \
      for (size_t i = 0; i < mid; i++) z[i] = OP(xv, y[i]);         \
    }                                                               \
  }
// mode 0 (same shapes): one flat loop, so that it splits across cores too
#define BINARY_FULL(OP)                                              \
  _Pragma("omp parallel for if (lo >= PAR_MIN) schedule(static)")   \
  for (size_t i = 0; i < lo; i++) O[i] = OP(A[i], B[i]);
#define BINARY(OP)         \
  if (mode == 0) {         \
    BINARY_FULL(OP)        \
  } else if (inner == 1) { \
    BINARY_ROWS(OP)        \
  } else {                 \
    BINARY_LOOP(OP)        \
  }
static napi_value binary(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value a[7];
  CHECK(env, napi_get_cb_info(env, info, &argc, a, NULL, NULL));
  int op, mode, mid_i, inner_i;
  float *A, *B, *O;
  size_t la, lb, lo;
  if (argc != 7 || !get_i32(env, a[0], &op) || !get_i32(env, a[1], &mode) || !get_i32(env, a[2], &mid_i) ||
      !get_i32(env, a[3], &inner_i) || !get_f32(env, a[4], &A, &la) || !get_f32(env, a[5], &B, &lb) ||
      !get_f32(env, a[6], &O, &lo))
    return NULL;
  size_t mid = mode == 0 ? 1 : (size_t)mid_i, inner = mode == 0 ? lo : (size_t)inner_i;
  size_t outer = (mid * inner) ? lo / (mid * inner) : 0;
  size_t small = outer * inner;
  int ok = mid_i >= 1 && inner_i >= 1 && outer * mid * inner == lo &&
           ((mode == 0 && la == lo && lb == lo) || (mode == 1 && la == lo && lb == small) ||
            (mode == 2 && lb == lo && la == small));
  if (!ok || op < 0 || op > 3) {
    napi_throw_range_error(env, NULL, "binary: sizes do not match the mode");
    return NULL;
  }
  switch (op) {
    case 0: BINARY(OP_ADD) break;
    case 1: BINARY(OP_SUB) break;
    case 2: BINARY(OP_MUL) break;
    default: BINARY(OP_DIV) break;
  }
  return NULL;
}
#undef BINARY_LOOP
#undef BINARY_ROWS
#undef BINARY_FULL
#undef BINARY
#undef OP_ADD
#undef OP_SUB
#undef OP_MUL
#undef OP_DIV

// The transcendental loops use sfd_expf (fast_exp.h), which GCC vectorises.
static void sigmoid_loop(const float* x, float* y, size_t n) {
#pragma omp parallel for if (n >= PAR_MIN) schedule(static)
  for (size_t i = 0; i < n; i++) y[i] = 1.f / (1.f + sfd_expf(-x[i]));
}
static void silu_loop(const float* x, float* y, size_t n) {
#pragma omp parallel for if (n >= PAR_MIN) schedule(static)
  for (size_t i = 0; i < n; i++) y[i] = x[i] / (1.f + sfd_expf(-x[i]));
}
// d/dx x·σ(x) = σ(x)·(1 + x·(1 − σ(x)))
static void silu_grad_loop(const float* dy, const float* x, float* dx, size_t n) {
#pragma omp parallel for if (n >= PAR_MIN) schedule(static)
  for (size_t i = 0; i < n; i++) {
    float s = 1.f / (1.f + sfd_expf(-x[i]));
    dx[i] = dy[i] * s * (1.f + x[i] * (1.f - s));
  }
}

// unary(op, X, OUT): op 0 sigmoid, 1 SiLU x·sigmoid(x).
static napi_value unary(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value a[3];
  CHECK(env, napi_get_cb_info(env, info, &argc, a, NULL, NULL));
  int op;
  float *X, *O;
  size_t lx, lo;
  if (argc != 3 || !get_i32(env, a[0], &op) || !get_f32(env, a[1], &X, &lx) || !get_f32(env, a[2], &O, &lo)) return NULL;
  if (lx != lo || op < 0 || op > 1) {
    napi_throw_range_error(env, NULL, "unary: bad op or sizes");
    return NULL;
  }
  if (op == 0) sigmoid_loop(X, O, lx);
  else silu_loop(X, O, lx);
  return NULL;
}

// Softmax over the last axis of a [rows, n] view: one pass for the max, one for exp and its sum, one scale.
static void softmax_rows(const float* x, float* y, size_t rows, size_t n) {
#pragma omp parallel for if (rows * n >= PAR_MIN) schedule(static)
  for (size_t r = 0; r < rows; r++) {
    const float* xr = x + r * n;
    float* yr = y + r * n;
    float m = xr[0];
    for (size_t i = 1; i < n; i++) m = xr[i] > m ? xr[i] : m;
    float s = 0.f;
    for (size_t i = 0; i < n; i++) {
      yr[i] = sfd_expf(xr[i] - m);
      s += yr[i];
    }
    float inv = 1.f / s;
    for (size_t i = 0; i < n; i++) yr[i] *= inv;
  }
}

// softmax(n, X, OUT): X and OUT hold rows of n values.
static napi_value softmax(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value a[3];
  CHECK(env, napi_get_cb_info(env, info, &argc, a, NULL, NULL));
  int n;
  float *X, *O;
  size_t lx, lo;
  if (argc != 3 || !get_i32(env, a[0], &n) || !get_f32(env, a[1], &X, &lx) || !get_f32(env, a[2], &O, &lo)) return NULL;
  if (n < 1 || lx != lo || lx % (size_t)n != 0) {
    napi_throw_range_error(env, NULL, "softmax: row length does not divide the sizes");
    return NULL;
  }
  softmax_rows(X, O, lx / n, n);
  return NULL;
}

// topk(n, k, X, VALS, IDX): per row of n values, the k largest, in descending order, equal values by lower
// index first (tfjs's order). Kept in a sorted buffer of k: most values fall below its last and cost one
// comparison (dynamic thresholding asks for the top 0.5 %). IDX is an Int32Array.
// Returns false (no exception) when a row holds NaN or ±∞, whose order tfjs leaves to its comparator
// (b − a is NaN for two equal infinities): the cpu kernel then decides.
static int topk_row(const float* x, int n, int k, float* v, int32_t* ix) {
  int count = 0;
  for (int i = 0; i < n; i++) {
    float xi = x[i];
    if (!isfinite(xi)) return 0;
    if (count == k && !(xi > v[k - 1])) continue;  // an equal value with a higher index ranks after
    int lo = 0, hi = count;                          // first slot holding a smaller value
    while (lo < hi) {
      int mid = (lo + hi) / 2;
      if (v[mid] >= xi) lo = mid + 1;
      else hi = mid;
    }
    int last = count < k ? count++ : k - 1;
    memmove(v + lo + 1, v + lo, sizeof(float) * (last - lo));
    memmove(ix + lo + 1, ix + lo, sizeof(int32_t) * (last - lo));
    v[lo] = xi;
    ix[lo] = i;
  }
  return 1;
}

static napi_value topk(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value a[5], res;
  CHECK(env, napi_get_cb_info(env, info, &argc, a, NULL, NULL));
  int n, k;
  float *X, *V;
  int32_t* Ix;
  size_t lx, lv, li;
  if (argc != 5) {
    napi_throw_type_error(env, NULL, "topk: expected 5 arguments");
    return NULL;
  }
  if (!get_i32(env, a[0], &n) || !get_i32(env, a[1], &k) || !get_f32(env, a[2], &X, &lx) ||
      !get_f32(env, a[3], &V, &lv) || !get_i32s(env, a[4], &Ix, &li))
    return NULL;
  if (n < 1 || k < 1 || k > n || lx % (size_t)n || lv != lx / n * k || li != lv) {
    napi_throw_range_error(env, NULL, "topk: sizes do not match");
    return NULL;
  }
  long rows = (long)(lx / n);
  int ok = 1;
#pragma omp parallel for if (lx >= PAR_MIN) schedule(static) reduction(& : ok)
  for (long r = 0; r < rows; r++) ok &= topk_row(X + r * n, n, k, V + r * k, Ix + r * k);
  CHECK(env, napi_get_boolean(env, ok, &res));
  return res;
}

// Nearest-neighbour upsampling by integer factors (kh, kw) of NHWC x [B,H,W,C], and its gradient (the sum of
// each kh×kw block of dy). upsample(B, H, W, C, kh, kw, grad, IN, OUT): grad 0 maps x → y, 1 maps dy → dx.
static napi_value upsample(napi_env env, napi_callback_info info) {
  size_t argc = 9;
  napi_value a[9];
  CHECK(env, napi_get_cb_info(env, info, &argc, a, NULL, NULL));
  int d[7];
  float *In, *Out;
  size_t li, lo;
  if (argc != 9) return NULL;
  for (int i = 0; i < 7; i++)
    if (!get_i32(env, a[i], &d[i])) return NULL;
  if (!get_f32(env, a[7], &In, &li) || !get_f32(env, a[8], &Out, &lo)) return NULL;
  int B = d[0], H = d[1], W = d[2], C = d[3], kh = d[4], kw = d[5], grad = d[6];
  size_t small = (size_t)B * H * W * C, big = small * kh * kw;
  if (B < 1 || H < 1 || W < 1 || C < 1 || kh < 1 || kw < 1 || li != (grad ? big : small) || lo != (grad ? small : big)) {
    napi_throw_range_error(env, NULL, "upsample: sizes do not match the geometry");
    return NULL;
  }
  int OH = H * kh, OW = W * kw;
#pragma omp parallel for if (big >= PAR_MIN) schedule(static)
  for (int b = 0; b < B; b++) {
    if (!grad) {
      for (int i = 0; i < OH; i++)
        for (int j = 0; j < OW; j++)
          memcpy(Out + (((size_t)b * OH + i) * OW + j) * C, In + (((size_t)b * H + i / kh) * W + j / kw) * C, sizeof(float) * C);
    } else {
      float* dx = Out + (size_t)b * H * W * C;
      memset(dx, 0, sizeof(float) * H * W * C);
      for (int i = 0; i < OH; i++)
        for (int j = 0; j < OW; j++) {
          const float* src = In + (((size_t)b * OH + i) * OW + j) * C;
          float* dst = dx + ((size_t)(i / kh) * W + j / kw) * C;
          for (int c = 0; c < C; c++) dst[c] += src[c];
        }
    }
  }
  return NULL;
}

// One Adam update of a weight tensor in a single pass (tfjs would run ~12 kernels, each a full pass):
// m' = β1·m + (1−β1)·g, v' = β2·v + (1−β2)·g², p' = p − step·m' / (√(v'/c2) + ε).
// adam(step, beta1, beta2, eps, c2, P, M, V, G, P2, M2, V2)
static napi_value adam(napi_env env, napi_callback_info info) {
  size_t argc = 12;
  napi_value a[12];
  CHECK(env, napi_get_cb_info(env, info, &argc, a, NULL, NULL));
  double h[5];
  float* t[7];
  size_t len[7];
  if (argc != 12) return NULL;
  for (int i = 0; i < 5; i++)
    if (!get_f64(env, a[i], &h[i])) return NULL;
  for (int i = 0; i < 7; i++)
    if (!get_f32(env, a[5 + i], &t[i], &len[i])) return NULL;
  for (int i = 1; i < 7; i++)
    if (len[i] != len[0]) {
      napi_throw_range_error(env, NULL, "adam: sizes differ");
      return NULL;
    }
  const float step = (float)h[0], b1 = (float)h[1], b2 = (float)h[2], eps = (float)h[3], invC2 = (float)(1.0 / h[4]);
  const float *P = t[0], *M = t[1], *V = t[2], *G = t[3];
  float *P2 = t[4], *M2 = t[5], *V2 = t[6];
  size_t n = len[0];
#pragma omp parallel for if (n >= PAR_MIN) schedule(static)
  for (size_t i = 0; i < n; i++) {
    float g = G[i];
    float m = b1 * M[i] + (1.f - b1) * g;
    float v = b2 * V[i] + (1.f - b2) * g * g;
    M2[i] = m;
    V2[i] = v;
    P2[i] = P[i] - step * (m / (sqrtf(v * invC2) + eps));
  }
  return NULL;
}

// ema(beta, E, P, OUT): OUT = P + β·(E − P), an exponential moving average's update in one pass.
static napi_value ema(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value a[4];
  CHECK(env, napi_get_cb_info(env, info, &argc, a, NULL, NULL));
  double beta;
  float *E, *P, *O;
  size_t le, lp, lo;
  if (argc != 4 || !get_f64(env, a[0], &beta) || !get_f32(env, a[1], &E, &le) || !get_f32(env, a[2], &P, &lp) ||
      !get_f32(env, a[3], &O, &lo))
    return NULL;
  if (le != lp || lp != lo) {
    napi_throw_range_error(env, NULL, "ema: sizes differ");
    return NULL;
  }
  const float b = (float)beta;
#pragma omp parallel for if (le >= PAR_MIN) schedule(static)
  for (size_t i = 0; i < le; i++) O[i] = P[i] + b * (E[i] - P[i]);
  return NULL;
}

// addScale(scale, A, B, OUT): OUT = (A + B)·scale, a residual connection with its normalising factor in one pass.
static napi_value add_scale(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value a[4];
  CHECK(env, napi_get_cb_info(env, info, &argc, a, NULL, NULL));
  double scale;
  float *A, *B, *O;
  size_t la, lb, lo;
  if (argc != 4 || !get_f64(env, a[0], &scale) || !get_f32(env, a[1], &A, &la) || !get_f32(env, a[2], &B, &lb) ||
      !get_f32(env, a[3], &O, &lo))
    return NULL;
  if (la != lb || lb != lo) {
    napi_throw_range_error(env, NULL, "addScale: sizes differ");
    return NULL;
  }
  const float s = (float)scale;
#pragma omp parallel for if (la >= PAR_MIN) schedule(static)
  for (size_t i = 0; i < la; i++) O[i] = (A[i] + B[i]) * s;
  return NULL;
}

// siluGrad(DY, X, DX)
static napi_value silu_grad(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value a[3];
  CHECK(env, napi_get_cb_info(env, info, &argc, a, NULL, NULL));
  float *dY, *X, *dX;
  size_t l1, l2, l3;
  if (argc != 3 || !get_f32(env, a[0], &dY, &l1) || !get_f32(env, a[1], &X, &l2) || !get_f32(env, a[2], &dX, &l3)) return NULL;
  if (l1 != l2 || l2 != l3) {
    napi_throw_range_error(env, NULL, "siluGrad: sizes differ");
    return NULL;
  }
  silu_grad_loop(dY, X, dX, l1);
  return NULL;
}

// nonFinite(INPUTS): how many elements of the Float32Arrays are NaN or ±∞ (the trainer's check of every
// gradient before its update: one call instead of a multiply and a sum per weight tensor).
static napi_value non_finite(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value a[1], res;
  CHECK(env, napi_get_cb_info(env, info, &argc, a, NULL, NULL));
  uint32_t k;
  if (argc != 1) {
    napi_throw_type_error(env, NULL, "nonFinite: expected 1 argument");
    return NULL;
  }
  CHECK(env, napi_get_array_length(env, a[0], &k));
  double count = 0;
  for (uint32_t i = 0; i < k; i++) {
    size_t n;
    float* p;
    if (!get_f32_at(env, a[0], i, &p, &n)) return NULL;
    long c = 0;
#pragma omp parallel for if (n >= PAR_MIN) reduction(+ : c) schedule(static)
    for (size_t j = 0; j < n; j++) c += !isfinite(p[j]);
    count += c;
  }
  CHECK(env, napi_create_double(env, count, &res));
  return res;
}

// addN(INPUTS, OUT): OUT = 0 + A0 + A1 + … summed left to right in float, as tfjs's cpu kernel does (the
// same values, −0 included): the gradient of a tensor used k times is the sum of its k parts.
static napi_value add_n(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value a[2];
  CHECK(env, napi_get_cb_info(env, info, &argc, a, NULL, NULL));
  float* O;
  size_t lo;
  uint32_t k;
  if (argc != 2) {
    napi_throw_type_error(env, NULL, "addN: expected 2 arguments");
    return NULL;
  }
  if (!get_f32(env, a[1], &O, &lo)) return NULL;
  CHECK(env, napi_get_array_length(env, a[0], &k));
  const float* ins[64];
  if (k < 1 || k > 64) {
    napi_throw_range_error(env, NULL, "addN: 1..64 inputs");
    return NULL;
  }
  for (uint32_t i = 0; i < k; i++) {
    size_t li;
    float* p;
    if (!get_f32_at(env, a[0], i, &p, &li)) return NULL;
    if (li != lo) {
      napi_throw_range_error(env, NULL, "addN: sizes differ");
      return NULL;
    }
    ins[i] = p;
  }
#pragma omp parallel for if (lo * k >= PAR_MIN) schedule(static)
  for (size_t j = 0; j < lo; j++) {
    float s = 0.f;
    for (uint32_t i = 0; i < k; i++) s += ins[i][j];
    O[j] = s;
  }
  return NULL;
}

// concatLast(inputs[], rows, OUT): the inverse of split_last.
static napi_value concat_last(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value a[3];
  CHECK(env, napi_get_cb_info(env, info, &argc, a, NULL, NULL));
  float* O;
  size_t lo;
  int rows;
  uint32_t k;
  if (argc != 3 || !get_i32(env, a[1], &rows) || !get_f32(env, a[2], &O, &lo)) return NULL;
  CHECK(env, napi_get_array_length(env, a[0], &k));
  const float* ins[16];
  size_t widths[16], total = 0;
  if (k < 1 || k > 16 || rows < 1) {
    napi_throw_range_error(env, NULL, "concatLast: 1..16 inputs and rows ≥ 1");
    return NULL;
  }
  for (uint32_t i = 0; i < k; i++) {
    size_t li;
    float* p;
    if (!get_f32_at(env, a[0], i, &p, &li)) return NULL;
    if (li % rows) {
      napi_throw_range_error(env, NULL, "concatLast: input size not a multiple of rows");
      return NULL;
    }
    ins[i] = p;
    widths[i] = li / rows;
    total += widths[i];
  }
  if (total * rows != lo) {
    napi_throw_range_error(env, NULL, "concatLast: widths do not add up");
    return NULL;
  }
  for (int r = 0; r < rows; r++) {
    float* dst = O + (size_t)r * total;
    for (uint32_t i = 0; i < k; i++) {
      memcpy(dst, ins[i] + (size_t)r * widths[i], sizeof(float) * widths[i]);
      dst += widths[i];
    }
  }
  return NULL;
}

// sum(outer, mid, inner, X, OUT): X viewed as [outer, mid, inner] summed over mid into OUT [outer, inner]
// (a bias gradient: outer 1; a per-sample reduction: inner 1), accumulating in double.
static napi_value sum(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value a[5];
  CHECK(env, napi_get_cb_info(env, info, &argc, a, NULL, NULL));
  int outer, mid, inner;
  float *X, *O;
  size_t lx, lo;
  if (argc != 5 || !get_i32(env, a[0], &outer) || !get_i32(env, a[1], &mid) || !get_i32(env, a[2], &inner) ||
      !get_f32(env, a[3], &X, &lx) || !get_f32(env, a[4], &O, &lo))
    return NULL;
  if (outer < 1 || mid < 1 || inner < 1 || lx != (size_t)outer * mid * inner || lo != (size_t)outer * inner) {
    napi_throw_range_error(env, NULL, "sum: sizes do not match");
    return NULL;
  }
  double* acc = (double*)malloc(sizeof(double) * inner);
  if (!acc) {
    napi_throw_error(env, NULL, "sum: out of memory");
    return NULL;
  }
  for (int o = 0; o < outer; o++) {
    for (int i = 0; i < inner; i++) acc[i] = 0;
    for (int m = 0; m < mid; m++) {
      const float* row = X + ((size_t)o * mid + m) * inner;
      for (int i = 0; i < inner; i++) acc[i] += row[i];
    }
    for (int i = 0; i < inner; i++) O[(size_t)o * inner + i] = (float)acc[i];
  }
  free(acc);
  return NULL;
}

// GroupNorm over x [B, HW, C] with G groups of C/G channels: per (b, g), mean and 1/std over HW·C/G values
// (per-channel sums accumulated in double, then pooled per group), then y = x·scale[c] + shift[c] with
// scale = rstd·γ, shift = β − mean·rstd·γ — a branch-free loop the compiler vectorises. With act = 1 the
// output is SiLU(y) (the UNet always follows a norm by SiLU; fusing saves a full pass and a tensor).
// An optional e [B, C] is added to x first (a residual block's embedding, one value per image and channel):
// its sums follow from x's in closed form (Σ(x+e) = Σx + HW·e, Σ(x+e)² = Σx² + 2e·Σx + HW·e²) and it
// folds into the shift, so the addition costs no pass and no tensor of its own.
// mean and rstd ([B·G] each, in one buffer) are kept for the backward pass. Images run in parallel (OpenMP).
static void affine_silu_rows(const float* x, float* y, const float* sc,
                                                                   const float* sh, int rows, int C, int act) {
  for (int p = 0; p < rows; p++) {
    const float* r = x + (size_t)p * C;
    float* o = y + (size_t)p * C;
    if (act)
      for (int c = 0; c < C; c++) {
        float z = r[c] * sc[c] + sh[c];
        o[c] = z / (1.f + sfd_expf(-z));
      }
    else
      for (int c = 0; c < C; c++) o[c] = r[c] * sc[c] + sh[c];
  }
}

// Per-channel Σx and Σx² of one image [HW, C] into s1, s2 (double, length C).
static void channel_moments(const float* xb, int HW, int C, double* s1, double* s2) {
  for (int c = 0; c < C; c++) s1[c] = s2[c] = 0;
  for (int p = 0; p < HW; p++) {
    const float* row = xb + (size_t)p * C;
    for (int c = 0; c < C; c++) {
      double v = row[c];
      s1[c] += v;
      s2[c] += v * v;
    }
  }
}

static napi_value groupnorm(napi_env env, napi_callback_info info) {
  size_t argc = 12;
  napi_value a[12];
  CHECK(env, napi_get_cb_info(env, info, &argc, a, NULL, NULL));
  int B, HW, C, G, act;
  double eps;
  float *X, *gamma, *beta, *Y, *mean, *E = NULL;
  size_t lx, lg, lb, ly, lm, le = 0;
  if ((argc != 11 && argc != 12) || !get_i32(env, a[0], &B) || !get_i32(env, a[1], &HW) ||
      !get_i32(env, a[2], &C) || !get_i32(env, a[3], &G) || !get_f64(env, a[4], &eps) ||
      !get_f32(env, a[5], &X, &lx) || !get_f32(env, a[6], &gamma, &lg) || !get_f32(env, a[7], &beta, &lb) ||
      !get_f32(env, a[8], &Y, &ly) || !get_f32(env, a[9], &mean, &lm) || !get_i32(env, a[10], &act) ||
      (argc == 12 && !get_opt_f32(env, a[11], &E, &le)))
    return NULL;
  size_t n = (size_t)B * HW * C;
  if (G < 1 || C % G || lx != n || ly != n || lg != (size_t)C || lb != (size_t)C || lm != (size_t)2 * B * G ||
      act < 0 || act > 1 || (E && le != (size_t)B * C)) {
    napi_throw_range_error(env, NULL, "groupnorm: sizes do not match");
    return NULL;
  }
  float* rstd = mean + (size_t)B * G;  // one buffer: means, then rstds
  int cg = C / G, failed = 0;
#pragma omp parallel
  {
    double* s = (double*)malloc(sizeof(double) * 2 * C);
    float* coef = (float*)malloc(sizeof(float) * 2 * C);
    if (!s || !coef) {
#pragma omp atomic write
      failed = 1;
    } else {
#pragma omp for schedule(static)
      for (int b = 0; b < B; b++) {
        const float* xb = X + (size_t)b * HW * C;
        const float* eb = E ? E + (size_t)b * C : NULL;
        channel_moments(xb, HW, C, s, s + C);
        if (eb)
          for (int c = 0; c < C; c++) {
            double e = eb[c];
            s[C + c] += e * (2 * s[c] + HW * e);
            s[c] += HW * e;
          }
        double cnt = (double)HW * cg;
        for (int g = 0; g < G; g++) {
          double t1 = 0, t2 = 0;
          for (int j = 0; j < cg; j++) {
            t1 += s[g * cg + j];
            t2 += s[C + g * cg + j];
          }
          double m = t1 / cnt, var = t2 / cnt - m * m;
          double r = 1.0 / sqrt((var > 0 ? var : 0) + eps);
          mean[b * G + g] = (float)m;
          rstd[b * G + g] = (float)r;
          for (int j = 0; j < cg; j++) {
            int c = g * cg + j;
            coef[c] = (float)(r * gamma[c]);
            coef[C + c] = (float)(beta[c] + ((eb ? eb[c] : 0) - m) * r * gamma[c]);
          }
        }
        affine_silu_rows(xb, Y + (size_t)b * HW * C, coef, coef + C, HW, C, act);
      }
    }
    free(s);
    free(coef);
  }
  if (failed) napi_throw_error(env, NULL, "groupnorm: out of memory");
  return NULL;
}

// dz = dy·SiLU'(z) with z = x·scale + shift recomputed (the fused forward kept no pre-activation).
static void silu_back_rows(const float* dy, const float* x, float* dz,
                                                                 const float* sc, const float* sh, int rows, int C) {
  for (int p = 0; p < rows; p++) {
    size_t o = (size_t)p * C;
    for (int c = 0; c < C; c++) {
      float z = x[o + c] * sc[c] + sh[c];
      float sg = 1.f / (1.f + sfd_expf(-z));
      dz[o + c] = dy[o + c] * sg * (1.f + z * (1.f - sg));
    }
  }
}

// Gradient of groupnorm: with x̂ = (x − mean)·rstd and n = HW·C/G values per group,
// dx = rstd·(dz·γ − mean_g(dz·γ) − x̂·mean_g(dz·γ·x̂)), dγ = Σ dz·x̂, dβ = Σ dz (sums over b and HW), where
// dz = dy, or dy·SiLU'(z) for the fused act = 1 (then β is needed to recompute z). Per image, per-channel
// Σdz and Σdz·x give every group sum, and dx = dz·k1[c] + x·k2[g] + k3[g] is one vectorised pass.
// With the forward's e [B, C] (added to x before the norm), x stands for x + e: Σdz·(x+e) = Σdz·x + e·Σdz,
// the recomputed z and dx fold e into their per-channel constants, and de = Σ_HW dx = k1·Σdz + k2·Σx + HW·k3.
// Images run in parallel; each thread accumulates its own dγ, dβ, summed at the end.
static napi_value groupnorm_grad(napi_env env, napi_callback_info info) {
  size_t argc = 15;
  napi_value a[15];
  CHECK(env, napi_get_cb_info(env, info, &argc, a, NULL, NULL));
  int B, HW, C, G, act;
  float *dY, *X, *gamma, *beta, *stats, *dX, *dG, *dB, *E = NULL, *dE = NULL;
  size_t l1, l2, l3, l4, l5, l6, l7, l8, le = 0, lde = 0;
  if ((argc != 13 && argc != 15) || !get_i32(env, a[0], &B) || !get_i32(env, a[1], &HW) || !get_i32(env, a[2], &C) ||
      !get_i32(env, a[3], &G) || !get_f32(env, a[4], &dY, &l1) || !get_f32(env, a[5], &X, &l2) ||
      !get_f32(env, a[6], &gamma, &l3) || !get_f32(env, a[7], &beta, &l8) || !get_f32(env, a[8], &stats, &l4) ||
      !get_f32(env, a[9], &dX, &l5) || !get_f32(env, a[10], &dG, &l6) || !get_f32(env, a[11], &dB, &l7) ||
      !get_i32(env, a[12], &act) ||
      (argc == 15 && (!get_opt_f32(env, a[13], &E, &le) || !get_opt_f32(env, a[14], &dE, &lde))))
    return NULL;
  size_t n = (size_t)B * HW * C;
  if (G < 1 || C % G || l1 != n || l2 != n || l5 != n || l3 != (size_t)C || l6 != (size_t)C || l7 != (size_t)C ||
      l8 != (size_t)C || l4 != (size_t)2 * B * G || act < 0 || act > 1 || !E != !dE ||
      (E && (le != (size_t)B * C || lde != (size_t)B * C))) {
    napi_throw_range_error(env, NULL, "groupnorm_grad: sizes do not match");
    return NULL;
  }
  const float *mean = stats, *rstd = stats + (size_t)B * G;
  int cg = C / G, failed = 0;
  double cnt = (double)HW * cg;
  double* total = (double*)calloc((size_t)2 * C, sizeof(double));  // dγ, dβ over all threads
  if (!total) {
    napi_throw_error(env, NULL, "groupnorm_grad: out of memory");
    return NULL;
  }
#pragma omp parallel
  {
    // thread's dγ, dβ; image's Σdz, Σdz·x, Σx
    double* acc = (double*)calloc((size_t)5 * C, sizeof(double));
    float* k = (float*)malloc(sizeof(float) * 5 * C);  // scale, shift (act), then k1, k2, k3 per channel
    if (!acc || !k) {
#pragma omp atomic write
      failed = 1;
    } else {
      double *dg = acc, *db = acc + C, *sd = acc + 2 * C, *sdx = acc + 3 * C, *sx = acc + 4 * C;
#pragma omp for schedule(static)
      for (int b = 0; b < B; b++) {
        const float *xb = X + (size_t)b * HW * C, *dz = dY + (size_t)b * HW * C;
        float* dxb = dX + (size_t)b * HW * C;
        const float* eb = E ? E + (size_t)b * C : NULL;
        if (act) {  // dz into dx's memory first, then dx overwrites it in place below
          for (int c = 0; c < C; c++) {
            int g = c / cg;
            float r = rstd[b * G + g], m = mean[b * G + g];
            k[c] = r * gamma[c];
            k[C + c] = beta[c] + ((eb ? eb[c] : 0) - m) * r * gamma[c];
          }
          silu_back_rows(dz, xb, dxb, k, k + C, HW, C);
          dz = dxb;
        }
        for (int c = 0; c < C; c++) sd[c] = sdx[c] = sx[c] = 0;
        for (int p = 0; p < HW; p++) {
          size_t o = (size_t)p * C;
          for (int c = 0; c < C; c++) {
            double d = dz[o + c];
            sd[c] += d;
            sdx[c] += d * xb[o + c];
          }
          if (eb)
            for (int c = 0; c < C; c++) sx[c] += xb[o + c];
        }
        if (eb)
          for (int c = 0; c < C; c++) sdx[c] += eb[c] * sd[c];
        for (int g = 0; g < G; g++) {
          double m = mean[b * G + g], r = rstd[b * G + g], m1 = 0, m2 = 0;
          for (int j = 0; j < cg; j++) {
            int c = g * cg + j;
            double sxh = r * (sdx[c] - m * sd[c]);  // Σ dz·x̂ over the image, channel c
            dg[c] += sxh;
            db[c] += sd[c];
            m1 += gamma[c] * sd[c];
            m2 += gamma[c] * sxh;
            k[2 * C + c] = (float)(r * gamma[c]);
          }
          m1 /= cnt;
          m2 /= cnt;
          // dx = r·(γ dz − m1 − (x − m)·r·m2) = (rγ)·dz + (−r² m2)·x + r·(r m2 m − m1)
          for (int j = 0; j < cg; j++) {
            int c = g * cg + j;
            double k2 = -r * r * m2, k3 = r * (r * m2 * m - m1) + (eb ? k2 * eb[c] : 0);
            k[3 * C + c] = (float)k2;
            k[4 * C + c] = (float)k3;
            if (eb) dE[(size_t)b * C + c] = (float)(r * gamma[c] * sd[c] + k2 * sx[c] + HW * k3);
          }
        }
        const float *k1 = k + 2 * C, *k2 = k + 3 * C, *k3 = k + 4 * C;
        for (int p = 0; p < HW; p++) {
          size_t o = (size_t)p * C;
          for (int c = 0; c < C; c++) dxb[o + c] = k1[c] * dz[o + c] + k2[c] * xb[o + c] + k3[c];
        }
      }
#pragma omp critical
      for (int c = 0; c < 2 * C; c++) total[c] += acc[c];
    }
    free(acc);
    free(k);
  }
  for (int c = 0; c < C; c++) {
    dG[c] = (float)total[c];
    dB[c] = (float)total[C + c];
  }
  free(total);
  if (failed) napi_throw_error(env, NULL, "groupnorm_grad: out of memory");
  return NULL;
}

// split_last(X, rows, widths[], outs[]): splits [rows, Σwidths] along its last axis (concat's gradient).
static napi_value split_last(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value a[3];
  CHECK(env, napi_get_cb_info(env, info, &argc, a, NULL, NULL));
  float* X;
  size_t lx;
  int rows;
  uint32_t k;
  if (argc != 3 || !get_f32(env, a[0], &X, &lx) || !get_i32(env, a[1], &rows)) return NULL;
  CHECK(env, napi_get_array_length(env, a[2], &k));
  float* outs[16];
  size_t widths[16], total = 0;
  if (k < 1 || k > 16 || rows < 1) {
    napi_throw_range_error(env, NULL, "split_last: 1..16 outputs and rows ≥ 1");
    return NULL;
  }
  for (uint32_t i = 0; i < k; i++) {
    size_t lo;
    if (!get_f32_at(env, a[2], i, &outs[i], &lo)) return NULL;
    widths[i] = lo / rows;
    total += widths[i];
    if (lo % rows) {
      napi_throw_range_error(env, NULL, "split_last: output size not a multiple of rows");
      return NULL;
    }
  }
  if (total * rows != lx) {
    napi_throw_range_error(env, NULL, "split_last: widths do not add up");
    return NULL;
  }
  for (int r = 0; r < rows; r++) {
    const float* src = X + (size_t)r * total;
    for (uint32_t i = 0; i < k; i++) {
      memcpy(outs[i] + (size_t)r * widths[i], src, sizeof(float) * widths[i]);
      src += widths[i];
    }
  }
  return NULL;
}

// fmaPeak(iterations, reps) → { gflops, threads }: the machine's measured fp32 FMA peak (fma_peak.h).
static napi_value fma_peak(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value a[2], obj, v;
  CHECK(env, napi_get_cb_info(env, info, &argc, a, NULL, NULL));
  int iters = 20000000, reps = 3;
  if (argc >= 1 && !get_i32(env, a[0], &iters)) return NULL;
  if (argc >= 2 && !get_i32(env, a[1], &reps)) return NULL;
  if (iters < 1 || reps < 1) {
    napi_throw_range_error(env, NULL, "fmaPeak: iterations and reps must be ≥ 1");
    return NULL;
  }
  int threads = 1;
  double g = fma_peak_gflops(iters, reps, &threads);
  CHECK(env, napi_create_object(env, &obj));
  CHECK(env, napi_create_double(env, g, &v));
  CHECK(env, napi_set_named_property(env, obj, "gflops", v));
  CHECK(env, napi_create_int32(env, threads, &v));
  CHECK(env, napi_set_named_property(env, obj, "threads", v));
  return obj;
}

static napi_value config(napi_env env, napi_callback_info info) {
  napi_value obj, v;
  CHECK(env, napi_create_object(env, &obj));
  CHECK(env, napi_create_string_utf8(env, conv_engine() ? "oneDNN" : "BLAS", NAPI_AUTO_LENGTH, &v));
  CHECK(env, napi_set_named_property(env, obj, "conv", v));
#ifdef SFD_DNNL
  CHECK(env, napi_create_int64(env, dnnl_conv_calls(), &v));
#else
  CHECK(env, napi_create_int64(env, 0, &v));
#endif
  CHECK(env, napi_set_named_property(env, obj, "dnnlCalls", v));
#ifdef SFD_ACCELERATE
  CHECK(env, napi_create_string_utf8(env, "Accelerate", NAPI_AUTO_LENGTH, &v));
  CHECK(env, napi_set_named_property(env, obj, "blas", v));
  return obj;
#else
  CHECK(env, napi_create_string_utf8(env, openblas_get_config(), NAPI_AUTO_LENGTH, &v));
  CHECK(env, napi_set_named_property(env, obj, "blas", v));
  CHECK(env, napi_create_string_utf8(env, openblas_get_corename(), NAPI_AUTO_LENGTH, &v));
  CHECK(env, napi_set_named_property(env, obj, "core", v));
  CHECK(env, napi_create_int32(env, openblas_get_num_threads(), &v));
  CHECK(env, napi_set_named_property(env, obj, "threads", v));
  return obj;
#endif
}

static napi_value init(napi_env env, napi_value exports) {
#ifdef ONE_POOL
  // see gemm(); only the pthread build has threads of its own (an OpenMP build runs on OpenMP's, and its
  // setter would cap OpenMP itself at one thread)
  if (openblas_get_parallel() == 1) openblas_set_num_threads(1);
#endif
  napi_property_descriptor props[] = {
      {"sgemm", NULL, sgemm, NULL, NULL, NULL, napi_default, NULL},
      {"sgemmBatch", NULL, sgemm_batch, NULL, NULL, NULL, napi_default, NULL},
      {"fmaPeak", NULL, fma_peak, NULL, NULL, NULL, napi_default, NULL},
      {"conv2d", NULL, conv2d, NULL, NULL, NULL, napi_default, NULL},
      {"config", NULL, config, NULL, NULL, NULL, napi_default, NULL},
      {"binary", NULL, binary, NULL, NULL, NULL, napi_default, NULL},
      {"unary", NULL, unary, NULL, NULL, NULL, napi_default, NULL},
      {"sum", NULL, sum, NULL, NULL, NULL, napi_default, NULL},
      {"groupnorm", NULL, groupnorm, NULL, NULL, NULL, napi_default, NULL},
      {"groupnormGrad", NULL, groupnorm_grad, NULL, NULL, NULL, napi_default, NULL},
      {"splitLast", NULL, split_last, NULL, NULL, NULL, napi_default, NULL},
      {"siluGrad", NULL, silu_grad, NULL, NULL, NULL, napi_default, NULL},
      {"concatLast", NULL, concat_last, NULL, NULL, NULL, napi_default, NULL},
      {"softmax", NULL, softmax, NULL, NULL, NULL, napi_default, NULL},
      {"topk", NULL, topk, NULL, NULL, NULL, napi_default, NULL},
      {"upsample", NULL, upsample, NULL, NULL, NULL, napi_default, NULL},
      {"adam", NULL, adam, NULL, NULL, NULL, napi_default, NULL},
      {"ema", NULL, ema, NULL, NULL, NULL, napi_default, NULL},
      {"addScale", NULL, add_scale, NULL, NULL, NULL, napi_default, NULL},
      {"addN", NULL, add_n, NULL, NULL, NULL, napi_default, NULL},
      {"nonFinite", NULL, non_finite, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
