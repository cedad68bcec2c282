import * as tf from '@tensorflow/tfjs';
import { SIGMA_DATA } from '../diffusion/precond';

/**
 * The consistency parametrisation (Song et al. 2023; baselines notes §6):
 * f_θ(x, σ) = c_skip(σ)·x + c_out(σ)·F_θ(c_in(σ)·x, c_noise(σ)), with
 * c_skip = σ_d² / ((σ − σ_min)² + σ_d²), c_out = (σ − σ_min)·σ_d / √(σ² + σ_d²), c_in = 1 / √(σ² + σ_d²),
 * so that f(x, σ_min) = x exactly (c_skip = 1, c_out = 0). The network's noise input is EDM's ln σ / 4 (the
 * project's teachers and CMJ's), so a teacher's raw network drops in as F_θ.
 *
 * At initialisation F_θ is the teacher's raw network, as the official code does (it loads the teacher's
 * weights and changes nothing else). f_θ then differs from the teacher's EDM denoiser only through
 * the σ_min shift of c_skip and c_out (c_out is (σ − σ_min)/σ times EDM's; c_skip grows by a factor
 * (σ² + σ_d²)/((σ − σ_min)² + σ_d²)): negligible at high σ, largest just above σ_min, where both
 * denoisers are close to x anyway (test/baselines/consistency.test.ts measures the gap on the grid).
 * Nothing compensates for it, as in the official code: the distillation's first iterations absorb it.
 */
export interface ConsistencyScalings {
  cSkip: number;
  cOut: number;
  cIn: number;
  cNoise: number;
}

export function consistencyScalings(
  sigma: number,
  sigmaMin: number,
  sigmaData = SIGMA_DATA,
): ConsistencyScalings {
  if (!(sigma >= sigmaMin) || !(sigmaMin > 0))
    throw new RangeError(`consistency scalings need σ ≥ σ_min > 0, got σ = ${sigma}, σ_min = ${sigmaMin}`);
  const s2 = sigmaData * sigmaData;
  const d = sigma - sigmaMin;
  const r = Math.sqrt(sigma * sigma + s2);
  return { cSkip: s2 / (d * d + s2), cOut: (d * sigmaData) / r, cIn: 1 / r, cNoise: Math.log(sigma) / 4 };
}

/**
 * A trainable network behind the parametrisation: F(c_in·x, c_noise) with one c_noise or one per sample.
 * The UNet and the toy MLP are both one.
 */
export interface ConsistencyNetwork {
  weights: Map<string, tf.Variable>;
  net: (xIn: tf.Tensor, cNoise: number | tf.Tensor1D) => tf.Tensor;
  dispose(): void;
}

/** Where the parametrisation's boundary sits and the data scale it assumes. */
export interface ConsistencyParams {
  sigmaMin: number;
  sigmaData: number;
}

/** f(x, σ): σ is one level for the batch or one per sample. The caller owns the result. */
export type ConsistencyFn = (x: tf.Tensor, sigma: number | readonly number[]) => tf.Tensor;

/** The consistency function of a network (differentiable in its weights when called under a tape). */
export function consistencyFunction(net: ConsistencyNetwork['net'], p: ConsistencyParams): ConsistencyFn {
  return (x, sigma) =>
    tf.tidy(() => {
      const b = x.shape[0];
      if (typeof sigma === 'number') {
        const s = consistencyScalings(sigma, p.sigmaMin, p.sigmaData);
        const f = checkedOutput(net(x.mul(s.cIn), s.cNoise), x);
        return x.mul(s.cSkip).add(f.mul(s.cOut));
      }
      if (sigma.length !== b)
        throw new RangeError(`consistency function: ${sigma.length} σ values for a batch of ${b}`);
      const all = sigma.map((v) => consistencyScalings(v, p.sigmaMin, p.sigmaData));
      const col = (k: keyof ConsistencyScalings) =>
        tf.tensor(
          all.map((s) => s[k]),
          [b, ...x.shape.slice(1).map(() => 1)],
        );
      const cNoise = tf.tensor1d(all.map((s) => s.cNoise));
      const f = checkedOutput(net(x.mul(col('cIn')), cNoise), x);
      return x.mul(col('cSkip')).add(f.mul(col('cOut')));
    });
}

function checkedOutput(f: tf.Tensor, x: tf.Tensor): tf.Tensor {
  if (f.shape.join() !== x.shape.join())
    throw new Error(
      `consistency function: network output shape [${f.shape}] differs from input [${x.shape}]`,
    );
  return f;
}

/** θ⁻ ← μ·θ⁻ + (1 − μ)·θ: the target network's fixed-rate EMA (μ = 0 copies θ). */
export function updateTargetNetwork(
  target: Map<string, tf.Variable>,
  online: Map<string, tf.Variable>,
  mu: number,
): void {
  tf.tidy(() => {
    for (const [k, t] of target) {
      const p = online.get(k) as tf.Variable;
      t.assign(mu === 0 ? p : p.add(t.sub(p).mul(mu)));
    }
  });
}
