import * as tf from '@tensorflow/tfjs';
import { countCalls, type Denoiser } from '../diffusion/denoiser';
import { type ScheduleConfig, timeGrid } from '../diffusion/schedules';
import { assignWeights } from '../models/weightsIO';
import { sfdDefaults } from '../sfd/config';
import { type StudentSampler, type StudentSampling, studentSampler } from '../sfd/sampleStudent';
import type { Student } from '../sfd/studentStep';
import { Adam } from '../train/adam';
import { namedGrads } from '../train/namedGrads';
import { addMany } from '../util/addMany';
import {
  PD_WEIGHTINGS,
  type PdWeighting,
  pdLoss,
  pdNoiseRng,
  pdRoundGrid,
  pdTarget,
  pdWeight,
} from './progressiveTargets';

/**
 * Progressive Distillation (Salimans & Ho 2022) on the EDM parameterisation: round after round a student
 * learns to take in one Euler step what its teacher (the previous round's student; in the first round the
 * distilled model) takes in two, halving the steps from `startSteps` to `finalSteps`. Every round starts
 * from the previous student's weights with a fresh Adam, its rate decayed linearly to 0 over the round.
 */
export interface PdConfig {
  /** N_start: the teacher's Euler steps in the first round (its student takes half as many). */
  startSteps: number;
  /** Steps of the final student: startSteps = finalSteps·2^k, k ≥ 1 (k rounds). */
  finalSteps: number;
  /** Adam updates per round (every round the same). */
  iterationsPerRound: number;
  /** Images per update; all of one iteration share the grid index n (one σ per batch: see pdIteration). */
  batch: number;
  /** Adam's rate at the start of each round, decayed linearly to 0 over the round. */
  lr: number;
  /** Clip of the gradients' global norm (0: none). */
  gradClip: number;
  weighting: PdWeighting;
  /** Both grids of every round: polynomial ρ = 7 from tMax to tMin as SFD's (for parity), S steps. */
  schedule: ScheduleConfig;
  seed: number;
  /** Iterations (counted over the whole run) between checkpoints; a round's end always checkpoints. */
  checkpointEvery: number;
  /** Iterations per point of the loss log (a round's last iteration always closes one). */
  logEvery: number;
}

/**
 * The reference recipe (CMJ: Adam, linear decay to 0 per round, clip 1, max(σ⁻², 1), no EMA) at this
 * project's scale: 64 → 2 steps in 5 rounds, batch 16, lr 5e-4 (the rate measured for SFD on the MNIST
 * teacher, README; not swept for PD), SFD's grid (tMin 0.006) so the two students sample alike.
 */
export const pdDefaults: PdConfig = {
  startSteps: 64,
  finalSteps: 2,
  iterationsPerRound: 250,
  batch: 16,
  lr: 5e-4,
  gradClip: 1,
  weighting: 'truncated-snr',
  schedule: { ...sfdDefaults.schedule },
  seed: 0,
  checkpointEvery: 50,
  logEvery: 10,
};

/** Each round's student steps: startSteps/2, startSteps/4, …, finalSteps. */
export function pdRoundSteps(cfg: Pick<PdConfig, 'startSteps' | 'finalSteps'>): number[] {
  const out: number[] = [];
  for (let s = cfg.startSteps / 2; s >= cfg.finalSteps; s /= 2) out.push(s);
  return out;
}

