import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadAmed } from '../baselines/amedModel';
import { sampleAmedImages } from '../baselines/amedSampler';
import {
  consistencySamplerFromCard,
  consistencySection,
  isConsistencyCard,
  sampleConsistencyImages,
} from '../baselines/consistencySampler';
import type { Denoiser } from '../diffusion/denoiser';
import { edmImageSchedule, type ImageSampling, sampleImages } from '../diffusion/sampleImages';
import { distilledSampling } from '../models/card';
import { loadImageTeacher, teacherDir } from '../models/teachers';
import { readJsonFile } from '../models/weightsIO';
import { studentSampler } from '../sfd/sampleStudent';

/** How `openImageModel` is asked to sample (the CLI builds this from its flags). */
export interface ImageModelRequest {
  /** Model calls per sample: a teacher's solver NFE, one of a student's NFEs, 1 or 2 for a consistency model. */
  nfe?: number;
  /** The flags given that set a solver (`--solver`, `--rho` …): only a teacher takes them. */
  solverFlags?: string[];
  /** A teacher's solver, schedule and NFE from the flags, given its weights' sha256 (a schedule file names it). */
  teacherSampling?: (teacherSha256: string) => ImageSampling;
  unchecked?: boolean;
}

/** What kind of image model a directory holds: they differ in how they sample. */
export type ImageModelKind = 'teacher' | 'sfd' | 'pd' | 'cd' | 'amed';

/** Images per sampling batch. */
export const SAMPLE_BATCH = 250;

/**
 * Any image model as one sampler: a teacher with a solver from the flags, an SFD or PD student on its own grid,
 * a consistency model with its 1- or 2-step sampler, an AMED predictor driving its teacher. Sample i's noise
 * depends only on (seed, i) for every kind.
 */
export interface ImageModelSampler {
  kind: ImageModelKind;
  /** The directory holding the card (where `--record` writes). */
  dir: string;
  /** [h, w, c] of one image. */
  shape: [number, number, number];
  /** Model calls per sample. */
  nfe: number;
  /** What the samples are, recorded beside their metrics (model, its hash, how it sampled). */
  describe: Record<string, unknown>;
  /** n samples, NHWC in [−1, 1]; `progress(done, total)` is counted in model calls. */
  sample(n: number, seed: number, progress?: (done: number, total: number) => void): Promise<Float32Array>;
  dispose(): void;
}

/** Refuses the solver flags for a model that samples only as it was trained. */
function refuseSolverFlags(r: ImageModelRequest, what: string): void {
  const given = r.solverFlags ?? [];
  if (given.length) throw new RangeError(`${what}; drop --${given.join(', --')}`);
}

/** Model calls to sample `images` at an NFE, a batch of SAMPLE_BATCH images per call. */
const batchCalls = (images: number, nfe: number) => Math.ceil(images / SAMPLE_BATCH) * nfe;

/** Counts a denoiser's calls for a progress line (a batch of b images at NFE k is k calls). */
function ticking(
  denoise: Denoiser,
  total: number,
  progress?: (done: number, total: number) => void,
): Denoiser {
  let calls = 0;
  return (x, t, c) => {
    const out = denoise(x, t, c);
    calls++;
    progress?.(Math.min(calls, total), total);
    return out;
  };
}

