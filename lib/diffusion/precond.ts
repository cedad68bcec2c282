import * as tf from '@tensorflow/tfjs';
import type { Conditioning, Denoiser } from './denoiser';

/** σ_data of the EDM formulation (pixels in [-1, 1]). */
export const SIGMA_DATA = 0.5;

export interface EdmScalings {
  cSkip: number;
  cOut: number;
  cIn: number;
  cNoise: number;
}

/** EDM preconditioning coefficients at noise level t (Karras et al. 2022, Table 1). */
export function edmScalings(t: number, sigmaData = SIGMA_DATA): EdmScalings {
  if (!(t > 0)) throw new RangeError(`edmScalings: t must be > 0, got ${t}`);
  const s2 = sigmaData * sigmaData;
  const r = Math.sqrt(t * t + s2);
  return { cSkip: s2 / (t * t + s2), cOut: (t * sigmaData) / r, cIn: 1 / r, cNoise: Math.log(t) / 4 };
}

/** A raw network F(c_in·x, c_noise, cond) → same shape as x. */
export type RawNet = (xIn: tf.Tensor, cNoise: number, cond?: Conditioning) => tf.Tensor;

/** Wraps a raw network with EDM preconditioning: D = c_skip·x + c_out·F(c_in·x, c_noise). */
export function edmPrecond(net: RawNet, sigmaData = SIGMA_DATA): Denoiser {
  return (x, t, cond) =>
    tf.tidy(() => {
      const { cSkip, cOut, cIn, cNoise } = edmScalings(t, sigmaData);
      const f = net(x.mul(cIn), cNoise, cond);
      if (f.shape.join() !== x.shape.join()) {
        throw new Error(`edmPrecond: network output shape [${f.shape}] differs from input [${x.shape}]`);
      }
      return x.mul(cSkip).add(f.mul(cOut));
    });
}
