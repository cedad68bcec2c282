import { strict as assert } from 'node:assert';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sfdTargetReport } from '../../lib/experiments/benchmark';

/** A student card with one N = 5000 evaluation at NFE 2 (the teacher's card is the shipped one). */
function student(fid: number | null, wallSeconds = 300): string {
  const dir = mkdtempSync(join(tmpdir(), 'sfd-target-'));
  const evaluation =
    fid === null
      ? []
      : [
          { n: 5000, seed: 0, nfe: 2, fid },
          { n: 1000, seed: 0, nfe: 2, fid: 1 },
        ];
  writeFileSync(join(dir, 'model.json'), JSON.stringify({ wallSeconds, backend: 'native', evaluation }));
  return dir;
}

describe('SFD targets in the benchmark', () => {
  it('compares the NFE-2 student with DPM-Solver++(3M) at NFE 5 and 10 from the cards (N = 5000 only)', () => {
    const t = sfdTargetReport(student(9));
    assert.ok(t);
    assert.ok(t.dpm5 > t.dpm10, 'the teacher card has both baselines');
    assert.deepEqual(
      [t.beatsDpm5, t.within115OfDpm10, t.fastEnough],
      [9 < t.dpm5, 9 <= 1.15 * t.dpm10, true],
    );
    const slow = sfdTargetReport(student(t.dpm5 + 0.01, 601));
    assert.deepEqual([slow?.beatsDpm5, slow?.fastEnough, slow?.minutes], [false, false, 601 / 60]);
  });

  it('is null without a shipped student or its evaluation', () => {
    assert.equal(sfdTargetReport(student(null)), null);
    assert.equal(sfdTargetReport(join(tmpdir(), 'no-such-student')), null);
  });
});