/** Fails at once, with a one-line reason, on a configuration no run could carry out. */
export function checkPdConfig(c: PdConfig): void {
  const posInt = (v: number, what: string) => {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`${what} must be a positive integer, got ${v}`);
  };
  posInt(c.startSteps, 'start steps');
  posInt(c.finalSteps, 'final steps');
  posInt(c.iterationsPerRound, 'iterations per round');
  posInt(c.batch, 'batch');
  posInt(c.checkpointEvery, 'checkpointEvery');
  posInt(c.logEvery, 'logEvery');
  if (c.startSteps <= c.finalSteps)
    throw new RangeError(
      `start steps ${c.startSteps} must exceed final steps ${c.finalSteps} (each round halves the steps)`,
    );
  const ratio = c.startSteps / c.finalSteps;
  if (!Number.isInteger(ratio) || !Number.isInteger(Math.log2(ratio)))
    throw new RangeError(
      `start steps ${c.startSteps} cannot be halved down to ${c.finalSteps}: it must be ${c.finalSteps}·2^k (e.g. ${c.finalSteps * 32} or ${c.finalSteps * 64})`,
    );
  if (!(c.lr > 0) || !Number.isFinite(c.lr)) throw new RangeError(`learning rate must be > 0, got ${c.lr}`);
  if (!(c.gradClip >= 0) || !Number.isFinite(c.gradClip))
    throw new RangeError(`gradient clip must be ≥ 0 (0: none), got ${c.gradClip}`);
  if (!PD_WEIGHTINGS.includes(c.weighting))
    throw new RangeError(`unknown weighting '${c.weighting}' (known: ${PD_WEIGHTINGS.join(', ')})`);
  if (c.schedule.kind !== 'polynomial')
    throw new RangeError(
      `PD halves a polynomial grid (uniform in σ^(1/ρ), so a round's grid holds its student's); got '${c.schedule.kind}'`,
    );
  timeGrid(c.startSteps + 1, c.schedule); // throws on a bad schedule
}

/** How an S-step PD student samples: S Euler steps on SFD's grid, no AFS, no condition (NFE = S). */
export function pdSampling(steps: number, schedule: ScheduleConfig): StudentSampling {
  return { nfes: [steps], afs: false, schedule, condition: 'none' };
}

/** x0 of an iteration, [batch, ...shape]: a pure function of (round, iteration) (the caller owns it). */
export type PdData = (round: number, iteration: number) => tf.Tensor;

/** A model as PD needs it: a student's weights and denoiser, disposable (a frozen copy is a teacher). */
export interface PdModel extends Student {
  dispose(): void;
}

export interface PdContext {
  cfg: PdConfig;
  /** The round's teacher (the previous student; in round 0 the distilled model), run with Euler. */
  teacher: Denoiser;
  student: Student;
  adam: Adam;
  data: PdData;
  /** One sample's shape ([2] for points, [28, 28, 1] for MNIST). */
  shape: number[];
}

export interface PdIterationResult {
  round: number;
  /** The round's student steps S. */
  steps: number;
  /** The grid index drawn, 0 ≤ n < S, and its σ(n). */
  n: number;
  sigma: number;
  /** The weighted loss w(σ)·mean (D_θ − x̃)². */
  loss: number;
  /** The gradients' global norm before clipping. */
  gradNorm: number;
  teacherCalls: number;
  studentCalls: number;
}

/** √Σ‖g‖² over every gradient, as a scalar. */
function globalNorm(grads: Map<string, tf.Tensor>): tf.Scalar {
  return tf.tidy(() => addMany([...grads.values()].map((g) => g.square().sum())).sqrt() as tf.Scalar);
}

/**
 * One PD update (baselines.md §5): draw n ∈ {0…S−1} and ε from (seed, round, iteration); x_t = x0 + σ(n)ε;
 * the teacher's two Euler steps σ(n) → σ(n+½) → σ(n+1) give x″ and the target x̃ = x_t − σ(n)(x″ − x_t)/
 * (σ(n+1) − σ(n)); loss w(σ(n))·mean (D_θ(x_t, σ(n)) − x̃)²; its gradient, clipped to global norm
 * `gradClip`, makes one Adam step at `lr`. The whole batch shares n, because a Denoiser takes one σ per
 * call (per-sample n would cost a call per distinct n); n still covers the grid over the iterations.
 */
