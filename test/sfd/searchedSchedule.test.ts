import { strict as assert } from 'node:assert';
import { explicitSchedule, polynomialGrid, teacherGrid } from '../../lib/diffusion/schedules';
import { gitsConfigDefaults, makeGitsSchedule } from '../../lib/experiments/gitsSearch';
import { meanDistance, toyNoise } from '../../lib/experiments/toySolve';
import { gmmOdeSolution } from '../../lib/models/gmm';
import { createToyMlp, fitToyMlp, type ToyMlp } from '../../lib/models/toyMlp';
import { TOY_MIXTURES } from '../../lib/models/toys';
import { checkSfdConfig, sfdDefaults } from '../../lib/sfd/config';
import { stage2Config } from '../../lib/sfd/stage2';
import { toyEulerEndpoints, toySampling, toySfd, toySfdDefaults } from '../../lib/sfd/toyDistill';

describe('SFD on a searched (explicit) student grid', function () {
  this.timeout(120_000);

  it('the teacher grid refines an explicit grid interval by interval: a copy of a ρ = 7 grid gives the polynomial one', () => {
    const poly = sfdDefaults.schedule;
    const sigmas = polynomialGrid(4, poly.tMin, poly.tMax, poly.rho);
    const a = teacherGrid(4, 4, poly);
    const b = teacherGrid(4, 4, explicitSchedule(sigmas, 'test'));
    assert.deepEqual(b.studentIndices, [0, 4, 8, 12]);
    assert.deepEqual(b.studentTs, sigmas);
    for (const [i, t] of b.ts.entries())
      assert.ok(Math.abs(t - a.ts[i]) <= 1e-12 * a.ts[i], `t[${i}] ${t} vs ${a.ts[i]}`);
    // an arbitrary grid keeps its own points exactly and refines strictly inside each interval
    const g = teacherGrid(3, 3, explicitSchedule([80, 2, 0.006], 'test'));
    assert.deepEqual([g.ts[0], g.ts[3], g.ts[6]], [80, 2, 0.006]);
    for (let i = 1; i < g.ts.length; i++) assert.ok(g.ts[i] < g.ts[i - 1]);
  });

  it('is one grid for one NFE: SFD-v, a grid of the wrong length and stage 2 from it are refused in one line', () => {
    const s = explicitSchedule([80, 10, 1, 0.006], 'gits');
    checkSfdConfig({ ...sfdDefaults, nfes: [2], schedule: s }); // NFE 2 with AFS: 4 timestamps
    assert.throws(
      () => checkSfdConfig({ ...sfdDefaults, nfes: [2, 3], condition: 'step', schedule: s }),
      /an explicit \(gits\) schedule is one grid for one NFE; SFD-v \(NFEs 2, 3\) needs a parametric one/,
    );
    assert.throws(
      () => checkSfdConfig({ ...sfdDefaults, nfes: [3], schedule: s }),
      /the gits schedule has 4 σ values \(3 steps\), the sampler needs 5/,
    );
    const card = {
      stage: 1,
      config: sfdDefaults,
      sampling: { nfes: [2], afs: true, schedule: s, condition: 'none' },
    };
    assert.throws(
      // biome-ignore lint/suspicious/noExplicitAny: a hand-made stage-1 section
      () => stage2Config(card as any, 'dir', { ...sfdDefaults, nfes: [1] }),
      /stage 2 needs a stage-1 student on a parametric grid; dir samples on an explicit \(gits\) one/,
    );
  });

  it('exact mixture teacher: SFD trained on a GITS grid lands ≥ 3× closer to the exact endpoints than undistilled Euler on it', async () => {
    const gmm = TOY_MIXTURES.gmm2d();
    const { tMax, tMin } = toySfdDefaults.schedule;
    const file = makeGitsSchedule({
      ...gitsConfigDefaults,
      teacher: 'gmm2d',
      solver: 'euler',
      nfe: 2,
      afs: true,
      warmup: 64,
      metric: 'l2',
      tMin,
      tMax,
    });
    const schedule = explicitSchedule(file.sigmas, 'gits');
    const xT = toyNoise(200, 2, tMax, 90_210);
    const exact = xT.map((z) => gmmOdeSolution(gmm, z, tMax, [tMin], 100)[0]);
    const fitted: ToyMlp = createToyMlp({}, 0);
    fitToyMlp(fitted, gmm);
    try {
      const r = await toySfd(fitted, gmm, { cfg: { nfes: [2], schedule } });
      assert.equal(r.log[0].teacherCalls, r.cfg.k * 3, 'K teacher steps per interval of the 4-point grid');
      const sampling = toySampling(r.cfg);
      const undistilled = meanDistance(await toyEulerEndpoints(fitted.denoise, sampling, 2, xT), exact);
      const distilled = meanDistance(await toyEulerEndpoints(r.student.denoise, sampling, 2, xT), exact);
      assert.ok(
        distilled < undistilled / 3,
        `distilled ${distilled.toFixed(4)} vs undistilled Euler ${undistilled.toFixed(4)} on σ ${file.sigmas.map((x) => x.toPrecision(3)).join(', ')}`,
      );
      r.student.dispose();
    } finally {
      fitted.dispose();
    }
  });
});
