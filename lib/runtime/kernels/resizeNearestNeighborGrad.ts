import * as tf from '@tensorflow/tfjs';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';

/**
 * The source pixel of output index `o` in tfjs's nearest-neighbour resize (the forward kernel's formula,
 * alignCorners and halfPixelCenters included).
 */
function sourceIndex(o: number, inSize: number, outSize: number, alignCorners: boolean, halfPixel: boolean) {
  const effIn = alignCorners && outSize > 1 ? inSize - 1 : inSize;
  const effOut = alignCorners && outSize > 1 ? outSize - 1 : outSize;
  const frac = (effIn / effOut) * (halfPixel ? o + 0.5 : o);
  const i = Math.min(inSize - 1, alignCorners ? Math.round(frac) : Math.floor(frac));
  return halfPixel ? Math.max(0, i) : i;
}

/**
 * ResizeNearestNeighborGrad for the cpu backend, as the exact adjoint of the forward resize: each dy pixel
 * is added to the input pixel it was copied from. tfjs-backend-cpu's own kernel (4.22) offsets dy by the
 * input's batch stride instead of dy's, so every image after the first gets the gradient of the wrong
 * pixels; a UNet's whole coarse path (everything below the first upsampling) then trains on corrupted
 * gradients. The native backend inherits cpu kernels, so this matters there too. (The wasm kernel is right
 * except that it ignores halfPixelCenters, which this project never uses.)
 */
export const resizeNearestNeighborGrad: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { images, dy } = inputs as { images: tf.TensorInfo; dy: tf.TensorInfo };
  const { alignCorners, halfPixelCenters } = attrs as unknown as tf.ResizeNearestNeighborGradAttrs;
  const be = backend as MathBackendCPU;
  const [b, h, w, c] = images.shape;
  const [, oh, ow] = dy.shape;
  const dyv = be.data.get(dy.dataId).values as tf.TypedArray;
  const rows = Int32Array.from({ length: oh }, (_, i) =>
    sourceIndex(i, h, oh, alignCorners, halfPixelCenters),
  );
  const cols = Int32Array.from({ length: ow }, (_, j) =>
    sourceIndex(j, w, ow, alignCorners, halfPixelCenters),
  );
  const dx = new Float32Array(b * h * w * c);
  for (let n = 0; n < b; n++)
    for (let i = 0; i < oh; i++)
      for (let j = 0; j < ow; j++) {
        const from = ((n * oh + i) * ow + j) * c;
        const to = ((n * h + rows[i]) * w + cols[j]) * c;
        for (let k = 0; k < c; k++) dx[to + k] += dyv[from + k];
      }
  return be.makeTensorInfo(images.shape, 'float32', dx);
};

/** Replaces the cpu backend's ResizeNearestNeighborGrad with the correct one (idempotent). */
export function fixCpuResizeNearestNeighborGrad(): void {
  const current = tf.getKernel('ResizeNearestNeighborGrad', 'cpu');
  if (current?.kernelFunc === resizeNearestNeighborGrad) return;
  if (current) tf.unregisterKernel('ResizeNearestNeighborGrad', 'cpu');
  tf.registerKernel({
    kernelName: 'ResizeNearestNeighborGrad',
    backendName: 'cpu',
    kernelFunc: resizeNearestNeighborGrad,
  });
}
