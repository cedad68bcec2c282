import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { Denoiser } from '../diffusion/denoiser';
import { edmPrecond } from '../diffusion/precond';
import { mnistTeacherUNet } from '../models/mnistTeacher';
import { createUNet, type UNet, type UNetConfig, unetDefaults, unetRawNet } from '../models/unet';
import { type BackendName, useBackend } from '../runtime/backend';
import { loadAddon } from '../runtime/native/addon';
import { repoRoot } from '../runtime/paths';
import { sfdDefaults } from '../sfd/config';
import { type SfdContext, sfdIteration } from '../sfd/iteration';
import { Adam } from '../train/adam';
import { makeRng } from '../util/rng';

/** FLOPs of one call of f (2 per multiply-add of every convolution and matrix product), from tf.profile's shapes. */
export async function countFlops(f: () => tf.Tensor): Promise<number> {
  const info = await tf.profile(() => {
    f().dispose();
  });
  let flops = 0;
  for (const k of info.kernels) {
    const inp = k.inputShapes as number[][];
    const out = k.outputShapes[0] as number[];
    const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
    if (k.name === 'FusedConv2D' || k.name === 'Conv2D')
      flops += 2 * size(out) * inp[1][0] * inp[1][1] * inp[1][2];
    else if (k.name === 'BatchMatMul' || k.name === '_FusedMatMul') {
      // size(a)·size(b) = batch²·m·k·k·n and size(out) = batch·m·n, whatever the transposes
      const batch = size(out.slice(0, -2));
      const kDim = Math.sqrt(
        (size(inp[0]) * size(inp[1])) / (batch * batch * out[out.length - 2] * out[out.length - 1]),
      );
      flops += 2 * size(out) * kDim;
    }
  }
  return flops;
}

export interface BenchRow {
  backend: string;
  workload: string;
  msPerStep: number;
  samplesPerSec: number;
  gflops: number;
  /** Fraction of the machine's fp32 FMA peak measured in the same run (fmaPeak; sgemm's where it is missing). */
  ofPeak: number;
  /** Speed-up over wasm on the same workload (null when wasm was not run). */
  vsWasm: number | null;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Median wall time of `f`, which must end by reading a result back (so a GPU has finished its work). */
async function time(reps: number, f: () => Promise<unknown>): Promise<number> {
  await f(); // warm-up (kernel set-up, shader compilation, allocations)
  const ts: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await f();
    ts.push(performance.now() - t0);
  }
  return median(ts);
}

/**
 * The machine's fp32 FMA peak in GFLOP/s, measured by the native addon's register-resident FMA chains on
 * every thread; null without the addon.
 */
export function fmaPeak(): number | null {
  const { addon } = loadAddon();
  return addon ? addon.fmaPeak(20_000_000, 3).gflops : null;
}

/** sgemm GFLOP/s on a large square product through the native addon (OpenBLAS's kernels). */
export function sgemmPeak(n = 2048): number | null {
  const { addon } = loadAddon();
  if (!addon) return null;
  const a = new Float32Array(n * n).fill(1);
  const b = new Float32Array(n * n).fill(1);
  const c = new Float32Array(n * n);
  const ts: number[] = [];
  for (let i = 0; i < 4; i++) {
    const t0 = performance.now();
    addon.sgemm(0, 0, n, n, n, 1, a, n, b, n, 0, c, n);
    if (i > 0) ts.push(performance.now() - t0); // the first is a warm-up
  }
  const ms = median(ts);
  return (2 * n ** 3) / (ms * 1e6);
}

export interface BenchConfig {
  backends: string[];
  trainBatch: number;
  /** More training-step batches, timed after trainBatch (workload 'train step, batch N'). */
  moreTrainBatches?: number[];
  /** The benchmarked UNet (default: the reference 32×32×3 UNet, unetDefaults). */
  unet?: Partial<UNetConfig>;
  /** Whether to time the SFD iteration and the train step at the MNIST teacher's architecture too (default true). */
  mnistTeacherSfd?: boolean;
  inferBatch: number;
  sfdBatch: number;
  /** Timed repetitions of each workload after one warm-up (the median counts); the peer gets the same. */
  reps: number;
  /** At most this many for wasm and cpu, 10–60× slower than native (a reference, not the comparison). */
  slowReps?: number;
}

export const benchDefaults: BenchConfig = {
  backends: ['native', 'wasm'],
  trainBatch: 64,
  inferBatch: 256,
  sfdBatch: 16,
  // an SFD iteration varies by ±10 % from one to the next on a shared 2-core VM: the median of 3 moved by as much
  reps: 9,
  slowReps: 3,
};

