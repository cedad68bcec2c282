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
#include <stdlib.h>
#include <string.h>

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
  size_t needA = ta ? (size_t)(K - 1) * lda + M : (size_t)(M - 1) * lda + K;
  size_t needB = tb ? (size_t)(N - 1) * ldb + K : (size_t)(K - 1) * ldb + N;
  size_t needC = (size_t)(M - 1) * ldc + N;
  if (M <= 0 || N <= 0 || K <= 0 || la < needA || lb < needB || lc < needC) {
    napi_throw_range_error(env, NULL, "sgemm: sizes do not fit the buffers");
    return NULL;
  }
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N, K, (float)alpha, A,
              lda, B, ldb, (float)beta, C, ldc);
  return NULL;
}

// Grow-only scratch buffers reused across calls: fresh multi-MB mallocs cost a page fault per 4 KB on
// every convolution, which measured as much as the GEMMs themselves.
static float* scratch_buf[2];
static size_t scratch_len[2];
static float* scratch(int slot, size_t n) {
  if (scratch_len[slot] < n) {
    free(scratch_buf[slot]);
    scratch_buf[slot] = (float*)malloc(sizeof(float) * n);
    scratch_len[slot] = scratch_buf[slot] ? n : 0;
  }
  return scratch_buf[slot];
}

typedef struct {
  int batch, inH, inW, inC, outH, outW, outC, fH, fW, sH, sW, dH, dW, padT, padL;
} ConvGeom;

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

static int is_pointwise(const ConvGeom* g) {
  return g->fH == 1 && g->fW == 1 && g->sH == 1 && g->sW == 1 && g->padT == 0 && g->padL == 0;
}


// Stride-1 convolutions without im2col. With the input zero-padded to Hp×Wp (Hp = outH + (fH−1)·dH), output
// pixel (b, oh, ow) sits at padded row p = (b·Hp + oh)·Wp + ow, and filter tap (kh, kw) reads padded row
// p + kh·dH·Wp + kw·dW. So each tap is ONE GEMM over the whole batch, with the input pointer shifted by the
// tap's offset; rows with oh ≥ outH or ow ≥ outW are scratch. 9 GEMMs replace a 9× larger im2col copy.
static int conv_stride1_chunk(const ConvGeom* g, int kind, const float* P, const float* Q, float* O, float dwBeta) {
  int Hp = g->outH + (g->fH - 1) * g->dH, Wp = g->outW + (g->fW - 1) * g->dW;
  size_t rowsAll = (size_t)g->batch * Hp * Wp;
  size_t maxOff = (size_t)(g->fH - 1) * g->dH * Wp + (size_t)(g->fW - 1) * g->dW;
  int M = (int)(rowsAll - maxOff);
  int C = g->inC, F = g->outC;
  float* xp = scratch(0, rowsAll * C);  // padded input (or its gradient)
  float* yp = scratch(1, rowsAll * F);  // output (or dy) in padded row layout
  if (!xp || !yp) return 0;
  memset(xp, 0, sizeof(float) * rowsAll * C);
  memset(yp, 0, sizeof(float) * rowsAll * F);
  // copies between an unpadded [B,h,w,c] tensor and a padded-row buffer; offset (top, left) into the padding
#define FOR_PIXELS(h, w)                 \
  for (int b = 0; b < g->batch; b++)     \
    for (int i = 0; i < (h); i++)        \
      for (int j = 0; j < (w); j++)
  if (kind != 1) {  // forward and dW read x
    FOR_PIXELS(g->inH, g->inW) {
      int pi = i + g->padT, pj = j + g->padL;
      if (pi >= Hp || pj >= Wp) continue;
      memcpy(xp + (((size_t)b * Hp + pi) * Wp + pj) * C, P + (((size_t)b * g->inH + i) * g->inW + j) * C, sizeof(float) * C);
    }
  }
  if (kind != 0) {  // dx and dW read dy
    const float* dy = kind == 1 ? P : Q;
    FOR_PIXELS(g->outH, g->outW) {
      memcpy(yp + (((size_t)b * Hp + i) * Wp + j) * F, dy + (((size_t)b * g->outH + i) * g->outW + j) * F, sizeof(float) * F);
    }
  }
  for (int kh = 0; kh < g->fH; kh++)
    for (int kw = 0; kw < g->fW; kw++) {
      size_t off = (size_t)kh * g->dH * Wp + (size_t)kw * g->dW;
      const float* W = Q;
      size_t tap = ((size_t)kh * g->fW + kw) * C * F;
      if (kind == 0)  // y += x_shift · W_tap
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, F, C, 1.f, xp + off * C, C, W + tap, F, 1.f, yp, F);
      else if (kind == 1)  // dx_shift += dy · W_tapᵀ
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, C, F, 1.f, yp, F, W + tap, F, 1.f, xp + off * C, C);
      else  // dW_tap = x_shiftᵀ · dy
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, C, F, M, 1.f, xp + off * C, C, yp, F, dwBeta, O + tap, F);
    }
  if (kind == 0) {
    FOR_PIXELS(g->outH, g->outW) {
      memcpy(O + (((size_t)b * g->outH + i) * g->outW + j) * F, yp + (((size_t)b * Hp + i) * Wp + j) * F, sizeof(float) * F);
    }
  } else if (kind == 1) {
    FOR_PIXELS(g->inH, g->inW) {
      int pi = i + g->padT, pj = j + g->padL;
      float* dst = O + (((size_t)b * g->inH + i) * g->inW + j) * C;
      if (pi >= Hp || pj >= Wp)
        memset(dst, 0, sizeof(float) * C);  // never read by any output pixel
      else
        memcpy(dst, xp + (((size_t)b * Hp + pi) * Wp + pj) * C, sizeof(float) * C);
    }
  }
