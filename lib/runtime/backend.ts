import * as tf from '@tensorflow/tfjs';
import { registerConv2dBackpropFilter } from './kernels/conv2dBackpropFilter';
import { fixCpuResizeNearestNeighborGrad } from './kernels/resizeNearestNeighborGrad';
import { PooledCpuBackend } from './native/pooledBackend';
import { NATIVE_BACKEND, registerNativeBackend } from './native/register';
import { quietCpuBanner } from './quietCpuBanner';
import { describeAdapter, type GpuAdapter, loadWebgpu, probeWebgpu, webgpuAdapter } from './webgpu';

quietCpuBanner();

// tfjs's cpu kernel for this gradient is wrong for batches > 1 (see the file); fixed before anything trains
fixCpuResizeNearestNeighborGrad();

/**
 * Backends in order of preference; the first that loads and initialises is used. `webgpu` is tfjs's WebGPU
 * backend on Dawn (the `webgpu` package), taken by default only on a hardware adapter; `native` is tfjs's
 * cpu backend with convolutions and matrix products in a BLAS addon (native/); wasm is the portable fallback.
 */
export const BACKEND_ORDER = ['tensorflow-gpu', 'webgpu', 'tensorflow', 'native', 'wasm', 'cpu'] as const;
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
  /** For webgpu: the adapter it runs on. */
  adapter?: GpuAdapter;
  attempts: BackendAttempt[];
}

/**
 * Loads a backend package; tfjs-node(-gpu) register themselves as 'tensorflow' on import. `forced`: named
 * by SFD_BACKEND (WebGPU then accepts a software adapter).
 */
async function load(name: BackendName, forced = false): Promise<string> {
  switch (name) {
    case 'webgpu':
      await loadWebgpu(forced);
      return 'webgpu';
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
 * Picks the best available backend once per process, in BACKEND_ORDER (a GPU first, then the CPU backends).
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
      const tfName = await load(name, force !== undefined);
      if (!(await tf.setBackend(tfName))) throw new Error(`tf.setBackend('${tfName}') returned false`);
      await tf.ready();
      // wasm ships no Conv2DBackpropFilter: without it conv nets cannot train there.
      if (tfName === 'wasm') registerConv2dBackpropFilter('wasm');
      attempts.push({ name, ok: true });
      const gpuDevice = (tf.backend() as { isUsingGpuDevice?: boolean }).isUsingGpuDevice;
      const adapter = tfName === 'webgpu' ? (webgpuAdapter() ?? undefined) : undefined;
      return {
        backend: tf.getBackend(),
        choice: name,
        forced: force !== undefined,
        gpuDevice,
        adapter,
        attempts,
      };
    } catch (e) {
      attempts.push({ name, ok: false, reason: firstLine(e) });
    }
  }
  const why = attempts.map((a) => `${a.name}: ${a.reason}`).join('; ');
  throw new Error(`no usable tfjs backend (${why})`);
}

/** Loads and switches to one named backend (benchmarks compare several in one process). */
export async function useBackend(name: BackendName): Promise<void> {
  const tfName = await load(name, true);
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

/**
 * Whether tensors live on a GPU (webgpu, or tfjs-node-gpu with a device): there every read back to the
 * CPU is a round trip that stalls the device, so hot loops read once per iteration, not per step.
 */
export function onGpu(): boolean {
  const name = tf.getBackend();
  if (name === 'webgpu') return true;
  return name === 'tensorflow' && !!(tf.backend() as { isUsingGpuDevice?: boolean }).isUsingGpuDevice;
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

/**
 * For `sfd info`: the WebGPU adapter this machine offers (in use or not), and one line per backend not in
 * use saying why — its load error, or that a backend earlier in the order was taken first.
 */
export function backendReport(info: BackendInfo): string[] {
  const probe = info.adapter ? { adapter: info.adapter } : probeWebgpu();
  const a = probe.adapter;
  const lines = [
    `WebGPU adapter: ${a ? describeAdapter(a) : `none (${probe.reason})`}${a?.software && info.choice !== 'webgpu' ? '; used only when forced (SFD_BACKEND=webgpu)' : ''}`,
    ...(a
      ? [
          `  vendor ${a.vendor || '?'}, architecture ${a.architecture || '?'}, device ${a.device || '?'}, ${a.software ? 'software' : 'hardware'}`,
        ]
      : []),
    'backends not in use:',
  ];
  for (const name of BACKEND_ORDER) {
    if (name === info.choice) continue;
    const tried = info.attempts.find((t) => t.name === name);
    let why =
      tried?.reason ??
      (info.forced ? `not tried (SFD_BACKEND=${info.choice})` : `not tried (${info.choice} comes first)`);
    if (name === 'tensorflow-gpu' && tried)
      why += ' — CUDA 11.2 / cuDNN 8.1 users: npm install @tensorflow/tfjs-node-gpu (README, Backends)';
    lines.push(`  ${name}: ${why}`);
  }
  return lines;
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
  const device = info.adapter
    ? `, on ${describeAdapter(info.adapter)}`
    : info.gpuDevice === undefined
      ? ''
      : info.gpuDevice
        ? ', on a GPU device'
        : ', no GPU device found: running on CPU';
  return `tfjs backend: ${info.choice} (${how}${device})`;
}
