import * as tf from '@tensorflow/tfjs';
import { onGpu } from '../runtime/backend';
import { addMany } from '../util/addMany';

/**
 * Non-finite gradients as the official code treats them: NaN → 0, ±∞ → ±1e5. Returns the cleaned
 * gradients (the inputs are disposed) and how many elements were replaced.
 */
export function sanitizeGrads(grads: Map<string, tf.Tensor>): {
  grads: Map<string, tf.Tensor>;
  replaced: tf.Scalar;
} {
  const out = new Map<string, tf.Tensor>();
  const counts: tf.Scalar[] = [];
  for (const [k, g] of grads) {
    const [clean, n] = tf.tidy(() => {
      const nan = tf.isNaN(g);
      const inf = tf.isInf(g);
      const fixed = tf.where(nan, tf.zerosLike(g), tf.where(inf, tf.sign(g).mul(1e5), g));
      return [fixed, tf.logicalOr(nan, inf).sum()];
    });
    out.set(k, clean);
    counts.push(n as tf.Scalar);
    g.dispose();
  }
  const replaced = (counts.length ? addMany(counts) : tf.scalar(0, 'int32')) as tf.Scalar;
  tf.dispose(counts);
  return { grads: out, replaced };
}

/**
 * 0 when every gradient element is finite, not 0 otherwise (NaN, or the count of non-finite elements where
 * the backend has the one-kernel check: native): one cheap check before `sanitizeGrads`.
 */
export function finiteCheck(grads: Map<string, tf.Tensor>): tf.Scalar {
  const gs = [...grads.values()];
  if (
    gs.length > 0 &&
    gs.every((g) => g.dtype === 'float32') &&
    tf.getKernel('SfdNonFinite', tf.getBackend())
  )
    return tf.engine().runKernel('SfdNonFinite', gs as unknown as tf.NamedTensorMap) as tf.Scalar;
  return tf.tidy(() => addMany(gs.map((g) => g.mul(0).sum())) as tf.Scalar);
}

export interface GradientCleaner {
  /** The gradients with NaN/±∞ replaced; the input tensors are either returned or disposed. */
  clean(grads: Map<string, tf.Tensor>): Promise<Map<string, tf.Tensor>>;
  /** Elements replaced so far, as a float32 scalar the caller owns (counted on the device, not read back). */
  replacedCount(): tf.Scalar;
  dispose(): void;
}

/**
 * The gradient cleaning of one iteration's updates, and its count. On a GPU every gradient is cleaned on
 * the device, since a read back per step would stall it; on the CPU one cheap finite check per step
 * skips cleaning when nothing needs it (cleaning leaves finite values as they are).
 */
export function gradientCleaner(gpu = onGpu()): GradientCleaner {
  const replaced: tf.Scalar[] = [];
  const cleanAndCount = (grads: Map<string, tf.Tensor>) => {
    const clean = sanitizeGrads(grads);
    replaced.push(clean.replaced);
    return clean.grads;
  };
  return {
    async clean(grads) {
      if (gpu) return cleanAndCount(grads);
      const check = finiteCheck(grads);
      const finite = (await check.data())[0] === 0;
      check.dispose();
      return finite ? grads : cleanAndCount(grads);
    },
    replacedCount: () =>
      tf.tidy(() => addMany([tf.scalar(0), ...replaced.map((n) => n.cast('float32'))]) as tf.Scalar),
    dispose: () => tf.dispose(replaced),
  };
}
