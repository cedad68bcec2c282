import * as tf from '@tensorflow/tfjs';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { fixCpuResizeNearestNeighborGrad } from '../kernels/resizeNearestNeighborGrad';
import { loadAddon } from './addon';
import { nativeKernels } from './kernels';

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
  tf.registerBackend(NATIVE_BACKEND, () => new MathBackendCPU(), 3);
  for (const k of tf.getKernelsForBackend('cpu')) tf.registerKernel({ ...k, backendName: NATIVE_BACKEND });
  for (const [kernelName, kernelFunc] of Object.entries(nativeKernels(addon, cpu))) {
    if (tf.getKernel(kernelName, NATIVE_BACKEND)) tf.unregisterKernel(kernelName, NATIVE_BACKEND);
    tf.registerKernel({ kernelName, backendName: NATIVE_BACKEND, kernelFunc });
  }
}