/** The repetitions `backend` is timed over. */
export function repsFor(cfg: BenchConfig, backend: string): number {
  return backend === 'wasm' || backend === 'cpu' ? Math.min(cfg.reps, cfg.slowReps ?? cfg.reps) : cfg.reps;
}

/** The machine's sgemm and FMA peaks (GFLOP/s, null without the addon), logged. */
function measurePeaks(log: (s: string) => void): { peak: number | null; fma: number | null } {
  const peak = sgemmPeak();
  const fma = fmaPeak();
  log(
    `sgemm: ${peak === null ? 'n/a (no native addon)' : `${peak.toFixed(1)} GFLOP/s`}, FMA peak: ${fma === null ? 'n/a' : `${fma.toFixed(1)} GFLOP/s`}`,
  );
  return { peak, fma };
}

/** What one backend's workloads share: the benchmarked UNet, its denoiser, its FLOPs and its optimiser. */
interface BenchSubject {
  unet: UNet;
  denoise: Denoiser;
  /** One image: [resolution, resolution, channels]. */
  shape: [number, number, number];
  /** FLOPs of one forward pass of one image. */
  fwdFlops: number;
  adam: Adam;
}

/** Records one workload's row: its median time, the samples and FLOPs of one step. */
type AddRow = (workload: string, ms: number, samples: number, flops: number) => void;

/** (a) one Adam step of a denoising loss at trainBatch (backward ≈ 2× forward FLOPs), then at the others. */
async function benchTrainSteps(cfg: BenchConfig, u: BenchSubject, add: AddRow): Promise<void> {
  for (const b of [cfg.trainBatch, ...(cfg.moreTrainBatches ?? [])]) {
    const x0 = tf.randomNormal([b, ...u.shape], 0, 0.5, 'float32', 7) as tf.Tensor4D;
    const noisy = x0.add(tf.randomNormal(x0.shape, 0, 1.2, 'float32', 8));
    const trainLoss = () => u.denoise(noisy, 1.2).sub(x0).square().mean() as tf.Scalar;
    const trainStep = async () => {
      const loss = u.adam.minimize(trainLoss, 1e-4);
      await loss.data();
      loss.dispose();
    };
    const name = b === cfg.trainBatch ? 'train step' : `train step, batch ${b}`;
    add(name, await time(cfg.reps, trainStep), b, 3 * u.fwdFlops * b);
    tf.dispose([x0, noisy]);
  }
}

/** The MNIST teacher's architecture as a bench subject (the trainer's shape; the caller disposes it). */
async function mnistTeacherSubject(): Promise<BenchSubject> {
  const unet = createUNet(mnistTeacherUNet as UNetConfig, 1);
  const r = unet.config.resolution;
  const c = unet.config.inChannels;
  return {
    unet,
    denoise: edmPrecond(unetRawNet(unet)),
    shape: [r, r, c],
    fwdFlops: await countFlops(() => unet.net(tf.zeros([1, r, r, c]), 0)),
    adam: new Adam(unet.weights),
  };
}

/** (a′) the teacher-training step at the MNIST teacher's shape, at trainBatch (what train-teacher runs). */
async function benchMnistTeacherTrainStep(cfg: BenchConfig, add: AddRow): Promise<void> {
  const u = await mnistTeacherSubject();
  const rows: [string, number, number, number][] = [];
  await benchTrainSteps({ ...cfg, moreTrainBatches: [] }, u, (_, ms, samples, flops) =>
    rows.push(['train step, MNIST teacher', ms, samples, flops]),
  );
  for (const r of rows) add(...r);
  u.adam.dispose();
  u.unet.dispose();
}

/** (b) inference at inferBatch. */
async function benchInference(cfg: BenchConfig, u: BenchSubject, add: AddRow): Promise<void> {
  const xI = tf.randomNormal([cfg.inferBatch, ...u.shape], 0, 1, 'float32', 9) as tf.Tensor4D;
  const infer = async () => {
    const y = u.denoise(xI, 1.2);
    await y.data();
    y.dispose();
  };
  add('inference', await time(cfg.reps, infer), cfg.inferBatch, u.fwdFlops * cfg.inferBatch);
  xI.dispose();
}

/**
 * The trainer's SFD iteration at NFE 2 with AFS on `u` as both teacher and student (the same work as a real
 * teacher of that architecture): DPM-Solver++(3M) teacher with K = 4 (12 calls), 2 trained student steps.
 */
export function sfdBenchContext(u: UNet, adam: Adam, batch: number): SfdContext {
  const r = u.config.resolution;
  const Du = edmPrecond(unetRawNet(u));
  return {
    cfg: { ...sfdDefaults, nfes: [2], batch },
    teacher: () => Du,
    student: { denoise: Du, weights: u.weights },
    adam,
    shape: [r, r, u.config.inChannels],
  };
}

