import { strict as assert } from 'node:assert';
import { compareCheck, compareResults, OP_CHECKS, onCpuAndWebgpu } from '../../lib/bench/gpuNumerics';
import { adapterName, requireWebgpu } from './twoBackends';

describe('WebGPU: every op the UNet, the samplers and the trainer use, and its gradient, agrees with cpu', () => {
  before(async function () {
    await requireWebgpu(this);
    console.log(`      on ${adapterName()}`);
  });

  const sanitize = OP_CHECKS.find((c) => c.name.startsWith('sanitizing')) ?? assert.fail();
  for (const c of OP_CHECKS.filter((o) => o !== sanitize)) {
    it(c.name, async function () {
      this.timeout(120_000);
      const r = await compareCheck(c);
      assert.ok(r.ok, `max relative difference ${r.maxRelDiff.toExponential(2)} > ${c.tol}`);
    });
  }

  it(`${sanitize.name}: NaN → 0, ±∞ → ±1e5, counted, on both`, async () => {
    const r = await onCpuAndWebgpu(sanitize.run);
    assert.ok(compareResults(sanitize, r).ok);
    for (const v of [r.cpu, r.gpu])
      assert.deepEqual(
        v.map((a) => Array.from(a)),
        [[1, 0, -2, 1e5, -1e5, 3], [3]],
      );
  });
});
