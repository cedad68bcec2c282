import * as tf from '@tensorflow/tfjs';

/**
 * SiLU x·σ(x). Where the backend has the fused kernels (native), forward and gradient are one kernel each
 * (no σ(x) intermediate to allocate); elsewhere it is x.mul(tf.sigmoid(x)).
 */
export function silu<T extends tf.Tensor>(x: T): T {
  if (x.dtype !== 'float32' || !tf.getKernel('SfdSilu', tf.getBackend())) return x.mul(tf.sigmoid(x));
  const fused = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const xi = args[0] as tf.Tensor;
    (args[1] as tf.GradSaveFunc)([xi]);
    return {
      value: tf.engine().runKernel('SfdSilu', { x: xi }, {}) as tf.Tensor,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.engine().runKernel('SfdSiluGrad', { dy, x: saved[0] }, {}) as tf.Tensor,
    };
  });
  return (fused as unknown as (t: tf.Tensor) => tf.Tensor)(x) as T;
}
