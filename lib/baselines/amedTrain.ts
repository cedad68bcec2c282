import { loadImageTeacher } from '../models/teachers';
import { Adam } from '../train/adam';
import { checkpointJson, readCheckpoint, restoreGroup, writeCheckpoint } from '../train/checkpoint';
import { checkResumable, openRunDir } from '../train/runDir';
import { checkMemory } from '../util/memoryBudget';
import { type AmedConfig, checkAmedConfig } from './amedConfig';
import { amedTeacherRef, saveAmed } from './amedModel';
import { amedPredictorDefaults, createAmedPredictor } from './amedPredictor';
import { unetAmedTeacher } from './amedTeacher';
import { type AmedContext, amedGrid, amedIteration } from './amedTraining';

export interface AmedLogPoint {
  iteration: number;
  stepLosses: number[];
  /** Batch means of each step's r, a_n, c_n. */
  r: number[];
  scaleTime: number[];
  scaleDir: number[];
  seconds: number;
}

interface AmedCheckpointMeta {
  format: 'sfd-amed-checkpoint';
  step: number;
  adamStep: number;
  config: AmedConfig;
  teacherSha256: string;
  seconds: number;
  log: AmedLogPoint[];
  nonFiniteGrads: number;
}

export interface TrainAmedOptions {
  config: AmedConfig;
  /** Teacher name (mnist) or model directory; frozen, referenced by sha256 on the card. */
  teacher: string;
  uncheckedTeacher?: boolean;
  out: string;
  resume?: boolean;
  /** Stop once this iteration is reached, leaving only the checkpoint; `resume` continues it. */
  stopAt?: number;
  onProgress?: (p: { iteration: number; iterations: number; seconds: number; last: AmedLogPoint }) => void;
  /** Extra card fields (command, backend). */
  card?: Record<string, unknown>;
}

export interface TrainAmedResult {
  config: AmedConfig;
  iterations: number;
  seconds: number;
  log: AmedLogPoint[];
  modelDir: string;
}

/** Memory per trajectory: one backward pass through the teacher per step, as an SFD student step (6.6 MB on MNIST). */
const BYTES_PER_SAMPLE = 6.6e6;

/**
 * Trains an AMED predictor for an image teacher (official AMED training, iPNDM plugin): the iteration loop
 * around `amedIteration` with checkpoints every `checkpointEvery` iterations (atomic, hashed, with the full
 * config; `resume` continues bit for bit), a non-finite loss stopping the run with the last checkpoint
 * intact, the run directory's lock and wall seconds. The model saved at the end is the predictor alone plus
 * the teacher's name and sha256 (a few kB).
 */
export async function trainAmed(opts: TrainAmedOptions): Promise<TrainAmedResult> {
  const cfg = opts.config;
  checkAmedConfig(cfg);
  const teacher = loadImageTeacher(opts.teacher, { unchecked: opts.uncheckedTeacher });
  const amedTeacher = unetAmedTeacher(teacher.unet);
  const predictor = createAmedPredictor(
    {
      ...amedPredictorDefaults,
      featureDim: amedTeacher.featureDim,
      scaleTime: cfg.scaleTime,
      scaleDir: cfg.scaleDir,
    },
    cfg.seed,
  );
  const adam = new Adam(predictor.weights);
  let release = () => {};
  try {
    checkMemory(`AMED training at --batch ${cfg.batch}`, cfg.batch * BYTES_PER_SAMPLE, 'lower --batch');
    const ckPath = checkpointJson(opts.out);
    release = openRunDir({
      out: opts.out,
      resumeFrom: opts.resume ? ckPath : null,
      resumingOut: !!opts.resume,
      allowShipped: !!opts.card?.shipped,
      command: String(opts.card?.command ?? 'trainAmed'),
    });
    const ctx: AmedContext = { cfg, teacher: amedTeacher, predictor, adam, shape: teacher.shape };
    let it = 0;
    let seconds = 0;
    let log: AmedLogPoint[] = [];
    let nonFinite = 0;
    if (opts.resume) {
      const ck = readCheckpoint<AmedCheckpointMeta>(ckPath, 'sfd-amed-checkpoint');
      try {
        checkResumable(ckPath, ck.meta.config, cfg, 'iterations', ck.meta.step);
        if (ck.meta.teacherSha256 !== teacher.sha256)
          throw new Error(
            `--resume: ${ckPath} was trained on another teacher (sha256 ${ck.meta.teacherSha256})`,
          );
        restoreGroup(ck, 'model', predictor.weights, ckPath);
        adam.restore(ck.groups.adam ?? new Map(), ck.meta.adamStep);
        ({ step: it, seconds, log, nonFiniteGrads: nonFinite } = ck.meta);
      } finally {
        ck.dispose();
      }
    }
    const save = () =>
      writeCheckpoint<AmedCheckpointMeta>(
        ckPath,
        { model: predictor.weights, adam: adam.state() },
        {
          format: 'sfd-amed-checkpoint',
          step: it,
          adamStep: adam.step,
          config: cfg,
          teacherSha256: teacher.sha256,
          seconds,
          log,
          nonFiniteGrads: nonFinite,
        },
      );
    const stop = Math.min(cfg.iterations, opts.stopAt ?? cfg.iterations);
    while (it < stop) {
      const t0 = performance.now();
      const r = await amedIteration(ctx, it);
      seconds += (performance.now() - t0) / 1000;
      if (r.stepLosses.some((l) => !Number.isFinite(l)))
        throw new Error(
          `AMED training diverged: loss ${r.stepLosses.join(', ')} at iteration ${it}; ${it >= cfg.checkpointEvery || opts.resume ? `the last checkpoint in ${opts.out}/checkpoint is intact` : 'no checkpoint was written yet'}`,
        );
      nonFinite += r.nonFiniteGrads;
      const { stepLosses, r: rs, scaleTime, scaleDir } = r;
      const point = {
        iteration: it + 1,
        stepLosses,
        r: rs,
        scaleTime,
        scaleDir,
        seconds: Math.round(seconds * 10) / 10,
      };
      log.push(point);
      it++;
      opts.onProgress?.({ iteration: it, iterations: cfg.iterations, seconds, last: point });
      if (it % cfg.checkpointEvery === 0 || it === stop) await save();
      await new Promise((resolve) => setImmediate(resolve)); // a notebook's messages and interrupts get through
    }
    if (it < cfg.iterations) return { config: cfg, iterations: it, seconds, log, modelDir: opts.out };
    await saveAmed(opts.out, predictor, {
      ...opts.card,
      amed: { config: cfg, solver: 'ipndm', grid: amedGrid(cfg).studentTs },
      teacher: amedTeacherRef(opts.teacher, teacher.dir, teacher.sha256),
      iterations: it,
      trajectories: it * cfg.batch,
      wallSeconds: Math.round(seconds),
      nonFiniteGrads: nonFinite,
      log,
    });
    return { config: cfg, iterations: it, seconds, log, modelDir: opts.out };
  } finally {
    release();
    adam.dispose();
    predictor.dispose();
    teacher.unet.dispose();
  }
}