/** Opens the image model named or stored at `nameOrDir`; refuses flags that do not apply to its kind. */
export function openImageModel(nameOrDir: string, request: ImageModelRequest = {}): ImageModelSampler {
  const dir = teacherDir(nameOrDir);
  const cardPath = join(dir, 'model.json');
  if (existsSync(cardPath) && readJsonFile(cardPath, `the model.json of ${dir}`).format === 'sfd-amed')
    return openAmed(nameOrDir, dir, request);
  const teacher = loadImageTeacher(nameOrDir, { unchecked: request.unchecked });
  const base = {
    dir: teacher.dir,
    shape: teacher.shape,
    dispose: () => teacher.unet.dispose(),
  };
  const model = { teacher: nameOrDir, teacherSha256: teacher.sha256, teacherSteps: teacher.card.steps };
  try {
    if (isConsistencyCard(teacher.card)) {
      refuseSolverFlags(
        request,
        `${teacher.dir} is a consistency model: it samples with its own 1- or 2-step sampler`,
      );
      const nfe = request.nfe ?? 1;
      const sampler = consistencySamplerFromCard(teacher.card, teacher.unet);
      const taus = sampler.taus(nfe);
      return {
        ...base,
        kind: 'cd',
        nfe,
        describe: {
          ...model,
          method: 'cd',
          nfe,
          taus,
          sigmaMin: consistencySection(teacher.card).config.schedule.tMin,
        },
        sample: (n, seed, progress) =>
          sampleConsistencyImages(sampler, teacher.shape, n, nfe, seed, SAMPLE_BATCH, (done, total) =>
            progress?.(batchCalls(done, nfe), batchCalls(total, nfe)),
          ),
      };
    }
    const distilled = distilledSampling(teacher.card);
    let denoise = teacher.denoise;
    let cfg: ImageSampling;
    if (distilled) {
      refuseSolverFlags(
        request,
        `${teacher.dir} is ${distilled.method === 'pd' ? 'a Progressive-Distillation' : 'an SFD'} student: it samples as it was trained (Euler, its grid and AFS)`,
      );
      const s = studentSampler(teacher.denoise, distilled.sampling, request.nfe);
      denoise = s.denoise;
      cfg = s.sampling;
    } else {
      cfg = request.teacherSampling?.(teacher.sha256) ?? {
        solver: 'heun',
        nfe: 36,
        afs: false,
        threshold: false,
        schedule: edmImageSchedule,
      };
      if (request.nfe !== undefined) cfg = { ...cfg, nfe: request.nfe };
    }
    const student = distilled
      ? {
          student: true,
          // an SFD student's records keep the fields they had before other methods shipped (a re-evaluation
          // replaces its old record instead of adding a second one: lib/eval/recordEvaluation.ts)
          ...(distilled.method === 'sfd' ? {} : { method: distilled.method }),
          condition: distilled.sampling.condition,
        }
      : {};
    return {
      ...base,
      kind: distilled ? distilled.method : 'teacher',
      nfe: cfg.nfe,
      describe: { ...model, ...student, ...cfg },
      sample: async (n, seed, progress) => {
        const total = Math.ceil(n / SAMPLE_BATCH) * cfg.nfe;
        const r = await sampleImages(
          ticking(denoise, total, progress),
          teacher.shape,
          n,
          seed,
          cfg,
          SAMPLE_BATCH,
        );
        return r.pixels;
      },
    };
  } catch (e) {
    teacher.unet.dispose();
    throw e;
  }
}

function openAmed(nameOrDir: string, dir: string, request: ImageModelRequest): ImageModelSampler {
  refuseSolverFlags(
    request,
    `${dir} is an AMED-Plugin predictor: it drives iPNDM on the grid it was trained for`,
  );
  const m = loadAmed(dir, { unchecked: request.unchecked });
  const nfe = m.sampler.nfe;
  if (request.nfe !== undefined && request.nfe !== nfe) {
    m.dispose();
    throw new RangeError(
      `${dir} samples at NFE ${nfe} only (its predictor was trained for that grid), not ${request.nfe}`,
    );
  }
  const { config, solver } = m.card.amed;
  return {
    kind: 'amed',
    dir,
    shape: m.shape,
    nfe,
    describe: {
      teacher: nameOrDir,
      teacherSha256: m.sha256,
      baseTeacherSha256: m.card.teacher.sha256,
      method: 'amed',
      solver,
      nfe,
      afs: config.afs,
      maxOrder: config.maxOrder,
      schedule: config.schedule,
    },
    sample: async (n, seed, progress) =>
      (
        await sampleAmedImages(m.sampler, m.shape, n, seed, SAMPLE_BATCH, (done, total) =>
          progress?.(batchCalls(done, nfe), batchCalls(total, nfe)),
        )
      ).pixels,
    dispose: () => m.dispose(),
  };
}
