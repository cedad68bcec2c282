// Convolutions through oneDNN (Debian's libdnnl): JIT-compiled direct convolutions for the machine's vector
// units, forward and both gradients, on tfjs's own NHWC buffers (no copies of the activations). Filters are
// reordered to the layout the primitive prefers (they are small). Creating a primitive compiles code, so
// primitives are cached by geometry and kind.
#include <oneapi/dnnl/dnnl.h>
#include <stdlib.h>
#include <string.h>

#include "conv_geom.h"

// Reordered filters kept per entry, by the caller's id for the filter's contents (a tensor's data never
// changes while it lives, and ids are never reused): a teacher's frozen filters, used by every one of its
// calls in an iteration, are reordered once. Several filters share a geometry (the UNet's blocks, teacher
// and student), so each entry keeps a few, least recently used out first. A filter is kept only when its
// id comes back (a student's filters change with every update and would only push the teacher's out).
#define WSLOTS 8
#define SEEN 8
typedef struct {
  double id;  // 0: empty
  long used;  // when it last served a call
  dnnl_memory_t mem;
  void* buf;
} WSlot;

typedef struct {
  ConvGeom g;
  int kind;
  dnnl_primitive_t conv;
  dnnl_primitive_t reorder;  // filters hwio → the primitive's layout (kinds 0, 1) or back (kind 2); NULL if same
  dnnl_memory_t act0, act1, wUser, wPrim;  // kinds 0, 3: act0 = x, act1 = y; 1: dy, dx; 2: x, dy
  dnnl_memory_t bias;                      // kind 3 (forward with a per-channel bias) only
  void* wBuf;                              // the reordered filters (NULL without a reorder)
  const dnnl_memory_desc_t* wPrimMd;       // their layout (owned by the primitive's descriptor copy below)
  dnnl_memory_desc_t wPrimMdCopy;
  WSlot slots[WSLOTS];                     // kinds 0, 1, 3: reordered filters by id
  double seen[SEEN];                       // ids reordered once, not kept (yet)
  int nextSeen;
  long clock;                              // calls served, for least recently used
} Entry;

#define CACHE 96
static Entry cache[CACHE];
static int used, nextSlot;
static dnnl_engine_t engine;
static dnnl_stream_t stream;
static int broken;  // oneDNN could not start: every call falls back
static long dnnl_calls;  // convolutions oneDNN has run (the tests check that it really runs)

static void release(Entry* e) {
  if (e->conv) dnnl_primitive_destroy(e->conv);
  if (e->reorder) dnnl_primitive_destroy(e->reorder);
  dnnl_memory_t ms[5] = {e->act0, e->act1, e->wUser, e->wPrim, e->bias};
  for (int i = 0; i < 5; i++)
    if (ms[i]) dnnl_memory_destroy(ms[i]);
  free(e->wBuf);
  for (int i = 0; i < WSLOTS; i++) {
    if (e->slots[i].mem) dnnl_memory_destroy(e->slots[i].mem);
    free(e->slots[i].buf);
  }
  memset(e, 0, sizeof(*e));
}

// Bottom/right padding that gives tfjs's output size; 0 when negative (a stride that skips the last rows:
// left to the BLAS path).
static int right_padding(const ConvGeom* g, dnnl_dims_t padR) {
  padR[0] = (dnnl_dim_t)(g->outH - 1) * g->sH + (dnnl_dim_t)(g->fH - 1) * g->dH + 1 - g->inH - g->padT;
  padR[1] = (dnnl_dim_t)(g->outW - 1) * g->sW + (dnnl_dim_t)(g->fW - 1) * g->dW + 1 - g->inW - g->padL;
  return padR[0] >= 0 && padR[1] >= 0;
}