/**
 * (c) the trainer's own SFD iteration at NFE 2 with AFS: DPM-Solver++(3M) teacher with K = 4 (12 forwards),
 * then the student's two trained Euler steps (forward + backward ≈ 3 forwards each); on the benchmarked UNet
 * at sfdBatch and (unless mnistTeacherSfd is false) on the MNIST teacher's architecture at the trainer's
 * default batch.
 */
async function benchSfdIterations(cfg: BenchConfig, subject: BenchSubject, add: AddRow): Promise<void> {
  const sfdWorkloads = [
    ['SFD iteration', subject, cfg.sfdBatch],
    ['SFD iteration, MNIST teacher', null, sfdDefaults.batch],
  ] as const;
  for (const [workload, given, batch] of sfdWorkloads.slice(0, cfg.mnistTeacherSfd === false ? 1 : 2)) {
    const u = given?.unet ?? createUNet(mnistTeacherUNet as UNetConfig, 1);
    const [r, , c] = [u.config.resolution, u.config.resolution, u.config.inChannels];
    const flops = given ? given.fwdFlops : await countFlops(() => u.net(tf.zeros([1, r, r, c]), 0));
    const studentAdam = given ? given.adam : new Adam(u.weights);
    const ctx = sfdBenchContext(u, studentAdam, batch);
    let it = 0;
    add(
      workload,
      await time(cfg.reps, () => sfdIteration(ctx, it++, 1e-5)),
      batch,
      (12 + 2 * 3) * flops * batch,
    );
    if (!given) {
      studentAdam.dispose();
      u.dispose();
    }
  }
}

/** Times each backend on the same three workloads; returns one row per (backend, workload). */
export async function runBenchmark(
  cfg: BenchConfig = benchDefaults,
  log: (s: string) => void = () => {},
): Promise<{ peak: number | null; fma: number | null; rows: BenchRow[] }> {
  const { peak, fma } = measurePeaks(log);
  const ref = fma ?? peak;
  const rows: BenchRow[] = [];
  const prev = tf.getBackend();
  for (const backend of cfg.backends) {
    await useBackend(backend as BackendName);
    const cfgB = { ...cfg, reps: repsFor(cfg, backend) };
    const unet = createUNet({ ...unetDefaults, ...cfg.unet }, 1);
    const [res, , ch] = [unet.config.resolution, unet.config.resolution, unet.config.inChannels];
    const subject: BenchSubject = {
      unet,
      denoise: edmPrecond(unetRawNet(unet)),
      shape: [res, res, ch],
      fwdFlops: await countFlops(() => unet.net(tf.zeros([1, res, res, ch]), 0)), // one image, one forward
      adam: new Adam(unet.weights), // the optimiser the project trains with (one fused kernel on native)
    };
    const add: AddRow = (workload, ms, samples, flops) => {
      const gflops = flops / (ms * 1e6);
      rows.push({
        backend,
        workload,
        msPerStep: ms,
        samplesPerSec: (samples * 1000) / ms,
        gflops,
        ofPeak: ref ? gflops / ref : Number.NaN,
        vsWasm: null,
      });
      log(`${backend} ${workload}: ${ms.toFixed(0)} ms`);
    };
    await benchTrainSteps(cfgB, subject, add);
    await benchInference(cfgB, subject, add);
    await benchSfdIterations(cfgB, subject, add);
    if (cfg.mnistTeacherSfd !== false) await benchMnistTeacherTrainStep(cfgB, add);
    unet.dispose();
    subject.adam.dispose();
  }
  await tf.setBackend(prev);
  for (const r of rows) {
    const w = rows.find((x) => x.backend === 'wasm' && x.workload === r.workload);
    r.vsWasm = w ? w.msPerStep / r.msPerStep : null;
  }
  return { peak, fma, rows };
}

