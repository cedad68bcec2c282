import * as tf from '@tensorflow/tfjs';
import { fixCpuResizeNearestNeighborGrad } from '../kernels/resizeNearestNeighborGrad';
import { loadAddon } from './addon';
import { nativeKernels } from './kernels';
import { PooledCpuBackend } from './pooledBackend';

/** Name of the BLAS-backed CPU backend: tfjs's cpu backend with its hot kernels in native code. */
export const NATIVE_BACKEND = 'native';

/**
 * Registers the native backend: every cpu kernel, with convolutions and matrix products replaced by
 * BLAS-backed ones. Throws (with the reason) when the addon is not available.
 */
export function registerNativeBackend(): void {
  if (tf.findBackendFactory(NATIVE_BACKEND)) return;
  const { addon, reason } = loadAddon();
  if (!addon) throw new Error(reason);
  fixCpuResizeNearestNeighborGrad(); // native inherits cpu kernels, and falls back to this one
  const cpuKernels = new Map(tf.getKernelsForBackend('cpu').map((k) => [k.kernelName, k.kernelFunc]));
  const cpu = (name: string) => {
    const f = cpuKernels.get(name);
    if (!f) throw new Error(`no cpu kernel ${name} to fall back to`);
    return f;
  };
  tf.registerBackend(NATIVE_BACKEND, () => new PooledCpuBackend(), 3);
  for (const k of tf.getKernelsForBackend('cpu'))
    tf.registerKernel({ ...k, backendName: NATIVE_BACKEND, kernelFunc: watchAliasing(k.kernelFunc) });
  for (const [kernelName, kernelFunc] of Object.entries(nativeKernels(addon, cpu))) {
    if (tf.getKernel(kernelName, NATIVE_BACKEND)) tf.unregisterKernel(kernelName, NATIVE_BACKEND);
    tf.registerKernel({ kernelName, backendName: NATIVE_BACKEND, kernelFunc: watchAliasing(kernelFunc) });
  }
}

/** A kernel that tells the pooled backend when an output shares memory with an input (see PooledCpuBackend). */
function watchAliasing(f: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const out = f(args);
    const inputs = Object.values(args.inputs).filter((t): t is tf.TensorInfo => t != null);
    (args.backend as PooledCpuBackend).checkAliasing(
      inputs,
      Array.isArray(out) ? out : [out as tf.TensorInfo],
    );
    return out;
  };
}
