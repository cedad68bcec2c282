import type * as tf from '@tensorflow/tfjs';

/**
 * Integer factors of a nearest-neighbour resize that is an exact upsampling (power-of-two factors, so
 * tfjs's floor(i · in/out) is exactly i / k), or null: such a resize copies each pixel into a k×k block.
 */
export function upsampleFactors(
  x: tf.TensorInfo,
  size: [number, number],
  attrs: { alignCorners: boolean; halfPixelCenters: boolean },
): [number, number] | null {
  if (x.dtype !== 'float32' || x.shape.length !== 4 || attrs.alignCorners || attrs.halfPixelCenters)
    return null;
  const [, h, w, c] = x.shape;
  const k = [size[0] / h, size[1] / w];
  const pow2 = (v: number) => Number.isInteger(v) && v >= 1 && (v & (v - 1)) === 0;
  return pow2(k[0]) && pow2(k[1]) && x.shape[0] * c > 0 ? [k[0], k[1]] : null;
}
