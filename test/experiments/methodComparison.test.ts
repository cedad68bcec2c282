import { strict as assert } from 'node:assert';
import {
  type ComparisonRow,
  comparedMethods,
  comparisonFindings,
  comparisonTable,
  fidVsCostChart,
  findingsText,
  type MethodComparison,
  SHIPPED_BASELINES,
  TIME_SHIFT_MINUTES,
} from '../../lib/experiments/methodComparison';

const metrics = (fid: number) => ({
  fid,
  precision: 0.8,
  recall: 0.9,
  density: 0.6,
  coverage: 0.7,
  meanConfidence: 0.9,
  n: 1000,
  reference: 'test' as const,
  featureNetSha256: 'x',
});

function row(method: string, nfe: number, fid: number, o: Partial<ComparisonRow> = {}): ComparisonRow {
  return {
    method,
    family: o.trainSeconds ? 'distillation' : 'solver',
    nfe,
    sampler: { kind: 'solver', solver: 'ipndm', nfe, afs: false },
    trainSeconds: 0,
    curve: [],
    shipped: null,
    paper: null,
    metrics: metrics(fid),
    sampleSeconds: 1,
    ...o,
  };
}

/** SFD-2 trains 6 minutes and ends at quick FID 20; PD reaches 19 after 30 minutes; CD never gets below 25. */
const fixture: MethodComparison = {
  config: { n: 1000 },
  missing: [],
  reference: null,
  rows: [
    row('iPNDM', 5, 30),
    row('iPNDM + AFS', 5, 40),
    row('GITS (iPNDM)', 5, 35, { trainSeconds: 60 }),
    row('AMED-Plugin (iPNDM)', 5, 33, { trainSeconds: 120 }),
    row('SFD', 2, 14, {
      trainSeconds: 360,
      curve: [
        { seconds: 60, fid: 40, nfe: 2 },
        { seconds: 360, fid: 20, nfe: 2 },
      ],
      paper: { fid: 4.53, hours: 0.64 },
    }),
    row('PD', 2, 15, {
      trainSeconds: 3600,
      curve: [
        { seconds: 600, fid: 10, nfe: 8 }, // an earlier round at NFE 8: not NFE 2, so it does not count
        { seconds: 1200, fid: 30, nfe: 2 },
        { seconds: 1800, fid: 19, nfe: 2 },
        { seconds: 3600, fid: 17, nfe: 2 },
      ],
      paper: { fid: 4.51, hours: 171 },
    }),
    row('CD', 1, 40, {
      trainSeconds: 3000,
      curve: [
        { seconds: 1500, fid: 30, nfe: 1 },
        { seconds: 3000, fid: 25, nfe: 1 },
      ],
      paper: { fid: 3.55, hours: 1156 },
    }),
  ],
};

describe('method comparison (paper Fig. 1, Table 2)', () => {
  it('finds when PD and CD reach SFD-2’s final quick FID at their own NFE, or the lower bound on their cost', () => {
    const f = comparisonFindings(fixture);
    assert.deepEqual(f.sfd2, { fid: 14, quickFid: 20, minutes: 6, sameRunMinutes: null });
    const pd = f.distillation.find((d) => d.method === 'PD');
    assert.equal(pd?.reachedAt, 30, 'the first NFE-2 point at or below 20, not the NFE-8 round');
    assert.equal(pd?.costRatio, 5);
    assert.ok(Math.abs((pd?.paperRatio ?? 0) - 171 / 0.64) < 1e-9);
    const cd = f.distillation.find((d) => d.method === 'CD' && d.nfe === 1);
    assert.equal(cd?.reachedAt, null);
    assert.equal(cd?.bestQuickFid, 25);
    assert.equal(cd?.costRatio, 50 / 6, 'its whole budget over SFD-2’s: a lower bound');
    const text = findingsText(f, 1000).join('\n');
    assert.match(
      text,
      /PD, NFE 2: reached SFD-2's quick FID after 30\.0 CPU minutes, 5\.0× SFD-2's time \(the paper, CIFAR-10: 267×/,
    );
    assert.match(
      text,
      /CD, NFE 1: did not reach .* more than 8\.3× SFD-2's time here \(the paper, CIFAR-10: 1806×/,
    );
  });

  it('measures the ratios against SFD-2 retrained in the same run as the baselines when that was done', () => {
    const f = comparisonFindings({
      ...fixture,
      reference: { wallSeconds: 720, shippedWallSeconds: 360, sameWeights: true },
    });
    assert.equal(f.sfd2.sameRunMinutes, 12);
    assert.equal(f.distillation.find((d) => d.method === 'PD')?.costRatio, 30 / 12);
    assert.match(findingsText(f, 1000)[0], /retrained in the same run as the baselines, it took 12\.0/);
  });

  it('says whether GITS and AMED-Plugin beat their base solvers at the same NFE', () => {
    const g = comparisonFindings(fixture).solverGains;
    assert.deepEqual(
      g.map((x) => [x.method, x.base, x.beats]),
      [
        ['GITS (iPNDM)', 'iPNDM', false],
        ['AMED-Plugin (iPNDM)', 'iPNDM + AFS', true],
        ['AMED-Plugin (iPNDM)', 'iPNDM', false],
      ],
    );
  });

  it('plots minutes + the shift on a log axis, with the training curves dashed', () => {
    const c = fidVsCostChart(fixture);
    assert.ok(c.opts.logX && c.opts.logY);
    const pd = c.series.find((s) => s.name.startsWith('PD training'));
    assert.equal(pd?.name, 'PD training, NFE 8 → 2 (FID N 500)');
    assert.equal(pd?.dashed, true);
    assert.deepEqual(
      pd?.x,
      [10, 20, 30, 60].map((m) => m + TIME_SHIFT_MINUTES),
    );
    const ipndm = c.series.find((s) => s.name === 'iPNDM, NFE 5');
    assert.deepEqual(ipndm?.x, [TIME_SHIFT_MINUTES], 'a solver at 0 minutes');
  });

  it('the table carries the paper’s row and names the methods run only in the paper', () => {
    const t = comparisonTable(fixture);
    const pd = t.find((r) => r.method === 'PD');
    assert.equal(pd?.['paper FID (CIFAR-10)'], 4.51);
    assert.equal(pd?.['CPU min'], 60);
    assert.ok(t.some((r) => String(r.method).startsWith('CTM (paper only')));
  });

  it('lists the shipped SFD students, and each missing baseline with the command that makes it', () => {
    const l = comparedMethods();
    assert.deepEqual(
      l.methods.filter((m) => m.method === 'SFD').map((m) => m.nfe),
      [2, 3, 4, 5],
    );
    for (const m of l.missing) {
      assert.ok((SHIPPED_BASELINES as readonly string[]).includes(m.name));
      assert.equal(m.command, `scripts/ship-baselines.sh ${m.name}`);
    }
    const sfd2 = l.methods.find((m) => m.method === 'SFD' && m.nfe === 2);
    assert.ok(sfd2 && sfd2.trainSeconds > 0 && sfd2.curve.length > 0 && sfd2.shipped?.fid !== undefined);
  });
});
