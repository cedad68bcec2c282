import { strict as assert } from 'node:assert';
import { type SfdConfig, sfdDefaults } from '../../lib/sfd/config';
import { type StudentCardSfd, stage2Config } from '../../lib/sfd/stage2';

const schedule = { kind: 'polynomial' as const, rho: 5, tMin: 0.01, tMax: 60 };

/** A stage-1 card: an SFD-v student (AFS, step condition) trained for NFEs `nfes`. */
function stage1(nfes: number[], afs = true): StudentCardSfd {
  return {
    stage: 1,
    config: { ...sfdDefaults, nfes, afs, condition: 'step', schedule },
    sampling: { nfes, afs, schedule, condition: 'step' },
  };
}

/** A 1-NFE student config (stage 2's default). */
const student: SfdConfig = { ...sfdDefaults, nfes: [1], afs: true };

describe('stage2Config (two-stage SFD: a stage-1 student as the teacher)', () => {
  it('a 5-NFE teacher (7 timestamps) over a 1-NFE student (3) gives K = (7 − 1)/(3 − 1) = 3', () => {
    assert.equal(stage2Config(stage1([5]), 't', student).k, 3);
  });

  it('the teacher defaults to the stage-1 student’s largest NFE', () => {
    assert.equal(stage2Config(stage1([2, 3, 4, 5]), 't', student).k, 3);
  });

  it('a 3-NFE teacher (5 timestamps) gives K = 2', () => {
    assert.equal(stage2Config(stage1([2, 3, 4, 5]), 't', student, 3).k, 2);
  });

  it('without AFS on either side N = NFE + 1: a 5-NFE teacher (6) over 1 NFE (2) gives K = 5', () => {
    assert.equal(stage2Config(stage1([5], false), 't', { ...student, afs: false }).k, 5);
  });

  it('K must be an integer: a 2- or 4-NFE teacher over 1 NFE (K = 1.5, 2.5) is refused', () => {
    for (const nfe of [2, 4])
      assert.throws(
        () => stage2Config(stage1([2, 3, 4, 5]), 't', student, nfe),
        /the teacher's \d-point grid must contain the student's 3-point grid/,
      );
  });

  it('K must be at least 2: a teacher no finer than its student is refused', () => {
    assert.throws(() => stage2Config(stage1([1]), 't', student), /K = \(3−1\)\/\(3−1\) an integer ≥ 2/);
  });

  it('the stage-1 card fixes the teacher run: Euler, no thresholding, its AFS, schedule and condition', () => {
    const c = stage2Config(stage1([5]), 't', { ...student, condition: 'none', teacherAfs: false });
    assert.deepEqual(
      [c.teacherSolver, c.teacherThreshold, c.teacherAfs, c.schedule, c.condition],
      ['euler', false, true, schedule, 'step'],
    );
  });

  it('refuses a teacher that is not a stage-1 student', () => {
    assert.throws(() => stage2Config(undefined, 'm', student), /m is not an SFD student/);
    assert.throws(() => stage2Config({ ...stage1([5]), stage: 2 }, 'm', student), /m is a stage-2 student/);
  });

  it('refuses a teacher NFE the stage-1 student was not trained for', () => {
    assert.throws(() => stage2Config(stage1([2, 5]), 'm', student, 3), /m was trained for NFE 2, 5, not 3/);
  });

  it('refuses more than one student NFE', () => {
    assert.throws(() => stage2Config(stage1([5]), 'm', { ...student, nfes: [1, 2] }), /one student NFE/);
  });
});
