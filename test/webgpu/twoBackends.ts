import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../../lib/runtime/backend';
import { probeWebgpu, webgpuAdapter } from '../../lib/runtime/webgpu';

/**
 * WebGPU tests compare tfjs's `webgpu` backend (Dawn; lavapipe on a CPU machine) with its reference `cpu`
 * backend. Each computation builds its inputs from plain arrays on the backend it runs on and returns plain
 * numbers, so no tensor ever crosses between backends (webgpu cannot be read synchronously in Node).
 */
let state: { ok: true } | { ok: false; reason: string } | null = null;

async function load(): Promise<{ ok: true } | { ok: false; reason: string }> {
  const probe = probeWebgpu();
  if (!probe.adapter) return { ok: false, reason: probe.reason ?? 'no WebGPU adapter' };
  try {
    const prev = tf.getBackend();
    await useBackend('webgpu');
    // small inputs still on the CPU would otherwise run on tfjs's cpu kernels ("CPU forwarding"): the
    // comparison must exercise the WebGPU shaders
    tf.env().set('WEBGPU_CPU_FORWARD', false);
    await tf.setBackend(prev);
    return { ok: true };
  } catch (e) {
    return { ok: false, reason: e instanceof Error ? e.message.split('\n')[0] : String(e) };
  }
}

/** In a `before` hook: skips the suite, with a one-line reason, where WebGPU cannot run. */
export async function requireWebgpu(ctx: Mocha.Context): Promise<void> {
  ctx.timeout(120_000);
  state ??= await load();
  if (!state.ok) {
    console.log(`      (WebGPU tests skipped: ${state.reason})`);
    ctx.skip();
  }
}

export function adapterName(): string {
  const a = webgpuAdapter();
  return a ? `${a.description || a.device}${a.software ? ' (software)' : ''}` : 'none';
}

/** Runs `f` on `cpu`, then on `webgpu`, and restores the backend the other tests use. */
export async function onBoth<T>(f: () => Promise<T>): Promise<{ cpu: T; gpu: T }> {
  const prev = tf.getBackend();
  try {
    await tf.setBackend('cpu');
    const cpu = await f();
    await tf.setBackend('webgpu');
    const gpu = await f();
    return { cpu, gpu };
  } finally {
    await tf.setBackend(prev);
  }
}

/** Reads tensors back and disposes them. */
export async function values(...ts: tf.Tensor[]): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (const t of ts) out.push(Float32Array.from(await t.data()));
  tf.dispose(ts);
  return out;
}

/** Largest |a − b| relative to max(1, max |a|): float32 agreement that does not depend on the scale. */
export function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`lengths differ: ${a.length} vs ${b.length}`);
  let scale = 1;
  let d = 0;
  for (let i = 0; i < a.length; i++) {
    scale = Math.max(scale, Math.abs(a[i]));
    d = Math.max(d, Math.abs(a[i] - b[i]));
    if (Number.isNaN(a[i]) !== Number.isNaN(b[i])) return Number.POSITIVE_INFINITY;
  }
  return d / scale;
}