// kind: 0 forward, 1 input gradient, 2 filter gradient, 3 forward with the bias added by the primitive
// (saves a pass over the output).
static int build(Entry* e, const ConvGeom* g, int kind) {
  memset(e, 0, sizeof(*e));
  e->g = *g;
  e->kind = kind;
  dnnl_dims_t src = {g->batch, g->inC, g->inH, g->inW}, dst = {g->batch, g->outC, g->outH, g->outW};
  dnnl_dims_t wts = {g->outC, g->inC, g->fH, g->fW}, bias = {g->outC};
  dnnl_dims_t strides = {g->sH, g->sW}, dil = {g->dH - 1, g->dW - 1}, padL = {g->padT, g->padL};
  dnnl_dims_t padR;
  right_padding(g, padR);
  dnnl_memory_desc_t srcMd, dstMd, wAny, wUserMd, biasMd;
  if (dnnl_memory_desc_init_by_tag(&srcMd, 4, src, dnnl_f32, dnnl_nhwc) ||
      dnnl_memory_desc_init_by_tag(&biasMd, 1, bias, dnnl_f32, dnnl_a) ||
      dnnl_memory_desc_init_by_tag(&dstMd, 4, dst, dnnl_f32, dnnl_nhwc) ||
      dnnl_memory_desc_init_by_tag(&wAny, 4, wts, dnnl_f32, dnnl_format_tag_any) ||
      dnnl_memory_desc_init_by_tag(&wUserMd, 4, wts, dnnl_f32, dnnl_hwio))
    return 0;
  dnnl_convolution_desc_t fd, cd;
  dnnl_primitive_desc_t fwd = NULL, pd = NULL;
  int ok = 0;
  if (dnnl_dilated_convolution_forward_desc_init(&fd, dnnl_forward_training, dnnl_convolution_direct, &srcMd, &wAny,
                                                 kind == 3 ? &biasMd : NULL, &dstMd, strides, dil, padL, padR) ||
      dnnl_primitive_desc_create(&fwd, &fd, NULL, engine, NULL))
    goto done;
  if (kind == 0 || kind == 3) {
    pd = fwd;
    fwd = NULL;
  } else if (kind == 1) {
    if (dnnl_dilated_convolution_backward_data_desc_init(&cd, dnnl_convolution_direct, &srcMd, &wAny, &dstMd, strides,
                                                         dil, padL, padR) ||
        dnnl_primitive_desc_create(&pd, &cd, NULL, engine, fwd))
      goto done;
  } else {
    if (dnnl_dilated_convolution_backward_weights_desc_init(&cd, dnnl_convolution_direct, &srcMd, &wAny, NULL, &dstMd,
                                                            strides, dil, padL, padR) ||
        dnnl_primitive_desc_create(&pd, &cd, NULL, engine, fwd))
      goto done;
  }
  const dnnl_memory_desc_t* wPrimMd = dnnl_primitive_desc_query_md(pd, kind == 2 ? dnnl_query_diff_weights_md : dnnl_query_weights_md, 0);
  if (!wPrimMd || dnnl_primitive_create(&e->conv, pd)) goto done;
  // memory objects over caller buffers: their handles are set at each call
  const dnnl_memory_desc_t* a0 = kind == 1 ? &dstMd : &srcMd;
  const dnnl_memory_desc_t* a1 = kind == 1 ? &srcMd : &dstMd;
  if ((kind == 3 && dnnl_memory_create(&e->bias, &biasMd, engine, DNNL_MEMORY_NONE)) ||
      dnnl_memory_create(&e->act0, a0, engine, DNNL_MEMORY_NONE) ||
      dnnl_memory_create(&e->act1, a1, engine, DNNL_MEMORY_NONE) ||
      dnnl_memory_create(&e->wUser, &wUserMd, engine, DNNL_MEMORY_NONE))
    goto done;
  if (!dnnl_memory_desc_equal(wPrimMd, &wUserMd)) {
    dnnl_primitive_desc_t rpd = NULL;
    e->wPrimMdCopy = *wPrimMd;
    e->wPrimMd = &e->wPrimMdCopy;
    e->wBuf = malloc(dnnl_memory_desc_get_size(wPrimMd));
    if (!e->wBuf || dnnl_memory_create(&e->wPrim, wPrimMd, engine, e->wBuf)) goto done;
    int bad = kind == 2 ? dnnl_reorder_primitive_desc_create(&rpd, wPrimMd, engine, &wUserMd, engine, NULL)
                        : dnnl_reorder_primitive_desc_create(&rpd, &wUserMd, engine, wPrimMd, engine, NULL);
    if (bad) goto done;
    bad = dnnl_primitive_create(&e->reorder, rpd);
    dnnl_primitive_desc_destroy(rpd);
    if (bad) goto done;
  }
  ok = 1;
done:
  if (fwd) dnnl_primitive_desc_destroy(fwd);
  if (pd) dnnl_primitive_desc_destroy(pd);
  if (!ok) release(e);
  return ok;
}

static Entry* lookup(const ConvGeom* g, int kind) {
  for (int i = 0; i < used; i++)
    if (cache[i].kind == kind && !memcmp(&cache[i].g, g, sizeof(*g))) return &cache[i];
  dnnl_dims_t padR;
  if (!right_padding(g, padR)) return NULL;  // checked before anything is evicted for it
  Entry* e;
  if (used < CACHE) {
    e = &cache[used];
    if (!build(e, g, kind)) return NULL;
    used++;
  } else {  // full: replace entries round-robin
    e = &cache[nextSlot];
    nextSlot = (nextSlot + 1) % CACHE;
    release(e);
    if (!build(e, g, kind)) return NULL;
  }
  return e;
}

