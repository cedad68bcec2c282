import * as tf from '@tensorflow/tfjs';
import type { PooledCpuBackend } from '../pooledBackend';
import { type NativeKernelConfig, values } from './shared';

/** A float32 sum over contiguous axes. */
export const sumConfig: NativeKernelConfig = {
  kernelName: 'Sum',
  kernelFunc: (args, addon) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    const { axis, keepDims } = args.attrs as unknown as tf.SumAttrs;
    const be = args.backend as PooledCpuBackend;
    if (x.dtype !== 'float32' || x.shape.length === 0) return null;
    const axes = tf.util.parseAxisParam(axis, x.shape).sort((p, q) => p - q);
    // contiguous axes only: x is then [outer, mid, inner] with mid the reduced block
    if (axes.length === 0 || axes[axes.length - 1] - axes[0] !== axes.length - 1) return null;
    const prod = (dims: number[]) => dims.reduce((p, q) => p * q, 1);
    const outer = prod(x.shape.slice(0, axes[0]));
    const mid = prod(x.shape.slice(axes[0], axes[axes.length - 1] + 1));
    const inner = prod(x.shape.slice(axes[axes.length - 1] + 1));
    const kept = x.shape.filter((_, i) => !axes.includes(i));
    if (outer * mid * inner === 0) return null;
    const out = be.allocOutput(outer * inner);
    addon.sum(outer, mid, inner, values(be, x), out);
    return be.makeTensorInfo(
      keepDims ? tf.backend_util.expandShapeToKeepDim(kept, axes) : kept,
      'float32',
      out,
    );
  },
};