#undef FOR_PIXELS
  return 1;
}

// Runs the stride-1 path on chunks of images, so its buffers stay a few MB (cache- and TLB-friendly).
static int conv_stride1(const ConvGeom* g, int kind, const float* P, const float* Q, float* O) {
  size_t perImage = (size_t)(g->outH + (g->fH - 1) * g->dH) * (g->outW + (g->fW - 1) * g->dW) * (g->inC + g->outC);
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

// op(geom..., kind, P, Q, OUT): kind 0 = forward (P=x, Q=filter, OUT=y), 1 = dx (P=dy, Q=filter, OUT=dx),
// 2 = dW (P=x, Q=dy, OUT=dW). Shapes: x [B,inH,inW,inC], filter [fH,fW,inC,outC], y/dy [B,outH,outW,outC].
static napi_value conv2d(napi_env env, napi_callback_info info) {
  size_t argc = 19;
  napi_value a[19];
  CHECK(env, napi_get_cb_info(env, info, &argc, a, NULL, NULL));
  if (argc != 19) {
    napi_throw_error(env, NULL, "conv2d: expected 19 arguments");
    return NULL;
  }
  ConvGeom g;
  int kind;
  float *P, *Q, *O;
  size_t lp, lq, lo;
  if (!get_geom(env, a, &g) || !get_i32(env, a[15], &kind) || !get_f32(env, a[16], &P, &lp) ||
      !get_f32(env, a[17], &Q, &lq) || !get_f32(env, a[18], &O, &lo))
    return NULL;
  size_t nx = (size_t)g.batch * g.inH * g.inW * g.inC, nw = (size_t)g.fH * g.fW * g.inC * g.outC;
  size_t ny = (size_t)g.batch * g.outH * g.outW * g.outC;
  size_t sizes[3][3] = {{nx, nw, ny}, {ny, nw, nx}, {nx, ny, nw}};
  if (kind < 0 || kind > 2 || lp != sizes[kind][0] || lq != sizes[kind][1] || lo != sizes[kind][2]) {
    napi_throw_range_error(env, NULL, "conv2d: buffer sizes do not match the geometry");
    return NULL;
  }
  if (g.sH == 1 && g.sW == 1 && !(g.fH == 1 && g.fW == 1 && g.padT == 0 && g.padL == 0)) {
    if (!conv_stride1(&g, kind, P, Q, O)) napi_throw_error(env, NULL, "conv2d: out of memory");
    return NULL;
  }
  int K = g.fH * g.fW * g.inC, spatial = g.outH * g.outW;
  int pointwise = is_pointwise(&g);  // 1×1 stride-1 convs need no im2col: x already is the column matrix
  int chunk = chunk_images(&g);
  float* col = pointwise ? NULL : scratch(0, (size_t)chunk * spatial * K);
  if (!pointwise && !col) {
    napi_throw_error(env, NULL, "conv2d: out of memory for im2col");
    return NULL;
  }
  if (kind == 1) memset(O, 0, sizeof(float) * nx);
  for (int b0 = 0; b0 < g.batch; b0 += chunk) {
    int nb = g.batch - b0 < chunk ? g.batch - b0 : chunk;
    int rows = nb * spatial;
    size_t xoff = (size_t)b0 * g.inH * g.inW * g.inC, yoff = (size_t)b0 * spatial * g.outC;
    if (kind == 0) {
      const float* c = pointwise ? P + xoff : col;
      if (!pointwise) im2col(&g, P, b0, nb, col);
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, g.outC, K, 1.f, c, K, Q, g.outC, 0.f, O + yoff, g.outC);
    } else if (kind == 1) {
      float* c = pointwise ? O + xoff : col;  // dcol = dy · Wᵀ
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, K, g.outC, 1.f, P + yoff, g.outC, Q, g.outC, 0.f, c, K);
      if (!pointwise) col2im_add(&g, col, b0, nb, O);
    } else {
      const float* c = pointwise ? P + xoff : col;  // dW += colᵀ · dy
      if (!pointwise) im2col(&g, P, b0, nb, col);
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, g.outC, rows, 1.f, c, K, Q + yoff, g.outC, b0 ? 1.f : 0.f, O,
                  g.outC);
    }
  }
  return NULL;
}


