import { createHash } from 'node:crypto';
import { isAbsolute, relative } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { Denoiser } from '../diffusion/denoiser';
import { type GitsMetric, gitsDefaults, gitsSchedule } from '../diffusion/gits';
import { edmImageSchedule } from '../diffusion/sampleImages';
import { readScheduleFile, type ScheduleFile, scheduleForSampling } from '../diffusion/scheduleFile';
import { defaultSchedule, type ExplicitSchedule } from '../diffusion/schedules';
import { solverByName, stepsForNfe } from '../diffusion/solvers/registry';
import { gmmDenoiser } from '../models/gmm';
import { loadImageTeacher } from '../models/teachers';
import { TOY_MIXTURES } from '../models/toys';
import { repoRoot } from '../runtime/paths';
import { canonicalJson } from '../util/canonicalJson';
import { makeRng } from '../util/rng';
import { toyNoise } from './toySolve';

/** A path relative to the repository when it lies inside it, else as given. */
function repoRelative(path: string): string {
  const rel = relative(repoRoot(), path);
  return rel.startsWith('..') || isAbsolute(rel) ? path : rel;
}

/** A toy teacher's identity for schedule files: the sha256 of its mixture's parameters (canonical JSON). */
export function toyTeacherSha256(name: string): string {
  const make = TOY_MIXTURES[name];
  if (!make) throw new RangeError(`unknown toy teacher '${name}' (${Object.keys(TOY_MIXTURES).join(', ')})`);
  return createHash('sha256')
    .update(canonicalJson({ toyMixture: make() }))
    .digest('hex');
}

export interface GitsConfig {
  /** Toy name (gmm2d, ring, grid), shipped image teacher (mnist) or model directory. */
  teacher: string;
  /** The sampling solver and NFE the schedule is for (they fix its step count). */
  solver: string;
  nfe: number;
  afs: boolean;
  warmup: number;
  seed: number;
  metric: GitsMetric;
  coeff: number;
  teacherPoints: number;
  teacherSolver: string;
  /** Teacher grid; tMin/tMax default to the teacher kind's sampling range (toys 0.006…80, images EDM's 0.002…80). */
  rho: number;
  tMin?: number;
  tMax?: number;
  /** Load a hand-made model directory without a sha256 in its card. */
  unchecked?: boolean;
  onProgress?: (done: number, total: number) => void;
}

export const gitsConfigDefaults = {
  solver: 'ipndm',
  afs: false,
  warmup: gitsDefaults.warmup,
  // not 0: sampling's default seed, so that sampling on the schedule with the defaults is held out
  seed: 1000,
  metric: gitsDefaults.metric,
  coeff: gitsDefaults.coeff,
  teacherPoints: gitsDefaults.teacherPoints,
  teacherSolver: gitsDefaults.teacherSolver,
  rho: gitsDefaults.rho,
};

interface LoadedTeacher {
  denoise: Denoiser;
  sha256: string;
  dir: string | null;
  noise: (n: number, seed: number, tMax: number) => tf.Tensor;
  range: { tMin: number; tMax: number };
  dispose: () => void;
}

function loadTeacher(name: string, unchecked?: boolean): LoadedTeacher {
  if (TOY_MIXTURES[name]) {
    const gmm = TOY_MIXTURES[name]();
    return {
      denoise: gmmDenoiser(gmm),
      sha256: toyTeacherSha256(name),
      dir: null,
      noise: (n, seed, tMax) => tf.tensor2d(toyNoise(n, gmm.means[0].length, tMax, seed)),
      range: defaultSchedule,
      dispose: () => {},
    };
  }
  const t = loadImageTeacher(name, { unchecked });
  const per = t.shape[0] * t.shape[1] * t.shape[2];
  return {
    denoise: t.denoise,
    sha256: t.sha256,
    dir: t.dir,
    // the same noise stream as sampleImages: sample i's x_T depends only on (seed, i)
    noise: (n, seed, tMax) => {
      const rng = makeRng(seed);
      return tf.tensor4d(
        Float32Array.from({ length: n * per }, () => tMax * rng.normal()),
        [n, ...t.shape],
      );
    },
    range: edmImageSchedule,
    dispose: () => t.unet.dispose(),
  };
}

