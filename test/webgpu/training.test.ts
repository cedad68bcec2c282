import { strict as assert } from 'node:assert';
import {
  compareCheck,
  compareResults,
  EDM_STEP_CHECK,
  FEATURE_NET_CHECK,
  onCpuAndWebgpu,
  SAMPLER_CHECK,
  SFD_ITERATION_CHECK,
} from '../../lib/bench/gpuNumerics';
import { requireWebgpu } from './twoBackends';

describe('WebGPU: training, distillation and sampling agree with cpu', function () {
  this.timeout(300_000);
  before(async function () {
    await requireWebgpu(this);
  });

  for (const c of [EDM_STEP_CHECK, FEATURE_NET_CHECK])
    it(c.name, async () => {
      const r = await compareCheck(c);
      assert.ok(r.ok, `max relative difference ${r.maxRelDiff.toExponential(2)} > ${c.tol}`);
    });

  it(`${SFD_ITERATION_CHECK.name}: same step losses, updates and student weights`, async () => {
    const r = await onCpuAndWebgpu(SFD_ITERATION_CHECK.run);
    // two trained steps, K·(N − 1) = 12 teacher calls, no gradient element replaced — on both backends
    for (const v of [r.cpu, r.gpu]) assert.deepEqual(Array.from(v[1]), [2, 12, 0]);
    const c = compareResults(SFD_ITERATION_CHECK, r);
    assert.ok(c.ok, `max relative difference ${c.maxRelDiff.toExponential(2)}`);
  });

  it(`${SAMPLER_CHECK.name}, which move the states from t = 80 to the data’s scale (not no-ops)`, async () => {
    const r = await onCpuAndWebgpu(SAMPLER_CHECK.run);
    const c = compareResults(SAMPLER_CHECK, r);
    assert.ok(c.ok, `max relative difference ${c.maxRelDiff.toExponential(2)}`);
    for (const v of r.gpu) assert.ok(v.every((x) => Math.abs(x) < 4) && v.some((x) => Math.abs(x) > 0.3));
  });
});
