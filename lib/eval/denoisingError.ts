import * as tf from '@tensorflow/tfjs';
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import type { Denoiser } from '../diffusion/denoiser';
import { makeRng } from '../util/rng';
import type { GaussianStats } from './fid';

/**
 * The exact denoiser of Gaussian data N(μ, Σ) with Σ = V diag(λ) Vᵀ:
 * D(x, σ) = μ + V diag(λ / (λ + σ²)) Vᵀ (x − μ). Fitted to a dataset's pixel mean and covariance it is
 * the best *linear* denoiser of that data, the baseline a trained network must beat at every σ: a
 * teacher that loses to it at high σ has not learnt the global layout that decides what a sample is.
 * Input is batch-first of any rank, flattened to the stats' dimension.
 */
export function linearDenoiser(stats: GaussianStats): Denoiser {
  const d = stats.mu.length;
  if (stats.sigma.length !== d * d)
    throw new RangeError(`linearDenoiser: ${d} means, ${stats.sigma.length} covariances`);
  const e = new EigenvalueDecomposition(Matrix.from1DArray(d, d, stats.sigma), { assumeSymmetric: true });
  const lambdas = e.realEigenvalues.map((l) => Math.max(l, 0));
  const v = tf.tensor2d(e.eigenvectorMatrix.to1DArray(), [d, d]);
  const mu = tf.tensor2d(stats.mu, [1, d]);
  return (x, t) =>
    tf.tidy(() => {
      if (x.size / x.shape[0] !== d)
        throw new RangeError(
          `linearDenoiser: samples of shape [${x.shape.slice(1)}] are not ${d}-dimensional`,
        );
      const shrink = tf.tensor2d(
        lambdas.map((l) => l / (l + t * t)),
        [1, d],
      );
      const z = tf.matMul(x.reshape([x.shape[0], d]).sub(mu), v).mul(shrink);
      return tf.matMul(z, v, false, true).add(mu).reshape(x.shape);
    });
}

/**
 * Mean and unbiased covariance of images (batch-first, flattened), via one float32 GEMM on centred data
 * (the mean is taken in float64 first, so centring loses nothing that matters for a baseline).
 */
export async function pixelGaussian(images: tf.Tensor, batch = 10_000): Promise<GaussianStats> {
  const n = images.shape[0];
  const d = images.size / n;
  if (n < 2) throw new RangeError('pixelGaussian: needs at least 2 images');
  const flat = images.reshape([n, d]);
  const px = await flat.data();
  const mu = new Float64Array(d);
  for (let i = 0; i < px.length; i++) mu[i % d] += px[i];
  for (let j = 0; j < d; j++) mu[j] /= n;
  const muT = tf.tensor2d(Float32Array.from(mu), [1, d]);
  let acc = tf.zeros([d, d]);
  for (let s = 0; s < n; s += batch) {
    const next = tf.tidy(() => {
      const c = flat.slice([s, 0], [Math.min(batch, n - s), d]).sub(muT);
      return acc.add(tf.matMul(c, c, true, false));
    });
    acc.dispose();
    acc = next;
  }
  const outer = await acc.data();
  const sigma = Array.from(outer, (v) => v / (n - 1));
  tf.dispose([acc, muT, flat]);
  return { n, mu: Array.from(mu), sigma };
}

export interface DenoisingErrorRow {
  sigma: number;
  /** Mean over pixels and images of (D(x₀ + σn, σ) − x₀)². */
  mse: number;
}

/**
 * Denoising error of `denoise` on clean images x₀ at each noise level: the noise is drawn from `seed`,
 * so two denoisers compared with the same seed see the same noisy inputs.
 */
export async function denoisingError(
  denoise: Denoiser,
  x0: tf.Tensor,
  sigmas: readonly number[],
  seed = 0,
  batch = 250,
): Promise<DenoisingErrorRow[]> {
  const n = x0.shape[0];
  const per = x0.size / n;
  for (const sigma of sigmas)
    if (!(sigma > 0)) throw new RangeError(`denoisingError: σ must be > 0, got ${sigma}`);
  const rows: DenoisingErrorRow[] = [];
  for (const [k, sigma] of sigmas.entries()) {
    const rng = makeRng(seed + k);
    let sum = 0;
    for (let s = 0; s < n; s += batch) {
      const b = Math.min(batch, n - s);
      const shape = [b, ...x0.shape.slice(1)];
      const err = tf.tidy(() => {
        const clean = x0.slice(s, b);
        const noise = tf.tensor(
          Float32Array.from({ length: b * per }, () => rng.normal()),
          shape,
        );
        return denoise(clean.add(noise.mul(sigma)), sigma)
          .sub(clean)
          .square()
          .sum();
      });
      sum += (await err.data())[0];
      err.dispose();
    }
    rows.push({ sigma, mse: sum / (n * per) });
  }
  return rows;
}
