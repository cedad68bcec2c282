import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs';
import { BACKEND_ORDER, backendReport, describeBackend, initBackend } from '../../lib/runtime/backend';
import { describeAdapter, isSoftwareAdapter, loadWebgpu, probeWebgpu } from '../../lib/runtime/webgpu';

describe('backend choice', () => {
  it('uses the first backend in preference order that loads, and records why others did not', async () => {
    const info = await initBackend();
    assert.equal(tf.getBackend(), info.backend);
    const chosen = BACKEND_ORDER.indexOf(info.choice);
    assert.deepEqual(
      info.attempts.map((a) => a.name),
      info.forced ? [info.choice] : BACKEND_ORDER.slice(0, chosen + 1),
    );
    for (const a of info.attempts.slice(0, -1)) assert.ok(a.reason, `${a.name} failed without a reason`);
    assert.match(describeBackend(info), new RegExp(`^tfjs backend: ${info.choice} `));
  });

  it('names the reason in its one line when the native backend is missing', () => {
    const line = describeBackend({
      backend: 'wasm',
      choice: 'wasm',
      forced: false,
      attempts: [
        { name: 'tensorflow-gpu', ok: false, reason: 'x' },
        { name: 'tensorflow', ok: false, reason: 'y' },
        { name: 'native', ok: false, reason: 'native addon not built' },
        { name: 'wasm', ok: true },
      ],
    });
    assert.equal(line.split('\n').length, 1);
    assert.match(line, /^tfjs backend: wasm \(.*native unavailable: native addon not built/);
  });

  it('tells software WebGPU adapters (lavapipe, SwiftShader) from hardware ones', () => {
    const lavapipe = {
      architecture: 'software',
      device: 'llvmpipe-llvm-15-0-6-256-bits-',
      description: 'llvmpipe: Mesa 25.0.7 (LLVM 15.0.6)',
    };
    assert.equal(isSoftwareAdapter(lavapipe), true);
    assert.equal(
      isSoftwareAdapter({ architecture: '', device: 'SwiftShader Device', description: '' }),
      true,
    );
    assert.equal(isSoftwareAdapter({ architecture: '', device: 'x', description: '', fallback: true }), true);
    const h200 = { architecture: 'hopper', device: '0x2335', description: 'NVIDIA H200' };
    assert.equal(isSoftwareAdapter(h200), false);
    assert.equal(
      describeAdapter({ vendor: 'nvidia', ...h200, software: false }),
      'NVIDIA H200 (nvidia, hopper)',
    );
  });

  it('never takes a software adapter by default; names it, and every backend not in use, in the report', async function () {
    this.timeout(60_000);
    const probe = probeWebgpu();
    const info = await initBackend();
    const lines = backendReport(info);
    assert.match(lines[0], /^WebGPU adapter: /);
    for (const name of BACKEND_ORDER.filter((n) => n !== info.choice))
      assert.ok(
        lines.some((l) => l.startsWith(`  ${name}: `)),
        `no line for ${name}`,
      );
    if (!probe.adapter) {
      assert.match(lines[0], /none \(/);
      return;
    }
    if (!probe.adapter.software || info.forced) return;
    assert.notEqual(info.choice, 'webgpu');
    await assert.rejects(loadWebgpu(false), /only a software adapter/);
    assert.match(lines[0], /used only when forced \(SFD_BACKEND=webgpu\)/);
  });
});