export async function pdIteration(
  ctx: PdContext,
  round: number,
  iteration: number,
  lr: number,
): Promise<PdIterationResult> {
  const { cfg } = ctx;
  const steps = pdRoundSteps(cfg)[round];
  if (steps === undefined)
    throw new RangeError(`PD round ${round} does not exist (the run has ${pdRoundSteps(cfg).length})`);
  const grid = pdRoundGrid(steps, cfg.schedule);
  const rng = pdNoiseRng(cfg.seed, round, iteration);
  const n = Math.floor(rng.uniform() * steps);
  const sigma = grid.studentTs[n];
  const teacher = countCalls(ctx.teacher);
  const student = countCalls(ctx.student.denoise);
  const x0 = ctx.data(round, iteration);
  const want = [cfg.batch, ...ctx.shape];
  const live: tf.Tensor[] = [x0];
  try {
    if (x0.shape.join() !== want.join())
      throw new RangeError(`PD data gave a batch of shape [${x0.shape}], expected [${want}]`);
    const eps = tf.tensor(
      Float32Array.from({ length: x0.size }, () => rng.normal()),
      x0.shape,
    );
    live.push(eps);
    const xt = tf.tidy(() => x0.add(eps.mul(sigma)));
    live.push(xt);
    const target = pdTarget(teacher.denoise, xt, grid, n);
    live.push(target);
    const weight = pdWeight(cfg.weighting, sigma);
    const g = namedGrads(ctx.student.weights, () => ({
      loss: pdLoss(student.denoise, xt, sigma, target, weight),
    }));
    live.push(g.loss, ...g.grads.values());
    const norm = globalNorm(g.grads);
    live.push(norm);
    const both = tf.stack([g.loss, norm]);
    const [loss, gradNorm] = Array.from(await both.data());
    both.dispose();
    if (!Number.isFinite(loss) || !Number.isFinite(gradNorm))
      throw new Error(
        `PD diverged: loss ${loss}, gradient norm ${gradNorm} at round ${round} (${steps} steps), iteration ${iteration}, σ = ${sigma}`,
      );
    const scale = cfg.gradClip > 0 && gradNorm > cfg.gradClip ? cfg.gradClip / gradNorm : 1;
    if (scale === 1) ctx.adam.apply(g.grads, lr);
    else {
      const clipped = new Map([...g.grads].map(([k, v]) => [k, v.mul(scale)]));
      live.push(...clipped.values());
      ctx.adam.apply(clipped, lr);
    }
    return {
      round,
      steps,
      n,
      sigma,
      loss,
      gradNorm,
      teacherCalls: teacher.calls(),
      studentCalls: student.calls(),
    };
  } finally {
    tf.dispose(live);
  }
}

/** One point of the loss log: the mean over the iterations since the previous point. */
export interface PdLogPoint {
  /** Iterations done in the whole run (as SFD's log counts them). */
  iteration: number;
  round: number;
  steps: number;
  loss: number;
  gradNorm: number;
  /** The rate of the window's last iteration. */
  lr: number;
  seconds: number;
}

/** A FID (or any score `evaluate` gives) of the student at its round's steps. */
export interface PdEvalPoint {
  /** Iterations done in the whole run. */
  iteration: number;
  round: number;
  /** Iterations done in the round. */
  roundIteration: number;
  /** The student's steps = its NFE. */
  nfe: number;
  fid: number;
  seconds: number;
}

/** A finished round: its student's steps, its length and time, its score at the end (with `evaluate`). */
export interface PdRoundRecord {
  steps: number;
  iterations: number;
  seconds: number;
  finalLoss: number;
  fid?: number;
}

/** Where a run stands: plain data, saved in checkpoints, so a resumed run continues exactly. */
export interface PdState {
  /** The round under way (= the number of rounds when the run is done). */
  round: number;
  /** Iterations done in that round. */
  iteration: number;
  /** Training seconds (evaluation excluded). */
  seconds: number;
  roundStartSeconds: number;
  /** The open log window (so a resumed run logs exactly what the uninterrupted one does). */
  window: { iterations: number; loss: number; gradNorm: number };
  log: PdLogPoint[];
  evals: PdEvalPoint[];
  rounds: PdRoundRecord[];
}

