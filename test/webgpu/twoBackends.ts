import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../../lib/runtime/backend';
import { describeAdapter, probeWebgpu, webgpuAdapter } from '../../lib/runtime/webgpu';

// WebGPU tests compare tfjs's `webgpu` backend (Dawn; lavapipe on a CPU machine) with its reference `cpu`
// backend through lib/bench/gpuNumerics; here: loading it once, or skipping with the reason.
let state: { ok: true } | { ok: false; reason: string } | null = null;

async function load(): Promise<{ ok: true } | { ok: false; reason: string }> {
  const probe = probeWebgpu();
  if (!probe.adapter) return { ok: false, reason: probe.reason ?? 'no WebGPU adapter' };
  try {
    const prev = tf.getBackend();
    await useBackend('webgpu');
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
  return a ? describeAdapter(a) : 'none';
}
