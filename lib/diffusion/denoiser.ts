import * as tf from '@tensorflow/tfjs';

/** Extra conditioning a denoiser may use (SFD-v's step condition; nothing for plain teachers). */
export interface Conditioning {
  /** Number of student timestamps N (SFD-v `step-cond`) or the next time (`tnext-cond`). */
  step?: number;
  tNext?: number;
}

/**
 * D(x, t, cond?) → x0 estimate, batch-first, any rank (2-D points or NHWC images).
 * The caller owns the returned tensor; `x` is not disposed.
 */
export type Denoiser = (x: tf.Tensor, t: number, cond?: Conditioning) => tf.Tensor;

/** d = (x − D(x, t)) / t: the PF-ODE direction dx/dt of the EDM formulation. */
export function odeDirection(x: tf.Tensor, denoised: tf.Tensor, t: number): tf.Tensor {
  return x.sub(denoised).div(t);
}

/** Wraps a denoiser so that each call is counted (NFE accounting in tests and reports). */
export function countCalls(denoise: Denoiser): { denoise: Denoiser; calls: () => number } {
  let n = 0;
  return {
    denoise: (x, t, cond) => {
      n++;
      return denoise(x, t, cond);
    },
    calls: () => n,
  };
}

/** Calls a denoiser and checks that it answered with the input's shape (no silent broadcasting). */
export function denoiseChecked(denoise: Denoiser, x: tf.Tensor, t: number, cond?: Conditioning): tf.Tensor {
  const out = denoise(x, t, cond);
  if (out.shape.length !== x.shape.length || out.shape.some((s, i) => s !== x.shape[i])) {
    out.dispose();
    throw new Error(`denoiser returned shape [${out.shape}] for input of shape [${x.shape}] at t=${t}`);
  }
  return out;
}

/** d = (x − D(x, t)) / t evaluated through a denoiser. */
export function direction(denoise: Denoiser, x: tf.Tensor, t: number, cond?: Conditioning): tf.Tensor {
  return tf.tidy(() => odeDirection(x, denoiseChecked(denoise, x, t, cond), t));
}
