import * as tf from '@tensorflow/tfjs';
import { edmScalings, SIGMA_DATA } from '../diffusion/precond';
import type { Rng } from '../util/rng';

/** EDM's log-normal training distribution of noise levels (Karras et al. 2022, Table 1). */
export interface NoiseLevelDistribution {
  pMean: number;
  pStd: number;
}

export const edmNoiseLevels: NoiseLevelDistribution = { pMean: -1.2, pStd: 1.2 };

/** ln σ ~ N(P_mean, P_std²), one σ per sample. */
export function sampleSigmas(
  n: number,
  rng: Rng,
  dist: NoiseLevelDistribution = edmNoiseLevels,
): Float32Array {
  return Float32Array.from({ length: n }, () => Math.exp(dist.pMean + dist.pStd * rng.normal()));
}

/** A raw network called with one c_noise per sample. */
export type PerSampleNet = (xIn: tf.Tensor4D, cNoise: tf.Tensor1D) => tf.Tensor;

/**
 * EDM's weighted denoising loss λ(σ)·‖D(x₀+σn; σ) − x₀‖², averaged over pixels and batch. With
 * D = c_skip·y + c_out·F and λ = 1/c_out², it equals ‖F(c_in·y) − (x₀ − c_skip·y)/c_out‖² — the
 * network's effective target (EDM eq. 8), which is how it is computed here.
 */
export function edmLoss(
  net: PerSampleNet,
  x0: tf.Tensor4D,
  sigmas: Float32Array,
  noise: tf.Tensor4D,
  sigmaData = SIGMA_DATA,
): tf.Scalar {
  const b = x0.shape[0];
  if (sigmas.length !== b || noise.shape.join() !== x0.shape.join())
    throw new Error(
      `edmLoss: ${sigmas.length} noise levels / noise [${noise.shape}] for images [${x0.shape}]`,
    );
  const sc = Array.from(sigmas, (s) => edmScalings(s, sigmaData));
  const col = (f: (i: number) => number) =>
    tf.tensor4d(
      Float32Array.from({ length: b }, (_, i) => f(i)),
      [b, 1, 1, 1],
    );
  return tf.tidy(() => {
    const y = x0.add(noise.mul(col((i) => sigmas[i])));
    const target = x0.sub(y.mul(col((i) => sc[i].cSkip))).div(col((i) => sc[i].cOut));
    const cNoise = tf.tensor1d(sc.map((s) => s.cNoise));
    const f = net(y.mul(col((i) => sc[i].cIn)) as tf.Tensor4D, cNoise);
    return f.sub(target).square().mean() as tf.Scalar;
  });
}
