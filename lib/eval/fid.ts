import { EigenvalueDecomposition, Matrix } from 'ml-matrix';

/**
 * Streaming feature statistics in float64: Σf and Σffᵀ accumulate batch by batch, so no feature set
 * is ever held whole. The covariance is the unbiased one (divide by N−1), as in EDM and pytorch-fid.
 */
export class FeatureStats {
  n = 0;
  readonly sum: Float64Array;
  readonly outer: Float64Array;

  constructor(readonly dim: number) {
    if (!Number.isInteger(dim) || dim < 1) throw new RangeError(`FeatureStats: bad dimension ${dim}`);
    this.sum = new Float64Array(dim);
    this.outer = new Float64Array(dim * dim);
  }

  /** Adds rows of `dim` features each. */
  add(rows: ArrayLike<number>): this {
    const d = this.dim;
    if (rows.length % d !== 0)
      throw new RangeError(`FeatureStats: ${rows.length} values is not a multiple of ${d}`);
    const x = new Float64Array(d);
    for (let r = 0; r < rows.length; r += d) {
      for (let i = 0; i < d; i++) {
        const v = rows[r + i];
        if (!Number.isFinite(v)) throw new Error(`FeatureStats: non-finite feature in row ${r / d}`);
        x[i] = v;
        this.sum[i] += v;
      }
      for (let i = 0; i < d; i++) {
        const xi = x[i];
        if (xi === 0) continue;
        const row = i * d;
        for (let j = i; j < d; j++) this.outer[row + j] += xi * x[j];
      }
      this.n++;
    }
    return this;
  }

  mean(): Float64Array {
    return this.sum.map((s) => s / this.n);
  }

  /** Unbiased covariance, row-major d×d. */
  covariance(): Float64Array {
    if (this.n < 2) throw new Error(`FeatureStats: covariance needs at least 2 samples, have ${this.n}`);
    const d = this.dim;
    const mu = this.mean();
    const c = new Float64Array(d * d);
    for (let i = 0; i < d; i++)
      for (let j = i; j < d; j++) {
        const v = (this.outer[i * d + j] - this.n * mu[i] * mu[j]) / (this.n - 1);
        c[i * d + j] = v;
        c[j * d + i] = v;
      }
    return c;
  }

  summary(): GaussianStats {
    return { n: this.n, mu: Array.from(this.mean()), sigma: Array.from(this.covariance()) };
  }
}

/** Mean and covariance (row-major) of a feature set, as stored in reference-statistics files. */
export interface GaussianStats {
  n: number;
  mu: number[];
  sigma: number[];
}

function symmetricSqrt(m: Matrix): Matrix {
  const e = new EigenvalueDecomposition(m, { assumeSymmetric: true });
  const v = e.eigenvectorMatrix;
  const s = e.realEigenvalues.map((l) => Math.sqrt(Math.max(l, 0)));
  return v.clone().mulRowVector(s).mmul(v.transpose());
}

/**
 * Fréchet distance between N(μ1, Σ1) and N(μ2, Σ2): ‖μ1−μ2‖² + Tr(Σ1 + Σ2 − 2(Σ1Σ2)^½). The trace of
 * (Σ1Σ2)^½ is taken as Σ√λ of the symmetric PSD matrix Σ1^½ Σ2 Σ1^½ (same eigenvalues as Σ1Σ2), with
 * eigenvalues clipped at 0 — no complex square roots and no eps retries.
 */
export function frechetDistance(a: GaussianStats, b: GaussianStats): number {
  const d = a.mu.length;
  if (b.mu.length !== d || a.sigma.length !== d * d || b.sigma.length !== d * d)
    throw new RangeError(`frechetDistance: dimensions differ (${a.mu.length} vs ${b.mu.length})`);
  const s1 = Matrix.from1DArray(d, d, a.sigma);
  const s2 = Matrix.from1DArray(d, d, b.sigma);
  const r = symmetricSqrt(s1);
  const m = r.mmul(s2).mmul(r);
  const sym = Matrix.add(m, m.transpose()).div(2);
  const traceSqrt = new EigenvalueDecomposition(sym, { assumeSymmetric: true }).realEigenvalues.reduce(
    (acc, l) => acc + Math.sqrt(Math.max(l, 0)),
    0,
  );
  let diff = 0;
  for (let i = 0; i < d; i++) diff += (a.mu[i] - b.mu[i]) ** 2;
  return diff + s1.trace() + s2.trace() - 2 * traceSqrt;
}
