import { loadFeatureNet } from '../eval/featureNetFiles';
import { lpipsDistance } from '../eval/lpips';
import { studentSfd } from '../models/card';
import { loadImageTeacher } from '../models/teachers';
import type { UNetConfig } from '../models/unet';
import { saveUNet } from '../models/unetFiles';
import { Adam } from '../train/adam';
import { checkpointJson, readCheckpoint, restoreGroup, writeCheckpoint } from '../train/checkpoint';
import { dropStep, learningRateAt } from '../train/lrSchedule';
import { checkResumable, openRunDir } from '../train/runDir';
import { checkMemory } from '../util/memoryBudget';
import { conditionedDenoiser } from './conditioned';
import { checkSfdConfig, type SfdConfig } from './config';
import { type SfdContext, sfdIteration } from './iteration';
import type { IterationPlan } from './plan';
import { type StudentSampling, studentSampler } from './sampleStudent';
import { type StudentCardSfd, stage2Config } from './stage2';
import type { PerceptualDistance } from './stepLoss';
import { type ImageStudent, studentFromTeacher } from './student';
import type { TargetSource } from './targetCache';

export interface SfdLogPoint {
  iteration: number;
  nfe: number;
  /** Loss of each student step. */
  stepLosses: number[];
  lr: number;
  seconds: number;
  /** Teacher denoiser calls (0: its trajectories came from the cache; absent in runs before it was logged). */
  teacherCalls?: number;
}

export interface SfdEvalPoint {
  iteration: number;
  nfe: number;
  fid: number;
  seconds: number;
}

interface StudentCheckpointMeta {
  format: 'sfd-student-checkpoint';
  step: number;
  /** Adam's update count (one per trained student step, so not the iteration count). */
  adamStep: number;
  config: SfdConfig;
  stage: 1 | 2;
  teacherSha256: string;
  seconds: number;
  log: SfdLogPoint[];
  evals: SfdEvalPoint[];
  nonFiniteGrads: number;
}

export interface TrainSfdOptions {
  config: SfdConfig;
  /** Teacher name or model directory (stage 2: a stage-1 student). */
  teacher: string;
  /** Load a hand-made teacher whose card has no sha256 (warned; see loadWeights). */
  uncheckedTeacher?: boolean;
  out: string;
  stage?: 1 | 2;
  /** Stage 2: which of the stage-1 student's NFEs is the teacher (default its largest). */
  teacherNfe?: number;
  resume?: boolean;
  /**
   * Stop once this iteration is reached, leaving only the checkpoint (as if the run were killed there; the
   * learning-rate drop stays where the full run puts it). `resume` continues it.
   */
  stopAt?: number;
  /** Every this many iterations, `evaluate` scores the student at each of its NFEs (FID curves). */
  evalEvery?: number;
  evaluate?: (sample: ReturnType<typeof studentSampler>) => Promise<number> | number;
  /** Supplies teacher states (the trajectory cache); default: solve the teacher each iteration. */
  targets?: TargetSource;
  onProgress?: (p: { iteration: number; iterations: number; seconds: number; last: SfdLogPoint }) => void;
  onEval?: (e: SfdEvalPoint) => void;
  /** Extra card fields (command, backend). */
  card?: Record<string, unknown>;
}

export interface TrainSfdResult {
  config: SfdConfig;
  iterations: number;
  seconds: number;
  log: SfdLogPoint[];
  evals: SfdEvalPoint[];
  modelDir: string;
}

/**
 * Memory one trajectory of a batch takes in an SFD iteration: the student's activations kept for its
 * gradient and the teacher's states. Measured for the MNIST teacher's UNet (28², channels 16/32/64): peak
 * RSS of `sfd distill --iterations 1 --no-cache` grows 6.6 MB per sample from batch 8 to 64 to 256; other
 * UNets scale with their feature maps.
 */
function sfdBytesPerSample(u: UNetConfig): number {
  const sum = (a: number[]) => a.reduce((s, v) => s + v, 0);
  return (6.6e6 * ((u.resolution / 28) ** 2 * sum(u.channels))) / sum([16, 32, 64]);
}

