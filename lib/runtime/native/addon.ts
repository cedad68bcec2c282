import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../paths';

/** The BLAS addon built from native/sfd_native.c by `npm ci` (scripts/build-native.js). */
export interface NativeAddon {
  /** Row-major C = alpha·op(A)·op(B) + beta·C (cblas_sgemm). */
  sgemm(
    transA: number,
    transB: number,
    m: number,
    n: number,
    k: number,
    alpha: number,
    a: Float32Array,
    lda: number,
    b: Float32Array,
    ldb: number,
    beta: number,
    c: Float32Array,
    ldc: number,
  ): void;
  /**
   * C_i = op(A_i)·op(B_i) for i < batch, A_i starting at i·strideA (0: one matrix for the whole batch), C dense
   * [batch, m, n]; split over the batch on OpenMP's threads.
   */
  sgemmBatch(
    transA: number,
    transB: number,
    m: number,
    n: number,
    k: number,
    batch: number,
    a: Float32Array,
    strideA: number,
    b: Float32Array,
    strideB: number,
    c: Float32Array,
  ): void;
  /** The machine's measured fp32 FMA peak: register-resident vector FMA chains on every OpenMP thread. */
  fmaPeak(iterations?: number, reps?: number): { gflops: number; threads: number };
  /**
   * NHWC convolution (oneDNN, or GEMMs over the BLAS); kind 0 forward, 1 input gradient, 2 filter gradient
   * (see native/). A bias ([outC], forward only) is added to the output. filterId (kinds 0, 1; > 0) names the
   * filter's contents: oneDNN's reordered copy of it is then reused while that id comes back.
   */
  conv2d(
    ...args: [...geometry: number[], kind: number, p: Float32Array, q: Float32Array, out: Float32Array]
  ): void;
  conv2d(
    ...args: [
      ...geometry: number[],
      kind: 0 | 1,
      p: Float32Array,
      filter: Float32Array,
      out: Float32Array,
      bias: Float32Array | null,
    ]
  ): void;
  conv2d(
    ...args: [
      ...geometry: number[],
      kind: 0 | 1,
      p: Float32Array,
      filter: Float32Array,
      out: Float32Array,
      bias: Float32Array | null,
      filterId: number,
    ]
  ): void;
  /**
   * out = a op b (op 0 add, 1 sub, 2 mul, 3 div), out viewed as [outer, mid, inner]: mode 0 both full,
   * 1 b is [outer, 1, inner], 2 a is.
   */
  binary(
    op: number,
    mode: number,
    mid: number,
    inner: number,
    a: Float32Array,
    b: Float32Array,
    out: Float32Array,
  ): void;
  /** op 0 sigmoid, 1 SiLU. */
  unary(op: number, x: Float32Array, out: Float32Array): void;
  /** One Adam update: writes p2, m2, v2 (see lib/train/adam.ts for the formula). */
  adam(
    step: number,
    beta1: number,
    beta2: number,
    epsilon: number,
    c2: number,
    p: Float32Array,
    m: Float32Array,
    v: Float32Array,
    g: Float32Array,
    p2: Float32Array,
    m2: Float32Array,
    v2: Float32Array,
  ): void;
  /** out = (a + b)·scale. */
  addScale(scale: number, a: Float32Array, b: Float32Array, out: Float32Array): void;
  /** out = 0 + a₀ + a₁ + … in float, left to right (tfjs's AddN order); every input as long as out. */
  addN(inputs: Float32Array[], out: Float32Array): void;
  /** How many elements of the arrays are NaN or ±∞. */
  nonFinite(arrays: Float32Array[]): number;
  /** out = p + beta·(e − p): one EMA update. */
  ema(beta: number, e: Float32Array, p: Float32Array, out: Float32Array): void;
  /**
   * Per row of n values, the k largest in descending order (equal values by lower index) and their indices;
   * false, with nothing promised about the outputs, when a row holds NaN.
   */
  topk(n: number, k: number, x: Float32Array, values: Float32Array, indices: Int32Array): boolean;
  /** Softmax over rows of n values. */
  softmax(n: number, x: Float32Array, out: Float32Array): void;
  /** Nearest-neighbour upsampling of NHWC [b,h,w,c] by integer factors; grad 1 maps dy to dx (block sums). */
  upsample(
    b: number,
    h: number,
    w: number,
    c: number,
    kh: number,
    kw: number,
    grad: number,
    input: Float32Array,
    out: Float32Array,
  ): void;
  /** Sum of x viewed as [outer, mid, inner] over mid, into [outer, inner], accumulated in double. */
  sum(outer: number, mid: number, inner: number, x: Float32Array, out: Float32Array): void;
  /**
   * GroupNorm of x [b, hw, c] (plus `shift` [b, c] when given) in g groups; `stats` receives b·g means then
   * b·g reciprocal stds.
   */
  groupnorm(
    b: number,
    hw: number,
    c: number,
    g: number,
    eps: number,
    x: Float32Array,
    gamma: Float32Array,
    beta: Float32Array,
    y: Float32Array,
    stats: Float32Array,
    /** 1: the output is SiLU of the normalised x. */
    silu: number,
    /** Added to each image's channels before the norm (a residual block's embedding). */
    shift?: Float32Array | null,
  ): void;
  /** With the forward's `shift`, also its gradient `dshift` [b, c] (both or neither). */
  groupnormGrad(
    b: number,
    hw: number,
    c: number,
    g: number,
    dy: Float32Array,
    x: Float32Array,
    gamma: Float32Array,
    beta: Float32Array,
    stats: Float32Array,
    dx: Float32Array,
    dgamma: Float32Array,
    dbeta: Float32Array,
    /** 1: the forward was the fused GroupNorm + SiLU. */
    silu: number,
    shift?: Float32Array | null,
    dshift?: Float32Array | null,
  ): void;
  /** Splits [rows, Σ widths] along its last axis into the given outputs. */
  splitLast(x: Float32Array, rows: number, outs: Float32Array[]): void;
  /** dx = dy · d/dx(x·σ(x)). */
  siluGrad(dy: Float32Array, x: Float32Array, dx: Float32Array): void;
  /** Concatenates inputs [rows, w_i] along their last axis into out [rows, Σ w_i]. */
  concatLast(inputs: Float32Array[], rows: number, out: Float32Array): void;
  /** conv: the convolution engine in use; dnnlCalls: convolutions oneDNN has run in this process. */
  config(): { blas: string; conv: string; dnnlCalls: number; core?: string; threads?: number };
}

let cached: { addon: NativeAddon | null; reason?: string } | null = null;

/** Loads the addon once; null with the reason when it was not built or cannot load here. */
export function loadAddon(): { addon: NativeAddon | null; reason?: string } {
  if (cached) return cached;
  try {
    const path = join(repoRoot(__dirname), 'build', 'Release', 'sfd_native.node');
    if (!existsSync(path))
      throw new Error('native addon not built (npm ci builds it; needs libopenblas-dev)');
    // OpenMP's threads wait as libgomp does by default (spin briefly, then sleep). Passive waiting was
    // needed while OpenBLAS ran threads of its own beside them; now the addon runs every kernel, products
    // included, on OpenMP's one pool (native/sfd_native.c, gemm()), and waking sleeping threads for each
    // small kernel cost a quarter of the SFD iteration (MNIST teacher, batch 16: 443–513 ms passive,
    // 362–396 ms by default; ACTIVE 367–381, not better). A user's own OMP_WAIT_POLICY still applies.
    cached = { addon: require(path) as NativeAddon };
  } catch (e) {
    cached = { addon: null, reason: e instanceof Error ? e.message.split('\n')[0] : String(e) };
  }
  return cached;
}
