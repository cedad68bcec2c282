import { strict as assert } from 'node:assert';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sfdTargetReport } from '../../lib/bench/benchmark';

/**
 * A student card whose N = 5000, seed-0 evaluation at NFE 2 (with AFS, as students sample) has this FID,
 * listed after decoys that the report must skip (another N, another seed); the teacher's card is the
 * shipped one, whose plain-sampler baselines the report must pick.
 */
function student(fid: number | null, extra: Record<string, unknown> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'sfd-target-'));
  const decoys = [
    { n: 1000, seed: 0, nfe: 2, fid: 1 },
    { n: 5000, seed: 1, nfe: 2, fid: 2, afs: true },
  ];
  const evaluation = fid === null ? decoys : [...decoys, { n: 5000, seed: 0, nfe: 2, fid, afs: true }];
  writeFileSync(
    join(dir, 'model.json'),
    JSON.stringify({ wallSeconds: 300, backend: 'native', evaluation, cachedTargetIterations: 0, ...extra }),
  );
  return dir;
}

describe('SFD targets in the benchmark', () => {
  it("reads the NFE-2 student's N = 5000 FID and the teacher's DPM-Solver++(3M) baselines at NFE 5 and 10", () => {
    const t = sfdTargetReport(student(9));
    assert.ok(t);
    assert.equal(t.fid, 9, 'the decoy evaluations are skipped');
    // the shipped teacher's card (README): 11.14 at NFE 5, 9.89 at NFE 10
    assert.deepEqual([t.dpm5.toFixed(2), t.dpm10.toFixed(2)], ['11.14', '9.89']);
    assert.deepEqual([t.beatsDpm5, t.within115OfDpm10, t.fastEnough, t.minutes], [true, true, true, 5]);
  });

  it('says not met where the FID or the time misses, and for a run that read its teacher from the cache', () => {
    const between = sfdTargetReport(student(11.5)); // above 11.14 and above 1.15 × 9.89 = 11.37
    assert.deepEqual([between?.beatsDpm5, between?.within115OfDpm10], [false, false]);
    const close = sfdTargetReport(student(11.3)); // above 11.14, within 11.37
    assert.deepEqual([close?.beatsDpm5, close?.within115OfDpm10], [false, true]);
    assert.equal(sfdTargetReport(student(9, { wallSeconds: 601 }))?.fastEnough, false);
    const cached = sfdTargetReport(student(9, { cachedTargetIterations: 600 }));
    assert.deepEqual([cached?.fastEnough, cached?.cachedTargetIterations], [false, 600]);
  });

  it("reads the shipped NFE-2 student's card", () => {
    const t = sfdTargetReport();
    assert.ok(t, 'data/students/sfd-nfe2 has an N = 5000 evaluation');
    assert.equal(t.fastEnough, t.minutes <= 10 && t.cachedTargetIterations === 0);
  });

  it('is null without a shipped student or its evaluation', () => {
    assert.equal(sfdTargetReport(student(null)), null);
    assert.equal(sfdTargetReport(join(tmpdir(), 'no-such-student')), null);
  });
});
