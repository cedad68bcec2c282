import * as tf from '@tensorflow/tfjs';
import { registerConv2dBackpropFilter } from './kernels/conv2dBackpropFilter';
import { fixCpuResizeNearestNeighborGrad } from './kernels/resizeNearestNeighborGrad';
import { PooledCpuBackend } from './native/pooledBackend';
import { NATIVE_BACKEND, registerNativeBackend } from './native/register';
import { quietCpuBanner } from './quietCpuBanner';

quietCpuBanner();

// tfjs's cpu kernel for this gradient is wrong for batches > 1 (see the file); fixed before anything trains
fixCpuResizeNearestNeighborGrad();

/**
 * Backends in order of preference; the first that loads and initialises is used. `native` is tfjs's cpu
 * backend with convolutions and matrix products in a BLAS addon (native/); wasm is the portable fallback.
 */
export const BACKEND_ORDER = ['tensorflow-gpu', 'tensorflow', 'native', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_ORDER)[number];

export interface BackendAttempt {
  name: BackendName;
  ok: boolean;
  /** Why it could not be used (missing package, failed init…). */
  reason?: string;
}

export interface BackendInfo {
  /** The tfjs backend name in use (`tensorflow` is what tfjs-node and tfjs-node-gpu register). */
  backend: string;
  /** What was chosen, in this project's words (`tensorflow-gpu` = tfjs-node-gpu). */
  choice: BackendName;
  /** True when SFD_BACKEND forced the choice. */
  forced: boolean;
  /** For tfjs-node(-gpu): whether TensorFlow found a GPU device (it falls back to the CPU without one). */
  gpuDevice?: boolean;
  attempts: BackendAttempt[];
}

/** Loads a backend package; tfjs-node(-gpu) register themselves as 'tensorflow' on import. */
async function load(name: BackendName): Promise<string> {
  switch (name) {
    case 'tensorflow-gpu':
      require('@tensorflow/tfjs-node-gpu');
      return 'tensorflow';
    case 'tensorflow':
      require('@tensorflow/tfjs-node');
      return 'tensorflow';
    case 'native':
      registerNativeBackend();
      return NATIVE_BACKEND;
    case 'wasm':
      require('@tensorflow/tfjs-backend-wasm');
      return 'wasm';
    case 'cpu':
      return 'cpu';
  }
}

function firstLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split('\n')[0];
}

let current: Promise<BackendInfo> | null = null;

/**
 * Picks the best available backend once per process: tfjs-node-gpu, then tfjs-node, then wasm, then cpu.
 * `SFD_BACKEND` (or `force`) names one of BACKEND_ORDER to use it, failing loudly if it cannot load.
 */
export function initBackend(force: string | undefined = process.env.SFD_BACKEND): Promise<BackendInfo> {
  if (!current) current = choose(force || undefined);
  return current;
}

async function choose(force: string | undefined): Promise<BackendInfo> {
  if (force !== undefined && !(BACKEND_ORDER as readonly string[]).includes(force)) {
    throw new RangeError(
      `SFD_BACKEND='${force}' is not a backend (choose one of: ${BACKEND_ORDER.join(', ')})`,
    );
  }
  const candidates = force ? [force as BackendName] : BACKEND_ORDER;
  const attempts: BackendAttempt[] = [];
  for (const name of candidates) {
    try {
      const tfName = await load(name);
      if (!(await tf.setBackend(tfName))) throw new Error(`tf.setBackend('${tfName}') returned false`);
      await tf.ready();
      // wasm ships no Conv2DBackpropFilter: without it conv nets cannot train there.
      if (tfName === 'wasm') registerConv2dBackpropFilter('wasm');
      attempts.push({ name, ok: true });
      const gpuDevice = (tf.backend() as { isUsingGpuDevice?: boolean }).isUsingGpuDevice;
      return { backend: tf.getBackend(), choice: name, forced: force !== undefined, gpuDevice, attempts };
    } catch (e) {
      attempts.push({ name, ok: false, reason: firstLine(e) });
    }
  }
  const why = attempts.map((a) => `${a.name}: ${a.reason}`).join('; ');
  throw new Error(`no usable tfjs backend (${why})`);
}

/** Loads and switches to one named backend (benchmarks compare several in one process). */
export async function useBackend(name: BackendName): Promise<void> {
  const tfName = await load(name);
  if (!(await tf.setBackend(tfName))) throw new Error(`backend ${name} could not be initialised`);
  if (tfName === 'wasm') registerConv2dBackpropFilter('wasm');
}

/**
 * Frees the memory the native backend keeps for reuse (disposed tensors' buffers, at most a quarter of
 * the machine's memory) — e.g. in a notebook, after a large sampling run. Returns the bytes let go.
 */
export function releasePooledMemory(): number {
  const be = tf.engine().registry[NATIVE_BACKEND];
  return be instanceof PooledCpuBackend ? be.releasePool() : 0;
}

/** Whether the GPU backend package can be loaded here (without switching to it). */
export function gpuBackendPresent(): boolean {
  try {
    require.resolve('@tensorflow/tfjs-node-gpu');
    return true;
  } catch {
    return false;
  }
}

/** One line for notebooks and the CLI: which backend is in use and why. */
export function describeBackend(info: BackendInfo): string {
  // The native backend is expected on a set-up machine: say why it is missing, in the same line.
  const skipped = info.attempts
    .filter((a) => !a.ok)
    .map((a) => (a.name === 'native' ? `native unavailable: ${a.reason}` : `${a.name} unavailable`));
  const how = info.forced
    ? 'forced by SFD_BACKEND'
    : skipped.length
      ? `best available; ${skipped.join(', ')}`
      : 'best available';
  const device =
    info.gpuDevice === undefined
      ? ''
      : info.gpuDevice
        ? ', on a GPU device'
        : ', no GPU device found: running on CPU';
  return `tfjs backend: ${info.choice} (${how}${device})`;
}
