import * as tf from '@tensorflow/tfjs';
import type { Denoiser } from './denoiser';

/**
 * Analytical first step (AFS, from AMED-Solver): at large t the noise prediction is close to the
 * VP-scaled input x/sqrt(1+t²), so the first model call is replaced by that direction. Expressed as a
 * denoiser, D = x − t·x/sqrt(1+t²). Only the evaluation at exactly `tFirst` (the grid's first time) is
 * replaced, so every solver gets AFS on its first evaluation and saves one NFE, with no solver flag.
 */
export function withAfs(denoise: Denoiser, tFirst: number): Denoiser {
  return (x, t, cond) =>
    t === tFirst ? tf.tidy(() => x.mul(1 - t / Math.sqrt(1 + t * t))) : denoise(x, t, cond);
}
