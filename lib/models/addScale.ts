import * as tf from '@tensorflow/tfjs';

/**
 * (a + b)·scale, the UNet's residual connection with its 1/√2. Where the backend has the fused kernel
 * (native) it is one pass instead of two (an add, then a multiply over the sum); elsewhere a.add(b).mul(scale).
 */
export function addScale<T extends tf.Tensor>(a: T, b: tf.Tensor, scale: number): T {
  const fusable =
    a.dtype === 'float32' &&
    b.dtype === 'float32' &&
    a.shape.join() === b.shape.join() &&
    !!tf.getKernel('SfdAddScale', tf.getBackend());
  if (!fusable) return a.add(b).mul(scale) as T;
  const fused = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [ai, bi] = args as tf.Tensor[];
    return {
      value: tf.engine().runKernel('SfdAddScale', { a: ai, b: bi }, { scale }) as tf.Tensor,
      gradFunc: (dy: tf.Tensor) => {
        const g = dy.mul(scale);
        return [g, g.clone()];
      },
    };
  });
  return (fused as unknown as (x: tf.Tensor, y: tf.Tensor) => tf.Tensor)(a, b) as T;
}
