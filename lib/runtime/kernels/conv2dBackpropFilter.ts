import * as tf from '@tensorflow/tfjs';

/**
 * Conv2DBackpropFilter (dW of a 2-D convolution, NHWC) from tfjs ops: for each filter tap (kh, kw),
 * dyᵀ [outC, B·outH·outW] times the strided window of the padded input flattened to [B·outH·outW, inC].
 * The wasm backend ships no such kernel, so tf.conv2d cannot be trained there as shipped; this one makes
 * its filter gradient a handful of matMuls. (dy is transposed once, explicitly: wasm's matMul with
 * transposeA runs about 4× slower than a transpose and a plain product.)
 */
export function conv2dBackpropFilter(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  filterShape: [number, number, number, number],
  strides: number | [number, number],
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding,
  dimRoundingMode?: 'floor' | 'round' | 'ceil',
): tf.Tensor4D {
  const info = tf.backend_util.computeConv2DInfo(
    x.shape,
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    'channelsLast',
  );
  const {
    batchSize,
    outHeight,
    outWidth,
    inChannels,
    outChannels,
    filterHeight,
    filterWidth,
    strideHeight,
    strideWidth,
    padInfo,
  } = info;
  return tf.tidy(() => {
    const xp = tf.pad(x, [
      [0, 0],
      [padInfo.top, padInfo.bottom],
      [padInfo.left, padInfo.right],
      [0, 0],
    ]);
    const rows = batchSize * outHeight * outWidth;
    const dyT = dy.reshape([rows, outChannels]).transpose();
    const taps: tf.Tensor[] = [];
    for (let kh = 0; kh < filterHeight; kh++) {
      for (let kw = 0; kw < filterWidth; kw++) {
        const window = tf.stridedSlice(
          xp,
          [0, kh, kw, 0],
          [
            batchSize,
            kh + (outHeight - 1) * strideHeight + 1,
            kw + (outWidth - 1) * strideWidth + 1,
            inChannels,
          ],
          [1, strideHeight, strideWidth, 1],
        );
        taps.push(tf.matMul(dyT, window.reshape([rows, inChannels]))); // [outC, inC]
      }
    }
    return tf
      .stack(taps)
      .reshape([filterHeight, filterWidth, outChannels, inChannels])
      .transpose([0, 1, 3, 2]) as tf.Tensor4D;
  });
}

/** Registers the kernel for a backend that lacks it (wasm); a no-op where one exists. */
export function registerConv2dBackpropFilter(backendName: string): boolean {
  if (tf.getKernel('Conv2DBackpropFilter', backendName)) return false;
  tf.registerKernel({
    kernelName: 'Conv2DBackpropFilter',
    backendName,
    kernelFunc: ({ inputs, attrs }) => {
      const { x, dy } = inputs as { x: tf.Tensor4D; dy: tf.Tensor4D };
      const a = attrs as unknown as tf.Conv2DBackpropFilterAttrs;
      if (a.dataFormat !== 'NHWC')
        throw new Error(
          `Conv2DBackpropFilter on ${backendName}: only NHWC is supported, got ${a.dataFormat}`,
        );
      return conv2dBackpropFilter(x, dy, a.filterShape, a.strides, a.pad, a.dimRoundingMode);
    },
  });
  return true;
}
