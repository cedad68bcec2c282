import * as tf from '@tensorflow/tfjs';
import type { PooledCpuBackend } from '../pooledBackend';
import { type NativeKernelConfig, values } from './shared';

/** Concatenation of 2 to 16 float32 tensors along the last axis. */
export const concatConfig: NativeKernelConfig = {
  kernelName: 'Concat',
  kernelFunc: (args, addon) => {
    const xs = args.inputs as unknown as tf.TensorInfo[];
    const { axis } = args.attrs as unknown as tf.ConcatAttrs;
    const be = args.backend as PooledCpuBackend;
    if (xs.length < 2 || xs.length > 16 || xs.some((x) => x.dtype !== 'float32' || x.shape.length < 2))
      return null;
    const r = xs[0].shape.length;
    if (tf.util.parseAxisParam(axis, xs[0].shape)[0] !== r - 1) return null; // last axis only
    const lead = xs[0].shape.slice(0, -1);
    if (xs.some((x) => x.shape.length !== r || x.shape.slice(0, -1).some((d, i) => d !== lead[i])))
      return null;
    const rows = lead.reduce((p, q) => p * q, 1);
    const width = xs.reduce((p, x) => p + x.shape[r - 1], 0);
    if (rows * width === 0) return null;
    const out = be.allocOutput(rows * width);
    addon.concatLast(
      xs.map((x) => values(be, x)),
      rows,
      out,
    );
    return be.makeTensorInfo([...lead, width], 'float32', out);
  },
};
