import * as tf from '@tensorflow/tfjs';
import type { SfdLossKind } from './config';

/** A differentiable perceptual distance per sample (the LPIPS-style distance of lib/eval). */
export type PerceptualDistance = (a: tf.Tensor4D, b: tf.Tensor4D) => tf.Tensor1D;

/**
 * The loss of one student step against the teacher's state, with the official reduction: a sum over the
 * C·H·W elements of each sample, averaged over the batch (no division by the pixel count, so the
 * effective learning rate grows with image size). The perceptual term is the official stage-2 form: its
 * batch mean is added to every element before that reduction, i.e. weighted by C·H·W. `l1+lpips` adds it
 * on the trajectory's last step only (official); `lpips` alone uses it at every step.
 */
export function sfdStepLoss(
  kind: SfdLossKind,
  out: tf.Tensor,
  target: tf.Tensor,
  last: boolean,
  perceptual?: PerceptualDistance,
): tf.Scalar {
  return tf.tidy(() => {
    const b = out.shape[0];
    const elements = out.size / b;
    const diff = out.sub(target);
    const needs = kind === 'lpips' || (kind === 'l1+lpips' && last);
    if (needs && !perceptual)
      throw new RangeError(`loss '${kind}' needs a perceptual distance (image students only)`);
    const lp = () =>
      (perceptual as PerceptualDistance)(out as tf.Tensor4D, target as tf.Tensor4D)
        .mean()
        .mul(elements);
    switch (kind) {
      case 'l1':
        return diff.abs().sum().div(b);
      case 'l2':
        return diff.square().sum().div(b);
      case 'lpips':
        return lp();
      case 'l1+lpips':
        return last ? diff.abs().sum().div(b).add(lp()) : diff.abs().sum().div(b);
      default:
        throw new RangeError(`unknown loss '${kind as string}'`);
    }
  }) as tf.Scalar;
}
