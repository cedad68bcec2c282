import * as tf from '@tensorflow/tfjs';
import type { Denoiser } from '../diffusion/denoiser';
import { edmPrecond, SIGMA_DATA } from '../diffusion/precond';
import { checkGmm, type Gmm, gmmDenoiser } from '../models/gmm';
import { type UNet, unetRawNet } from '../models/unet';

/**
 * A teacher as AMED-Plugin uses it. Its intermediate time s_n differs per sample and carries the predictor's
 * gradient (through a_n·s_n into the network's noise input), so beside the plain `Denoiser` the teacher
 * answers one noise level per sample, differentiably in x and t.
 */
export interface AmedTeacher {
  /** The teacher as every solver sees it: one noise level for the whole batch. */
  denoise: Denoiser;
  /** The same denoiser with t = one noise level per sample ([B]); the caller owns the result. */
  denoiseEach: (x: tf.Tensor, t: tf.Tensor1D) => tf.Tensor;
  /** The predictor's input at a grid point, [B, featureDim], from the state and the teacher's D(x, t_n). */
  feature: (x: tf.Tensor, denoised: tf.Tensor) => tf.Tensor2D;
  featureDim: number;
}

/** A per-sample [B] tensor shaped to broadcast against a batch-first tensor of `rank`. */
export function perSample(v: tf.Tensor1D, rank: number): tf.Tensor {
  return v.reshape([-1, ...Array<number>(rank - 1).fill(1)]);
}

/**
 * The exact mixture denoiser (gmmDenoiser's formula, with v_k = s_k² + t_b² per sample). Feature: the
 * denoised point itself. (A mixture has no network, so no bottleneck: the teacher's x0 estimate is the
 * state's summary that costs no call, which the official code's UNet feature also is at heart.)
 */
export function gmmAmedTeacher(g: Gmm): AmedTeacher {
  const dim = checkGmm(g);
  const wsum = g.weights.reduce((a, b) => a + b, 0);
  const s2 = g.stds.map((s) => s * s);
  const denoiseEach = (x: tf.Tensor, t: tf.Tensor1D) =>
    tf.tidy(() => {
      if (x.rank !== 2 || x.shape[1] !== dim)
        throw new RangeError(`GMM denoiser expects [batch, ${dim}], got [${x.shape}]`);
      const means = tf.tensor2d(g.means); // [K, dim]
      const t2 = t.square().reshape([-1, 1]);
      const v = t2.add(tf.tensor2d([s2])); // [B, K]
      const sq = x.expandDims(1).sub(means.expandDims(0)).square().sum(-1);
      // log N(x; μ_k, v_k I) + log w_k, up to a constant that the softmax drops
      const logp = sq
        .div(v)
        .mul(-0.5)
        .sub(v.log().mul(0.5 * dim))
        .add(tf.tensor2d([g.weights.map((w) => Math.log(w / wsum))]));
      const resp = tf.softmax(logp, -1);
      const meanPart = resp.mul(t2.div(v)).matMul(means);
      const xPart = resp
        .mul(tf.tensor2d([s2]).div(v))
        .sum(-1, true)
        .mul(x);
      return meanPart.add(xPart);
    });
  return {
    denoise: gmmDenoiser(g),
    denoiseEach,
    feature: (_x, d) => d.clone() as tf.Tensor2D,
    featureDim: dim,
  };
}

/**
 * A UNet teacher under EDM preconditioning (edmPrecond's scalings, per sample). Feature: the official
 * predictor reads the channel-mean of the UNet's lowest-resolution encoder output (8×8 on CIFAR-10, 7×7
 * here). `createUNet` exposes no intermediate activation and this module may not change it, so the feature
 * is the teacher's output D(x, t_n) average-pooled to that resolution (7×7 = 49 values on MNIST) and
 * averaged over channels: free (the call is made anyway) and of the official shape, but not the bottleneck.
 */
export function unetAmedTeacher(u: UNet, sigmaData = SIGMA_DATA): AmedTeacher {
  const { resolution, channels } = u.config;
  const pool = 2 ** (channels.length - 1);
  const side = resolution / pool;
  const denoiseEach = (x: tf.Tensor, t: tf.Tensor1D) =>
    tf.tidy(() => {
      const s2 = sigmaData * sigmaData;
      const v = t.square().add(s2);
      const cSkip = perSample(v.reciprocal().mul(s2) as tf.Tensor1D, x.rank);
      const cOut = perSample(t.mul(sigmaData).div(v.sqrt()) as tf.Tensor1D, x.rank);
      const cIn = perSample(v.rsqrt() as tf.Tensor1D, x.rank);
      const f = u.net(x.mul(cIn), t.log().div(4) as tf.Tensor1D);
      return x.mul(cSkip).add(f.mul(cOut));
    });
  const feature = (_x: tf.Tensor, d: tf.Tensor) =>
    tf.tidy(() => {
      const pooled = pool > 1 ? tf.avgPool(d as tf.Tensor4D, pool, pool, 'valid') : d;
      return pooled.mean(3).reshape([d.shape[0], side * side]) as tf.Tensor2D;
    });
  return { denoise: edmPrecond(unetRawNet(u), sigmaData), denoiseEach, feature, featureDim: side * side };
}
