import { type SfdConfig, studentTimestamps } from './config';
import type { StudentSampling } from './sampleStudent';

/** What a student's card says about how it was made (the `sfd` field). */
export interface StudentCardSfd {
  stage: 1 | 2;
  config: SfdConfig;
  sampling: StudentSampling;
}

/**
 * Two-stage SFD for 1 NFE (spec §5): the teacher is a stage-1 student run as its own sampler (Euler on
 * its grid, its AFS, its condition, at its largest NFE — officially the 5-NFE model, 7 timestamps), and the
 * student (a copy of it) makes one AFS step and one network step. The teacher grid must contain the
 * student's: K = (N_teacher − 1)/(N − 1) must be an integer. Settings the stage-1 card fixes (schedule,
 * condition, teacher AFS) override `cfg`.
 */
export function stage2Config(
  teacherSfd: StudentCardSfd | undefined,
  teacherDir: string,
  cfg: SfdConfig,
  teacherNfe?: number,
): SfdConfig {
  if (teacherSfd?.stage !== 1)
    throw new RangeError(
      `stage 2 distils a stage-1 SFD or SFD-v student; ${teacherDir} is ${teacherSfd ? 'a stage-2 student' : 'not an SFD student'}`,
    );
  const s = teacherSfd.sampling;
  if (s.schedule.kind === 'explicit')
    throw new RangeError(
      `stage 2 needs a stage-1 student on a parametric grid; ${teacherDir} samples on an explicit (${s.schedule.method}) one`,
    );
  const nfeT = teacherNfe ?? Math.max(...s.nfes);
  if (!s.nfes.includes(nfeT))
    throw new RangeError(`stage 2: ${teacherDir} was trained for NFE ${s.nfes.join(', ')}, not ${nfeT}`);
  if (cfg.nfes.length !== 1) throw new RangeError('stage 2 trains one student NFE (official: 1)');
  const nT = studentTimestamps(nfeT, s.afs);
  const n = studentTimestamps(cfg.nfes[0], cfg.afs);
  const k = (nT - 1) / (n - 1);
  if (!Number.isInteger(k) || k < 2)
    throw new RangeError(
      `stage 2: the teacher's ${nT}-point grid must contain the student's ${n}-point grid with K = (${nT}−1)/(${n}−1) an integer ≥ 2`,
    );
  return {
    ...cfg,
    k,
    teacherSolver: 'euler',
    teacherThreshold: false,
    teacherAfs: s.afs,
    schedule: s.schedule,
    condition: s.condition,
  };
}