/** What a checkpoint must hold to resume: the state, the student, Adam, and the round's teacher. */
export interface PdCheckpointData {
  state: PdState;
  /** Iterations done in the whole run. */
  iteration: number;
  student: Map<string, tf.Variable>;
  adam: Map<string, tf.Tensor>;
  adamStep: number;
  /** The round's teacher when it is a previous student (null in round 0 and once the run is done). */
  teacher: Map<string, tf.Variable> | null;
}

export interface TrainProgressiveOptions {
  config: PdConfig;
  /** The distilled model: round 0's teacher (run with Euler on the startSteps grid). */
  teacher: Denoiser;
  /** Trained in place through every round; it should start as a copy of `teacher`. */
  student: Student;
  /** A new model holding the student's architecture (its weights are then set): each round's teacher. */
  copy: () => PdModel;
  data: PdData;
  shape: number[];
  /** Continue from a checkpoint's contents (see PdCheckpointData). */
  resume?: {
    state: PdState;
    adam: Map<string, tf.Tensor>;
    adamStep: number;
    teacher: Map<string, tf.Tensor> | null;
  };
  /** Stop once this many iterations of the whole run are done (checkpointing there), as if killed. */
  stopAt?: number;
  /** Score the student every this many iterations of a round; `evaluate` also scores every round's end. */
  evalEvery?: number;
  evaluate?: (sampler: StudentSampler) => Promise<number> | number;
  /** Called every `checkpointEvery` iterations, at each round's end and where the run stops. */
  checkpoint?: (c: PdCheckpointData) => Promise<void>;
  onProgress?: (p: {
    iteration: number;
    iterations: number;
    seconds: number;
    last: PdIterationResult;
  }) => void;
  onEval?: (e: PdEvalPoint) => void;
  onRound?: (r: PdRoundRecord, round: number) => void;
}

export interface TrainProgressiveResult {
  state: PdState;
  /** Iterations done in the whole run, and whether that is all of them. */
  iterations: number;
  done: boolean;
}

function freshState(): PdState {
  return {
    round: 0,
    iteration: 0,
    seconds: 0,
    roundStartSeconds: 0,
    window: { iterations: 0, loss: 0, gradNorm: 0 },
    log: [],
    evals: [],
    rounds: [],
  };
}

/** The rate of a round's iteration i: lr·(1 − i/I), linear to 0 over the round (CMJ, PDG). */
export function pdLearningRate(cfg: PdConfig, iteration: number): number {
  return cfg.lr * (1 - iteration / cfg.iterationsPerRound);
}

/**
 * The PD loop over its rounds, generic over the student (a UNet, a toy MLP) and the data: `pdIteration`
 * at the round's decaying rate; at a round's end the student is scored (with `evaluate`), frozen into a
 * copy that teaches the next round, and Adam starts afresh. Noise and data are functions of
 * (seed, round, iteration), and `checkpoint` receives everything a resumed run needs, so stopping and
 * resuming gives the uninterrupted run's weights bit for bit. Returns the state; the student holds the
 * final weights.
 */