// binary(op, mode, A, B, OUT): op 0 add, 1 sub, 2 mul, 3 div. mode 0: equal sizes; 1: B repeats along OUT
// (out[i] = a[i] op b[i % |B|]); 2: A repeats. The tfjs backend picks the mode from the shapes.
static napi_value binary(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value a[5];
  CHECK(env, napi_get_cb_info(env, info, &argc, a, NULL, NULL));
  int op, mode;
  float *A, *B, *O;
  size_t la, lb, lo;
  if (argc != 5 || !get_i32(env, a[0], &op) || !get_i32(env, a[1], &mode) || !get_f32(env, a[2], &A, &la) ||
      !get_f32(env, a[3], &B, &lb) || !get_f32(env, a[4], &O, &lo))
    return NULL;
  int ok = (mode == 0 && la == lo && lb == lo) || (mode == 1 && la == lo && lb > 0 && lo % lb == 0) ||
           (mode == 2 && lb == lo && la > 0 && lo % la == 0);
  if (!ok || op < 0 || op > 3) {
    napi_throw_range_error(env, NULL, "binary: sizes do not match the mode");
    return NULL;
  }
  size_t period = mode == 1 ? lb : mode == 2 ? la : lo;
  for (size_t base = 0; base < lo; base += period) {
    const float* x = mode == 2 ? A : A + base;
    const float* y = mode == 1 ? B : B + base;
    float* z = O + base;
    switch (op) {
      case 0: for (size_t i = 0; i < period; i++) z[i] = x[i] + y[i]; break;
      case 1: for (size_t i = 0; i < period; i++) z[i] = x[i] - y[i]; break;
      case 2: for (size_t i = 0; i < period; i++) z[i] = x[i] * y[i]; break;
      default: for (size_t i = 0; i < period; i++) z[i] = x[i] / y[i]; break;
    }
  }
  return NULL;
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
  if (op == 0)
    for (size_t i = 0; i < lx; i++) O[i] = 1.f / (1.f + expf(-X[i]));
  else
    for (size_t i = 0; i < lx; i++) O[i] = X[i] / (1.f + expf(-X[i]));
  return NULL;
}

// sum(mode, outer, inner, X, OUT) over X viewed as [outer, inner]: mode 0 sums the outer axis (OUT has
// inner entries, e.g. a bias gradient), mode 1 the inner axis (OUT has outer entries). Accumulates in double.
static napi_value sum(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value a[5];
  CHECK(env, napi_get_cb_info(env, info, &argc, a, NULL, NULL));
  int mode, outer, inner;
  float *X, *O;
  size_t lx, lo;
  if (argc != 5 || !get_i32(env, a[0], &mode) || !get_i32(env, a[1], &outer) || !get_i32(env, a[2], &inner) ||
      !get_f32(env, a[3], &X, &lx) || !get_f32(env, a[4], &O, &lo))
    return NULL;
  if (outer < 1 || inner < 1 || lx != (size_t)outer * inner || lo != (size_t)(mode == 0 ? inner : outer)) {
    napi_throw_range_error(env, NULL, "sum: sizes do not match");
    return NULL;
  }
  if (mode == 0) {
    double* acc = (double*)calloc(inner, sizeof(double));
    if (!acc) {
      napi_throw_error(env, NULL, "sum: out of memory");
      return NULL;
    }
    for (int o = 0; o < outer; o++) {
      const float* row = X + (size_t)o * inner;
      for (int i = 0; i < inner; i++) acc[i] += row[i];
    }
    for (int i = 0; i < inner; i++) O[i] = (float)acc[i];
    free(acc);
  } else {
    for (int o = 0; o < outer; o++) {
      const float* row = X + (size_t)o * inner;
      double acc = 0;
      for (int i = 0; i < inner; i++) acc += row[i];
      O[o] = (float)acc;
    }
  }
  return NULL;
}

static napi_value config(napi_env env, napi_callback_info info) {
  napi_value obj, v;
  CHECK(env, napi_create_object(env, &obj));
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
  napi_property_descriptor props[] = {
      {"sgemm", NULL, sgemm, NULL, NULL, NULL, napi_default, NULL},
      {"conv2d", NULL, conv2d, NULL, NULL, NULL, napi_default, NULL},
      {"config", NULL, config, NULL, NULL, NULL, napi_default, NULL},
      {"binary", NULL, binary, NULL, NULL, NULL, napi_default, NULL},
      {"unary", NULL, unary, NULL, NULL, NULL, napi_default, NULL},
      {"sum", NULL, sum, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, 6, props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
