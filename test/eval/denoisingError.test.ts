import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs';
import { CholeskyDecomposition, EigenvalueDecomposition, inverse, Matrix } from 'ml-matrix';
import { denoisingError, linearDenoiser, pixelGaussian } from '../../lib/eval/denoisingError';
import { FeatureStats, type GaussianStats } from '../../lib/eval/fid';
import { gaussianDenoiser } from '../../lib/models/gaussian';
import { makeRng } from '../../lib/util/rng';
import { assertClose } from '../helpers';

/** A random SPD covariance A·Aᵀ + 0.1·I and mean of dimension d. */
function randomGaussian(d: number, seed: number): GaussianStats {
  const rng = makeRng(seed);
  const a = Matrix.from1DArray(
    d,
    d,
    Array.from({ length: d * d }, () => rng.normal()),
  );
  const s = a.mmul(a.transpose()).add(Matrix.eye(d).mul(0.1));
  return { n: 0, mu: Array.from({ length: d }, () => rng.normal()), sigma: s.to1DArray() };
}

/** n samples of N(μ, Σ) as an [n, d] tensor, through the Cholesky factor of Σ. */
function sampleGaussian(g: GaussianStats, n: number, seed: number): tf.Tensor2D {
  const d = g.mu.length;
  const rng = makeRng(seed);
  const l = Matrix.from1DArray(d, d, g.sigma);
  const chol = new CholeskyDecomposition(l).lowerTriangularMatrix;
  const z = Matrix.from1DArray(
    n,
    d,
    Array.from({ length: n * d }, () => rng.normal()),
  );
  const x = z.mmul(chol.transpose()).addRowVector(g.mu);
  return tf.tensor2d(x.to1DArray(), [n, d]);
}

describe('linear (Gaussian) denoiser baseline', () => {
  it('equals μ + Σ(Σ + σ²I)⁻¹(x − μ) for a full covariance', () => {
    const d = 6;
    const g = randomGaussian(d, 1);
    const x = sampleGaussian(g, 4, 2);
    for (const sigma of [0.3, 2, 15]) {
      const got = linearDenoiser(g)(x, sigma);
      const s = Matrix.from1DArray(d, d, g.sigma);
      const gain = s.mmul(inverse(s.clone().add(Matrix.eye(d).mul(sigma * sigma))));
      const xm = new Matrix(x.arraySync() as number[][]).subRowVector(g.mu);
      const want = xm.mmul(gain.transpose()).addRowVector(g.mu);
      assertClose(Array.from(got.dataSync()), want.to1DArray(), 1e-4, 1e-5, `σ=${sigma}`);
      got.dispose();
    }
    x.dispose();
  });

  it('reduces to the isotropic Gaussian denoiser for Σ = s²I, on image-shaped input', () => {
    const d = 12;
    const sigma = Array.from({ length: d * d }, (_, k) => (k % (d + 1) === 0 ? 0.49 : 0));
    const lin = linearDenoiser({ n: 0, mu: Array(d).fill(0.3), sigma });
    const iso = gaussianDenoiser({ mean: 0.3, std: 0.7 });
    const x = tf.randomNormal([3, 2, 3, 2], 0, 2, 'float32', 4);
    const a = lin(x, 1.3);
    const b = iso(x, 1.3);
    assert.deepEqual(a.shape, x.shape);
    assertClose(Array.from(a.dataSync()), Array.from(b.dataSync()), 1e-5, 1e-6);
    tf.dispose([x, a, b]);
  });

  it('pixelGaussian matches the float64 streaming statistics', async () => {
    const g = randomGaussian(5, 3);
    const x = sampleGaussian(g, 300, 4);
    const got = await pixelGaussian(x, 128);
    const want = new FeatureStats(5).add(x.dataSync()).summary();
    assertClose(got.mu, want.mu, 1e-6, 1e-6, 'mean');
    assertClose(got.sigma, want.sigma, 1e-4, 1e-5, 'covariance');
    x.dispose();
  });

  it('its measured MSE on Gaussian data matches the exact Bayes error (1/d)·Σ λσ²/(λ+σ²)', async () => {
    const d = 8;
    const g = randomGaussian(d, 5);
    const x = sampleGaussian(g, 4000, 6);
    const lambdas = new EigenvalueDecomposition(Matrix.from1DArray(d, d, g.sigma), {
      assumeSymmetric: true,
    }).realEigenvalues;
    const sigmas = [0.5, 3];
    const rows = await denoisingError(linearDenoiser(g), x, sigmas, 7, 1000);
    rows.forEach((r, i) => {
      const s2 = sigmas[i] ** 2;
      const exact = lambdas.reduce((a, l) => a + (l * s2) / (l + s2), 0) / d;
      assert.ok(Math.abs(r.mse - exact) < 0.05 * exact, `σ=${r.sigma}: MSE ${r.mse}, exact ${exact}`);
    });
    // A worse denoiser (the identity) has a larger error: the measurement is not blind to quality.
    const idle = await denoisingError((y) => y.clone(), x, sigmas, 7, 1000);
    idle.forEach((r, i) => {
      assert.ok(r.mse > rows[i].mse * 1.05);
    });
    x.dispose();
  });

  it('refuses a non-positive σ and mismatched dimensions', async () => {
    const g = randomGaussian(3, 8);
    const x = sampleGaussian(g, 2, 9);
    await assert.rejects(denoisingError(linearDenoiser(g), x, [0]), /σ must be > 0/);
    const wrong = tf.zeros([2, 4]);
    assert.throws(() => linearDenoiser(g)(wrong, 1), /not 3-dimensional/);
    tf.dispose([x, wrong]);
  });
});
