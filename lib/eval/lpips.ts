import * as tf from '@tensorflow/tfjs';
import type { FeatureNet } from './featureNet';

/**
 * An LPIPS-style perceptual distance on the frozen MNIST feature network — a documented stand-in for
 * VGG-LPIPS, whose weights cannot be had offline. LPIPS's recipe without its learned layer weights:
 * each conv layer's activations are unit-normalised over channels at every pixel, squared differences
 * are summed over channels and averaged over pixels, and the layers are averaged. Differentiable in tfjs
 * (gradients flow to the images, not to the frozen network). Returns one distance per sample.
 */
export function lpipsDistance(net: FeatureNet, a: tf.Tensor4D, b: tf.Tensor4D): tf.Tensor1D {
  if (a.shape.join() !== b.shape.join())
    throw new Error(`lpipsDistance: shapes [${a.shape}] and [${b.shape}] differ`);
  return tf.tidy(() => {
    const fa = net.activations(a).convs;
    const fb = net.activations(b).convs;
    const unit = (t: tf.Tensor4D) => t.div(t.square().sum(3, true).add(1e-10).sqrt());
    const per = fa.map((x, l) => unit(x).sub(unit(fb[l])).square().sum(3).mean([1, 2]));
    return tf.addN(per).div(per.length) as tf.Tensor1D;
  });
}
