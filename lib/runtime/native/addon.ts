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
  /** NHWC convolution by im2col + GEMM; kind 0 forward, 1 input gradient, 2 filter gradient (see native/). */
  conv2d(
    ...args: [...geometry: number[], kind: number, p: Float32Array, q: Float32Array, out: Float32Array]
  ): void;
  /** out = a op b (op 0 add, 1 sub, 2 mul, 3 div); mode 0 equal sizes, 1 b repeats, 2 a repeats. */
  binary(op: number, mode: number, a: Float32Array, b: Float32Array, out: Float32Array): void;
  /** op 0 sigmoid, 1 SiLU. */
  unary(op: number, x: Float32Array, out: Float32Array): void;
  /** Sum of x viewed as [outer, inner] over the outer (mode 0) or inner (mode 1) axis, in double. */
  sum(mode: number, outer: number, inner: number, x: Float32Array, out: Float32Array): void;
  config(): { blas: string; core?: string; threads?: number };
}

let cached: { addon: NativeAddon | null; reason?: string } | null = null;

/** Loads the addon once; null with the reason when it was not built or cannot load here. */
export function loadAddon(): { addon: NativeAddon | null; reason?: string } {
  if (cached) return cached;
  try {
    const path = join(repoRoot(__dirname), 'build', 'Release', 'sfd_native.node');
    if (!existsSync(path))
      throw new Error('native addon not built (npm ci builds it; needs libopenblas-dev)');
    cached = { addon: require(path) as NativeAddon };
  } catch (e) {
    cached = { addon: null, reason: e instanceof Error ? e.message.split('\n')[0] : String(e) };
  }
  return cached;
}