/** A student's card section: how it was trained and how it samples. */
export function studentSamplingOf(cfg: SfdConfig): StudentSampling {
  return {
    nfes: [...cfg.nfes].sort((a, b) => a - b),
    afs: cfg.afs,
    schedule: cfg.schedule,
    condition: cfg.condition,
  };
}

/**
 * Distils a teacher into a few-step student with SFD (stage 1, SFD-v) or two-stage SFD (stage 2): the
 * iteration loop around `sfdIteration`, with the learning-rate schedule, checkpoints every
 * `checkpointEvery` iterations (atomic, hashed, with the full config; `resume` continues bit for bit),
 * a non-finite loss stopping the run with the last checkpoint intact, optional FID curves, and at the end
 * the student saved as a model directory whose card says how to sample it.
 */
export async function trainSfd(opts: TrainSfdOptions): Promise<TrainSfdResult> {
  const stage = opts.stage ?? 1;
  const teacher = loadImageTeacher(opts.teacher, { unchecked: opts.uncheckedTeacher });
  const teacherSfd = studentSfd(teacher.card);
  let cfg: SfdConfig;
  let student: ImageStudent;
  try {
    if (stage === 2) cfg = stage2Config(teacherSfd, teacher.dir, opts.config, opts.teacherNfe);
    else if (teacherSfd)
      throw new RangeError(
        `${teacher.dir} is an SFD student: distil it further with stage 2, or distil its teacher`,
      );
    else cfg = opts.config;
    if (teacher.card.config.stepCondition && cfg.condition === 'none')
      throw new RangeError(`${teacher.dir} is step-conditioned: distil it with a condition (step or tnext)`);
    student = studentFromTeacher(teacher.unet, cfg.condition);
  } catch (e) {
    teacher.unet.dispose();
    throw e;
  }
  const adam = new Adam(student.weights);
  let feature: ReturnType<typeof loadFeatureNet> | null = null;
  let release = () => {};
  try {
    checkSfdConfig(cfg);
    checkMemory(
      `distilling at --batch ${cfg.batch}`,
      cfg.batch * sfdBytesPerSample(student.unet.config),
      'lower --batch',
    );
    const ckPath = checkpointJson(opts.out);
    release = openRunDir({
      out: opts.out,
      resumeFrom: opts.resume ? ckPath : null,
      resumingOut: !!opts.resume,
      allowShipped: !!opts.card?.shipped,
      command: String(opts.card?.command ?? 'trainSfd'),
    });
    let perceptual: PerceptualDistance | undefined;
    if (cfg.loss === 'lpips' || cfg.loss === 'l1+lpips') {
      feature = loadFeatureNet();
      const net = feature.net;
      perceptual = (a, b) => lpipsDistance(net, a, b);
    }
    // stage 2: the teacher is a conditioned student on its own grid (the iteration's teacher grid)
    const teacherFor = (plan: IterationPlan) =>
      stage === 2 ? conditionedDenoiser(teacher.denoise, cfg.condition, plan.grid.ts) : teacher.denoise;
    const ctx: SfdContext = {
      cfg,
      teacher: teacherFor,
      student,
      adam,
      shape: teacher.shape,
      perceptual,
      targets: opts.targets,
      teacherId: teacher.sha256,
    };
    let it = 0;
    let seconds = 0;
    let log: SfdLogPoint[] = [];
    let evals: SfdEvalPoint[] = [];
    let nonFinite = 0;
    if (opts.resume) {
      const ck = readCheckpoint<StudentCheckpointMeta>(ckPath, 'sfd-student-checkpoint');
      try {
        if (ck.meta.stage !== stage)
          throw new Error(`--resume: ${ckPath} is a stage-${ck.meta.stage} run, this is stage ${stage}`);
        checkResumable(ckPath, ck.meta.config, cfg, 'iterations', ck.meta.step);
        if (ck.meta.teacherSha256 !== teacher.sha256)
          throw new Error(
            `--resume: ${ckPath} was distilled from another teacher (sha256 ${ck.meta.teacherSha256})`,
          );
        // the learning-rate drop sits at a fraction of --iterations: changing it must not move a drop the run
        // has already reached (or un-drop the rate)
        for (const d of cfg.lr.drops) {
          const was = dropStep(d, ck.meta.config.iterations);
          const now = dropStep(d, cfg.iterations);
          if (was !== now && Math.min(was, now) <= ck.meta.step)
            throw new Error(
              `--resume: --iterations ${cfg.iterations} would move the learning-rate drop from iteration ${was} to ${now}, which this run (at ${ck.meta.step}) has already passed`,
            );
        }
        restoreGroup(ck, 'model', student.weights, ckPath);
        adam.restore(ck.groups.adam ?? new Map(), ck.meta.adamStep);
        it = ck.meta.step;
        ({ seconds, log, evals } = ck.meta);
        nonFinite = ck.meta.nonFiniteGrads;
      } finally {
        ck.dispose();
      }
    }
    const save = () =>
      writeCheckpoint<StudentCheckpointMeta>(
        ckPath,
        { model: student.weights, adam: adam.state() },
        {
          format: 'sfd-student-checkpoint',
          step: it,
          adamStep: adam.step,
          config: cfg,
          stage,
          teacherSha256: teacher.sha256,
          seconds,
          log,
          evals,
          nonFiniteGrads: nonFinite,
        },
      );
    const sampling = studentSamplingOf(cfg);
    const evaluate = async () => {
      if (!opts.evaluate) return;
      for (const nfe of sampling.nfes) {
        const fid = await opts.evaluate(studentSampler(student.denoise, sampling, nfe));
        const e = { iteration: it, nfe, fid, seconds: Math.round(seconds) };
        evals.push(e);
        opts.onEval?.(e);
      }
    };
    if (opts.evalEvery && it === 0) await evaluate();
    const stop = Math.min(cfg.iterations, opts.stopAt ?? cfg.iterations);
    while (it < stop) {
      const t0 = performance.now();
      const lr = learningRateAt(cfg.lr, { step: it, batch: cfg.batch, steps: cfg.iterations });
      const r = await sfdIteration(ctx, it, lr);
      seconds += (performance.now() - t0) / 1000;
      nonFinite += r.nonFiniteGrads;
      const point = {
        iteration: it + 1,
        nfe: r.nfe,
        stepLosses: r.stepLosses,
        lr,
        seconds: Math.round(seconds * 10) / 10,
        // 0 when the teacher's trajectory came from the cache (the run's time then leaves the teacher out)
        teacherCalls: r.teacherCalls,
      };
      if (r.stepLosses.some((l) => !Number.isFinite(l)))
        throw new Error(
          `distillation diverged: loss ${r.stepLosses.join(', ')} at iteration ${it}; ${it >= cfg.checkpointEvery || opts.resume ? `the last checkpoint in ${opts.out}/checkpoint is intact` : 'no checkpoint was written yet'}`,
        );
      log.push(point);
      it++;
      opts.onProgress?.({ iteration: it, iterations: cfg.iterations, seconds, last: point });
      if (opts.evalEvery && (it % opts.evalEvery === 0 || it === cfg.iterations)) await evaluate();
      if (it % cfg.checkpointEvery === 0 || it === stop) await save();
      // one turn of the event loop per iteration: a notebook's display messages and interrupts get through
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (it < cfg.iterations) return { config: cfg, iterations: it, seconds, log, evals, modelDir: opts.out };
    const sfd: StudentCardSfd = { stage, config: cfg, sampling };
    await saveUNet(opts.out, student.weights, student.unet.config, {
      ...opts.card,
      weights: 'student (raw, no EMA: as the official SFD)',
      sfd,
      teacher: { dir: teacher.dir, sha256: teacher.sha256, steps: teacher.card.steps },
      iterations: it,
      trajectories: it * cfg.batch,
      wallSeconds: Math.round(seconds),
      iterationsPerSecond: it / Math.max(seconds, 1e-9),
      // iterations whose teacher trajectories came from the cache: wallSeconds does not include their teacher
      cachedTargetIterations: log.filter((p) => p.teacherCalls === 0).length,
      nonFiniteGrads: nonFinite,
      log,
      evals,
    });
    return { config: cfg, iterations: it, seconds, log, evals, modelDir: opts.out };
  } finally {
    release();
    feature?.net.dispose();
    adam.dispose();
    student.dispose();
    teacher.unet.dispose();
  }
}
