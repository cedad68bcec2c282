import { existsSync, readFileSync } from 'node:fs';
import { writeFileAtomic } from '../util/atomicWrite';
import { type ExplicitSchedule, explicitSchedule } from './schedules';
import { solverByName, stepsForNfe } from './solvers/registry';

/**
 * A searched σ schedule on disk (`sfd gits --out FILE.json`), read back by `sfd sample|eval --schedule`.
 * It is tied to the teacher it was searched on (by the hash of its weights, or of a toy mixture's
 * parameters) and to a step count; any solver with that many steps at its NFE may sample on it.
 */
export interface ScheduleFile {
  format: 'sfd-schedule';
  version: 1;
  method: string;
  /** steps + 1 values, strictly decreasing, sigmas[0] = tMax, last = tMin. */
  sigmas: number[];
  settings: {
    /** The --teacher argument (toy name, shipped name or directory) and the model directory, if any. */
    teacher: string;
    teacherDir: string | null;
    teacherSha256: string;
    /** The solver and NFE the schedule was searched for, and its step count. */
    solver: string;
    nfe: number;
    afs: boolean;
    steps: number;
    teacherGrid: { kind: 'polynomial'; points: number; rho: number; tMin: number; tMax: number };
    teacherSolver: string;
    warmup: { n: number; seed: number };
    metric: string;
    coeff: number;
  };
  /** Teacher-grid indices of the σ values. */
  indices: number[];
  /** Denoiser evaluations of the search, summed over warm-up samples (n × teacher NFE, plus AFS trials). */
  warmupTeacherCalls: number;
  /** Teacher-solver evaluations per warm-up trajectory. */
  teacherNfe: number;
  warmupSeconds: number;
}

export function writeScheduleFile(path: string, f: ScheduleFile): void {
  writeFileAtomic(path, `${JSON.stringify(f, null, 1)}\n`);
}

/** Reads and checks a schedule file; every problem is one line naming the file. */
export function readScheduleFile(path: string): ScheduleFile {
  if (!existsSync(path)) throw new RangeError(`--schedule ${path} does not exist`);
  let f: ScheduleFile;
  try {
    f = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new RangeError(`--schedule ${path} is not JSON (${(e as Error).message.split('\n')[0]})`);
  }
  if (f?.format !== 'sfd-schedule')
    throw new RangeError(
      `--schedule ${path} is not a schedule file (no format: 'sfd-schedule'; make one with sfd gits)`,
    );
  if (typeof f.settings?.teacherSha256 !== 'string' || typeof f.method !== 'string')
    throw new RangeError(`--schedule ${path} lacks its method or settings.teacherSha256`);
  try {
    explicitSchedule(f.sigmas, f.method);
  } catch (e) {
    throw new RangeError(`--schedule ${path}: ${(e as Error).message}`);
  }
  return f;
}

/**
 * The explicit schedule of a file for one sampling run, refused (one line, both values) when its teacher
 * hash is not the sampled teacher's or its step count is not the solver's at that NFE. The file is read
 * from `path` unless the caller has read it already.
 */
export function scheduleForSampling(
  path: string,
  run: { teacherSha256: string; solver: string; nfe: number; afs: boolean },
  f: ScheduleFile = readScheduleFile(path),
): ExplicitSchedule {
  if (f.settings.teacherSha256 !== run.teacherSha256)
    throw new RangeError(
      `--schedule ${path} was searched on another teacher (${f.settings.teacher}, sha256 ${f.settings.teacherSha256}); this teacher's sha256 is ${run.teacherSha256}`,
    );
  const entry = solverByName(run.solver);
  const steps = stepsForNfe(entry, run.nfe, run.afs);
  const fileSteps = f.sigmas.length - 1;
  if (fileSteps !== steps)
    throw new RangeError(
      `--schedule ${path} has ${fileSteps} steps (made for ${f.settings.solver} at NFE ${f.settings.nfe}${f.settings.afs ? ' with AFS' : ''}); ${entry.name} at NFE ${run.nfe}${run.afs ? ' with AFS' : ''} takes ${steps}`,
    );
  return explicitSchedule(f.sigmas, f.method);
}

/** Flags that set a parametric schedule, which an explicit one replaces. */
export function refuseScheduleFlags(v: { rho?: string; 't-min'?: string; 't-max'?: string }): void {
  const given = (['rho', 't-min', 't-max'] as const).filter((k) => v[k] !== undefined);
  if (given.length)
    throw new RangeError(
      `--schedule gives the σ grid itself: drop --${given.join(', --')} (${given.length > 1 ? 'they set' : 'it sets'} the polynomial schedule)`,
    );
}
