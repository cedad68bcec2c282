import * as tf from '@tensorflow/tfjs';

/**
 * Dynamic thresholding of an x0 prediction (Imagen; used by the official DPM-Solver++ teacher):
 * per sample, s = max(quantile_q(|x0|), 1), then x0 ← clip(x0, −s, s)/s. The quantile interpolates
 * linearly between order statistics, as numpy/torch do by default.
 */
export function dynamicThreshold(x0: tf.Tensor, q = 0.995): tf.Tensor {
  if (!(q > 0 && q <= 1)) throw new RangeError(`dynamicThreshold: quantile must be in (0, 1], got ${q}`);
  return tf.tidy(() => {
    const b = x0.shape[0];
    const p = x0.size / b;
    const pos = q * (p - 1);
    const lo = Math.floor(pos);
    const hi = Math.ceil(pos);
    // Only the largest p − lo values are needed: ascending rank r is descending index p − 1 − r.
    const top = tf.topk(x0.abs().reshape([b, p]), p - lo).values;
    const vLo = top.slice([0, p - 1 - lo], [b, 1]);
    const vHi = top.slice([0, p - 1 - hi], [b, 1]);
    const quantile = vLo.add(vHi.sub(vLo).mul(pos - lo));
    const s = tf.maximum(quantile, 1).reshape([b, ...x0.shape.slice(1).map(() => 1)]);
    // clip(x0, −s, s)/s is clip(x0/s, −1, 1) exactly; the latter avoids two broadcasting kernels (slow on cpu)
    return tf.clipByValue(x0.div(s), -1, 1);
  });
}