/** A fixed-width table of benchmark rows. */
export function formatBenchTable(rows: BenchRow[]): string {
  const head = ['backend', 'workload', 'ms/step', 'samples/s', 'GFLOP/s', '% of FMA peak', '× wasm'];
  const body = rows.map((r) => [
    r.backend,
    r.workload,
    r.msPerStep.toFixed(0),
    r.samplesPerSec.toFixed(1),
    r.gflops.toFixed(1),
    Number.isNaN(r.ofPeak) ? '–' : `${(100 * r.ofPeak).toFixed(0)}%`,
    r.vsWasm === null ? '–' : r.vsWasm.toFixed(2),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

export interface ParityResult {
  steps: number;
  /** Loss after each step, per backend. */
  curves: Record<string, number[]>;
  /** Largest |loss_a − loss_b| / loss_b over the steps (b = the first, reference backend). */
  maxRelDiff: number;
}

/**
 * Trains the same small UNet from the same seed and data on each backend (the first is the reference) and
 * compares the loss curves: native kernels must not change what training does.
 */
export async function lossCurveParity(
  backends: BackendName[] = ['cpu', 'native'],
  steps = 200,
): Promise<ParityResult> {
  const prev = tf.getBackend();
  const rng = makeRng(42);
  const batch = 8;
  const data = Array.from({ length: steps }, () => ({
    x0: Float32Array.from({ length: batch * 64 }, () => 0.5 * Math.tanh(rng.normal())),
    noise: Float32Array.from({ length: batch * 64 }, () => rng.normal()),
    t: Math.exp(-1.2 + 1.2 * rng.normal()),
  }));
  const curves: Record<string, number[]> = {};
  for (const backend of backends) {
    await useBackend(backend);
    const unet = createUNet({ resolution: 8, inChannels: 1, channels: [8, 16], groups: 4, embedDim: 8 }, 3);
    const D = edmPrecond(unetRawNet(unet));
    const adam = new Adam(unet.weights);
    curves[backend] = [];
    for (const { x0, noise, t } of data) {
      const loss = tf.tidy(() => {
        const x = tf.tensor4d(x0, [batch, 8, 8, 1]);
        const xt = x.add(tf.tensor4d(noise, [batch, 8, 8, 1]).mul(t));
        return adam.minimize(() => D(xt, t).sub(x).square().mean() as tf.Scalar, 2e-3);
      });
      curves[backend].push((await loss.data())[0]);
      loss.dispose();
    }
    adam.dispose();
    unet.dispose();
  }
  await tf.setBackend(prev);
  const ref = curves[backends[0]];
  let maxRelDiff = 0;
  for (const b of backends.slice(1)) {
    curves[b].forEach((l, i) => {
      maxRelDiff = Math.max(maxRelDiff, Math.abs(l - ref[i]) / Math.abs(ref[i]));
    });
  }
  return { steps, curves, maxRelDiff };
}

export interface SfdTargetReport {
  student: string;
  minutes: number;
  backend: string;
  fid: number;
  dpm5: number;
  dpm10: number;
  /** Iterations whose teacher trajectories came from the cache (then `minutes` leaves the teacher out). */
  cachedTargetIterations: number;
  /** ≤ 10 minutes of fine-tuning on this machine, teacher included (false for a run that used the cache). */
  fastEnough: boolean;
  /** The paper's headline: SFD at NFE 2 below DPM-Solver++(3M) at NFE 5. */
  beatsDpm5: boolean;
  /** At most 1.15× DPM-Solver++(3M) at NFE 10 (the paper's ratio is 1.5×). */
  within115OfDpm10: boolean;
}

/**
 * The SFD targets, read from what was measured (the shipped NFE-2 student's card and the teacher's, both at
 * N = 5000, seed 0): its fine-tuning time and its FID against DPM-Solver++(3M) at NFE 5 and 10. Null when the
 * student or an evaluation is missing.
 */
export function sfdTargetReport(
  studentDir = join(repoRoot(), 'data', 'students', 'sfd-nfe2'),
): SfdTargetReport | null {
  const read = (d: string) => {
    const f = join(d, 'model.json');
    return existsSync(f) ? JSON.parse(readFileSync(f, 'utf8')) : null;
  };
  const student = read(studentDir);
  const teacher = read(join(repoRoot(), 'data', 'teacher-mnist'));
  type Ev = {
    n: number;
    nfe: number;
    fid?: number;
    solver?: string;
    seed: number;
    afs?: boolean;
    threshold?: boolean;
  };
  // N = 5000, seed 0; the student as it samples (its AFS), the teacher's baselines as plain samplers
  const at = (card: { evaluation?: Ev[] } | null, ok: (e: Ev) => boolean) =>
    card?.evaluation?.find((e) => e.n === 5000 && e.seed === 0 && e.fid !== undefined && ok(e))?.fid;
  const fid = at(student, (e) => e.nfe === 2);
  const plain = (e: Ev) => e.solver === 'dpmpp-3m' && !e.afs && !e.threshold;
  const dpm5 = at(teacher, (e) => plain(e) && e.nfe === 5);
  const dpm10 = at(teacher, (e) => plain(e) && e.nfe === 10);
  if (!student || fid === undefined || dpm5 === undefined || dpm10 === undefined) return null;
  const minutes = student.wallSeconds / 60;
  const cachedTargetIterations = Number(student.cachedTargetIterations ?? 0);
  return {
    student: studentDir,
    minutes,
    backend: student.backend,
    fid,
    dpm5,
    dpm10,
    cachedTargetIterations,
    fastEnough: minutes <= 10 && cachedTargetIterations === 0,
    beatsDpm5: fid < dpm5,
    within115OfDpm10: fid <= 1.15 * dpm10,
  };
}
