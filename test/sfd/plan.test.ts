import { strict as assert } from 'node:assert';
import { timeGrid } from '../../lib/diffusion/schedules';
import { type SfdConfig, sfdDefaults } from '../../lib/sfd/config';
import { planIteration } from '../../lib/sfd/plan';

const cfg: SfdConfig = { ...sfdDefaults, nfes: [2], k: 4 };
const kinds = (c: SfdConfig) => planIteration(c, 0).steps.map((s) => s.kind);

describe('planIteration (what one SFD iteration does, as data)', () => {
  it('walks the N-point student grid (N = NFE + 2 with AFS), step j from ts[j] to ts[j+1]', () => {
    const plan = planIteration(cfg, 0);
    const ts = timeGrid(4, cfg.schedule);
    assert.equal(plan.n, 4);
    assert.deepEqual(plan.grid.studentTs, ts);
    assert.deepEqual(
      plan.steps.map((s) => [s.j, s.t, s.tNext]),
      [0, 1, 2].map((j) => [j, ts[j], ts[j + 1]]),
    );
  });

  it('N = NFE + 1 without AFS', () => {
    assert.equal(planIteration({ ...cfg, afs: false }, 0).n, 3);
  });

  it('the teacher grid has K·(N−1)+1 points and holds the student grid bit for bit at every K-th point', () => {
    const { grid } = planIteration(cfg, 0);
    assert.equal(grid.ts.length, 4 * 3 + 1);
    assert.deepEqual(grid.studentIndices, [0, 4, 8, 12]);
    assert.deepEqual(
      grid.studentIndices.map((i) => grid.ts[i]),
      grid.studentTs,
    );
  });

  it('plain SFD passes no condition', () => {
    assert.ok(planIteration(cfg, 0).steps.every((s) => s.cond === undefined));
  });

  it('step condition: N at every step', () => {
    const plan = planIteration({ ...cfg, condition: 'step' }, 0);
    assert.deepEqual(
      plan.steps.map((s) => s.cond),
      [{ step: 4 }, { step: 4 }, { step: 4 }],
    );
  });

  it('tnext condition: the step’s next timestamp', () => {
    const plan = planIteration({ ...cfg, condition: 'tnext' }, 0);
    assert.deepEqual(
      plan.steps.map((s) => s.cond),
      plan.steps.map((s) => ({ tNext: s.tNext })),
    );
  });

  it('with AFS step 0 is the AFS step and every other step trains', () => {
    assert.deepEqual(kinds(cfg), ['afs', 'train', 'train']);
  });

  it('without AFS every step trains', () => {
    assert.deepEqual(kinds({ ...cfg, afs: false }), ['train', 'train']);
  });

  it('onlySteps trains only those steps; the others just move forward', () => {
    assert.deepEqual(kinds({ ...cfg, nfes: [3], onlySteps: [2] }), ['afs', 'forward', 'train', 'forward']);
  });

  it('SFD-v’s draw of the NFE is a pure function of (seed, iteration)', () => {
    const v: SfdConfig = { ...cfg, nfes: [2, 3, 4, 5], condition: 'step' };
    const draws = (seed: number) =>
      Array.from({ length: 40 }, (_, i) => planIteration({ ...v, seed }, i).nfe);
    assert.deepEqual(draws(0), draws(0));
    assert.notDeepEqual(draws(0), draws(1));
  });

  it('SFD-v’s draws cover the whole NFE list, each N matching its NFE', () => {
    const v: SfdConfig = { ...cfg, nfes: [2, 3, 4, 5], condition: 'step' };
    const plans = Array.from({ length: 100 }, (_, i) => planIteration(v, i));
    assert.deepEqual(
      [...new Set(plans.map((p) => p.nfe))].sort((a, b) => a - b),
      [2, 3, 4, 5],
    );
    assert.ok(plans.every((p) => p.n === p.nfe + 2 && p.steps.length === p.n - 1));
  });
});