export async function trainProgressive(opts: TrainProgressiveOptions): Promise<TrainProgressiveResult> {
  const cfg = opts.config;
  checkPdConfig(cfg);
  const steps = pdRoundSteps(cfg);
  const perRound = cfg.iterationsPerRound;
  const total = steps.length * perRound;
  const state: PdState = opts.resume ? structuredClone(opts.resume.state) : freshState();
  let frozen: PdModel | null = null;
  // a frozen copy of the student as it stands now (or of the checkpoint's teacher)
  const freeze = (weights: Map<string, tf.Tensor>) => {
    const m = opts.copy();
    try {
      assignWeights(m.weights, weights, 'PD teacher copy');
    } catch (e) {
      m.dispose();
      throw e;
    }
    return m;
  };
  let adam = new Adam(opts.student.weights);
  try {
    if (opts.resume && state.round > 0 && state.round < steps.length) {
      if (!opts.resume.teacher)
        throw new Error(`PD resume at round ${state.round} needs the round's teacher weights`);
      frozen = freeze(opts.resume.teacher);
    }
    if (opts.resume) adam.restore(opts.resume.adam, opts.resume.adamStep);
    let done = state.round * perRound + state.iteration;
    const stop = Math.min(total, opts.stopAt ?? total);
    const score = async () => {
      if (!opts.evaluate) return undefined;
      const s = steps[state.round];
      const fid = await opts.evaluate(studentSampler(opts.student.denoise, pdSampling(s, cfg.schedule), s));
      const e: PdEvalPoint = {
        iteration: done,
        round: state.round,
        roundIteration: state.iteration,
        nfe: s,
        fid,
        seconds: Math.round(state.seconds),
      };
      state.evals.push(e);
      opts.onEval?.(e);
      return fid;
    };
    while (done < stop) {
      const t0 = performance.now();
      const lr = pdLearningRate(cfg, state.iteration);
      const ctx: PdContext = {
        cfg,
        teacher: frozen?.denoise ?? opts.teacher,
        student: opts.student,
        adam,
        data: opts.data,
        shape: opts.shape,
      };
      const r = await pdIteration(ctx, state.round, state.iteration, lr);
      state.seconds += (performance.now() - t0) / 1000;
      state.iteration++;
      done++;
      const w = state.window;
      w.iterations++;
      w.loss += r.loss;
      w.gradNorm += r.gradNorm;
      const roundEnd = state.iteration === perRound;
      if (state.iteration % cfg.logEvery === 0 || roundEnd) {
        state.log.push({
          iteration: done,
          round: state.round,
          steps: r.steps,
          loss: w.loss / w.iterations,
          gradNorm: w.gradNorm / w.iterations,
          lr,
          seconds: Math.round(state.seconds * 10) / 10,
        });
        state.window = { iterations: 0, loss: 0, gradNorm: 0 };
      }
      opts.onProgress?.({ iteration: done, iterations: total, seconds: state.seconds, last: r });
      if (roundEnd || (opts.evalEvery && state.iteration % opts.evalEvery === 0)) {
        const fid = await score();
        if (roundEnd) {
          const rec: PdRoundRecord = {
            steps: r.steps,
            iterations: perRound,
            seconds: Math.round((state.seconds - state.roundStartSeconds) * 10) / 10,
            finalLoss: state.log[state.log.length - 1].loss,
            ...(fid === undefined ? {} : { fid }),
          };
          state.rounds.push(rec);
          opts.onRound?.(rec, state.round);
          state.round++;
          state.iteration = 0;
          state.roundStartSeconds = state.seconds;
          if (state.round < steps.length) {
            // the student as it ends this round teaches the next; the optimiser starts afresh
            frozen?.dispose();
            frozen = null;
            frozen = freeze(opts.student.weights);
            adam.dispose();
            adam = new Adam(opts.student.weights);
          }
        }
      }
      if (opts.checkpoint && (done % cfg.checkpointEvery === 0 || done === stop || roundEnd))
        await opts.checkpoint({
          state: structuredClone(state),
          iteration: done,
          student: opts.student.weights,
          adam: adam.state(),
          adamStep: adam.step,
          teacher: state.round > 0 && state.round < steps.length ? (frozen as PdModel).weights : null,
        });
      // one turn of the event loop per iteration: a notebook's display messages and interrupts get through
      await new Promise((resolve) => setImmediate(resolve));
    }
    return { state, iterations: done, done: done === total };
  } finally {
    adam.dispose();
    frozen?.dispose();
  }
}
