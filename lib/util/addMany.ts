import * as tf from '@tensorflow/tfjs';

/**
 * The sum of many same-shaped tensors. tf.addN binds one buffer per input, and a WebGPU shader may bind
 * only 8 storage buffers (input and output ones together): a sum over every weight tensor (111 in the
 * UNet) is refused there. So the inputs are added in groups of at most 7, then the group sums, and so on.
 */
export function addMany(ts: tf.Tensor[]): tf.Tensor {
  if (ts.length === 0) throw new RangeError('addMany: nothing to add');
  return tf.tidy(() => {
    let level = ts;
    while (level.length > 1) {
      const next: tf.Tensor[] = [];
      for (let i = 0; i < level.length; i += 7) {
        const group = level.slice(i, i + 7);
        next.push(group.length === 1 ? group[0] : tf.addN(group));
      }
      level = next;
    }
    // a single input comes back as a new tensor, so the caller can dispose its inputs either way
    return level[0] === ts[0] ? ts[0].clone() : level[0];
  });
}