/** Warm-up samples per teacher solve for image teachers (toys take all at once). */
const IMAGE_WARMUP_BATCH = 128;

/** Searches a GITS schedule for a teacher and returns the schedule file's contents. */
export function makeGitsSchedule(cfg: GitsConfig): ScheduleFile {
  const entry = solverByName(cfg.solver);
  const steps = stepsForNfe(entry, cfg.nfe, cfg.afs);
  if (!Number.isInteger(cfg.warmup) || cfg.warmup < 1)
    throw new RangeError(`--warmup must be a positive integer, got ${cfg.warmup}`);
  const teacher = loadTeacher(cfg.teacher, cfg.unchecked);
  try {
    const tMin = cfg.tMin ?? teacher.range.tMin;
    const tMax = cfg.tMax ?? teacher.range.tMax;
    const t0 = performance.now();
    const noise = teacher.noise(cfg.warmup, cfg.seed, tMax);
    let r: ReturnType<typeof gitsSchedule>;
    try {
      r = gitsSchedule(teacher.denoise, noise, {
        steps,
        teacherPoints: cfg.teacherPoints,
        teacherSolver: cfg.teacherSolver,
        metric: cfg.metric,
        coeff: cfg.coeff,
        tMin,
        tMax,
        rho: cfg.rho,
        batch: teacher.dir === null ? undefined : IMAGE_WARMUP_BATCH,
        afs: cfg.afs ? { solver: entry.name } : undefined,
        onProgress: cfg.onProgress,
      });
    } finally {
      noise.dispose();
    }
    const warmupSeconds = (performance.now() - t0) / 1000;
    return {
      format: 'sfd-schedule',
      version: 1,
      method: 'gits',
      sigmas: r.sigmas,
      settings: {
        teacher: cfg.teacher,
        // repository-relative when inside it, so that a shipped schedule does not name the machine that made it
        teacherDir: teacher.dir === null ? null : repoRelative(teacher.dir),
        teacherSha256: teacher.sha256,
        solver: entry.name,
        nfe: cfg.nfe,
        afs: cfg.afs,
        steps,
        teacherGrid: { kind: 'polynomial', points: cfg.teacherPoints, rho: cfg.rho, tMin, tMax },
        teacherSolver: cfg.teacherSolver,
        warmup: { n: cfg.warmup, seed: cfg.seed },
        metric: cfg.metric,
        coeff: cfg.coeff,
      },
      indices: r.indices,
      warmupTeacherCalls: r.teacherCalls,
      teacherNfe: r.teacherNfe,
      warmupSeconds: Math.round(warmupSeconds * 100) / 100,
    };
  } finally {
    teacher.dispose();
  }
}

/**
 * `sfd sample --schedule FILE` for a toy teacher: the file's explicit grid, checked against the teacher
 * (the hash of its mixture) and the solver's steps at --nfe, as overrides of the toy sampling config (whose
 * range and ρ become the file's). An unknown teacher gives none: sampleToy names it.
 */
export function toyScheduleFile(
  path: string,
  cfg: { teacher: string; solver: string; nfe: number; afs: boolean },
): { schedule: ExplicitSchedule; rho: number; tMin: number; tMax: number } | undefined {
  if (!TOY_MIXTURES[cfg.teacher]) return undefined;
  const f = readScheduleFile(path);
  const schedule = scheduleForSampling(path, { ...cfg, teacherSha256: toyTeacherSha256(cfg.teacher) }, f);
  return { schedule, rho: f.settings.teacherGrid.rho, tMin: schedule.tMin, tMax: schedule.tMax };
}