static int exec(dnnl_primitive_t p, int n, const dnnl_exec_arg_t* args) {
  return dnnl_primitive_execute(p, stream, n, args) == dnnl_success;
}

// The filters in the primitive's layout for kinds 0 and 1: from a slot when this id was kept, else
// reordered now: into a slot (the least recently used) when the id was seen before, else into the entry's
// own buffer. NULL when a oneDNN call failed.
static dnnl_memory_t reordered_filters(Entry* e, double id) {
  if (!e->reorder) return e->wUser;
  e->clock++;
  WSlot* s = NULL;
  if (id > 0) {
    for (int i = 0; i < WSLOTS; i++)
      if (e->slots[i].id == id) {
        e->slots[i].used = e->clock;
        return e->slots[i].mem;
      }
    int again = 0;
    for (int i = 0; i < SEEN; i++) again |= e->seen[i] == id;
    if (!again) {
      e->seen[e->nextSeen] = id;
      e->nextSeen = (e->nextSeen + 1) % SEEN;
    } else {
      s = &e->slots[0];
      for (int i = 1; i < WSLOTS; i++)
        if (e->slots[i].used < s->used) s = &e->slots[i];
      if (!s->mem) {
        s->buf = malloc(dnnl_memory_desc_get_size(e->wPrimMd));
        if (!s->buf || dnnl_memory_create(&s->mem, e->wPrimMd, engine, s->buf)) {
          free(s->buf);
          s->buf = NULL;
          s->mem = NULL;
          s = NULL;  // no room: the entry's own buffer
        }
      }
      if (s) s->id = 0;  // valid only once the reorder below has run
    }
  }
  dnnl_memory_t to = s ? s->mem : e->wPrim;
  dnnl_exec_arg_t r[2] = {{DNNL_ARG_FROM, e->wUser}, {DNNL_ARG_TO, to}};
  if (!exec(e->reorder, 2, r)) return NULL;
  if (s) {
    s->id = id;
    s->used = e->clock;
  }
  return to;
}

int dnnl_conv(const ConvGeom* g, int kind, const float* P, const float* Q, const float* bias, float* O,
              double filterId) {
  if (broken) return 0;
  if (!engine) {
    if (dnnl_engine_create(&engine, dnnl_cpu, 0) || dnnl_stream_create(&stream, engine, dnnl_stream_default_flags)) {
      broken = 1;
      return 0;
    }
  }
  if (bias && kind != 0) return 0;
  if (bias) kind = 3;
  Entry* e = lookup(g, kind);
  if (!e) return 0;
  // kind 0: x, filter → y; 1: dy, filter → dx; 2: x, dy → dW
  void* act0 = (void*)P;
  void* act1 = kind == 2 ? (void*)Q : (void*)O;
  void* wUser = kind == 2 ? (void*)O : (void*)Q;
  if (dnnl_memory_set_data_handle(e->act0, act0) || dnnl_memory_set_data_handle(e->act1, act1) ||
      dnnl_memory_set_data_handle(e->wUser, wUser) || (bias && dnnl_memory_set_data_handle(e->bias, (void*)bias)))
    return 0;
  dnnl_memory_t w = e->reorder ? e->wPrim : e->wUser;
  if (kind != 2 && !(w = reordered_filters(e, filterId))) return 0;
  int ok;
  if (kind == 0) {
    dnnl_exec_arg_t a[3] = {{DNNL_ARG_SRC, e->act0}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_DST, e->act1}};
    ok = exec(e->conv, 3, a);
  } else if (kind == 3) {
    dnnl_exec_arg_t a[4] = {
        {DNNL_ARG_SRC, e->act0}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_BIAS, e->bias}, {DNNL_ARG_DST, e->act1}};
    ok = exec(e->conv, 4, a);
  } else if (kind == 1) {
    dnnl_exec_arg_t a[3] = {{DNNL_ARG_DIFF_DST, e->act0}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_DIFF_SRC, e->act1}};
    ok = exec(e->conv, 3, a);
  } else {
    dnnl_exec_arg_t a[3] = {{DNNL_ARG_SRC, e->act0}, {DNNL_ARG_DIFF_DST, e->act1}, {DNNL_ARG_DIFF_WEIGHTS, w}};
    ok = exec(e->conv, 3, a);
    if (ok && e->reorder) {
      dnnl_exec_arg_t r[2] = {{DNNL_ARG_FROM, e->wPrim}, {DNNL_ARG_TO, e->wUser}};
      ok = exec(e->reorder, 2, r);
    }
  }
  ok = ok && dnnl_stream_wait(stream) == dnnl_success;
  if (ok) dnnl_calls++;
  return ok;
}

long dnnl_conv_calls(void) { return dnnl_calls; }
