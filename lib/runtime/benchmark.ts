import * as tf from '@tensorflow/tfjs';
import { withAfs } from '../diffusion/afs';
import { edmPrecond } from '../diffusion/precond';
import { teacherGrid } from '../diffusion/schedules';
import { dpmpp } from '../diffusion/solvers/dpmpp';
import { eulerStep } from '../diffusion/solvers/euler';
import { type BackendName, useBackend } from './backend';
import { loadAddon } from './native/addon';

/**
 * A stand-in for the teacher UNet until the real one lands: 3×3 conv residual blocks with SiLU at 32×32
 * and 16×16 (stride-2 down, nearest up), 32/64 channels, NHWC. Its conv FLOPs are counted exactly.
 */
interface Conv {
  w: tf.Variable;
  b: tf.Variable;
  stride: number;
}

function convNet(seed: number) {
  const layers: [number, number, number][] = [
    [3, 32, 1],
    [32, 32, 1],
    [32, 32, 1],
    [32, 64, 2],
    [64, 64, 1],
    [64, 64, 1],
    [64, 32, 1],
    [32, 32, 1],
    [32, 3, 1],
  ];
  const convs: Conv[] = layers.map(([ci, co, stride], i) => ({
    w: tf.variable(tf.randomNormal([3, 3, ci, co], 0, Math.sqrt(2 / (9 * ci)), 'float32', seed + i)),
    b: tf.variable(tf.zeros([co])),
    stride,
  }));
  const apply = (x: tf.Tensor4D, k: number, act = true) => {
    const c = convs[k];
    const y = tf.fused.conv2d({ x, filter: c.w as tf.Tensor4D, strides: c.stride, pad: 'same', bias: c.b });
    return act ? (tf.mul(y, tf.sigmoid(y)) as tf.Tensor4D) : y; // SiLU
  };
  const forward = (x: tf.Tensor4D) => {
    const h0 = apply(x, 0);
    const h1 = h0.add(apply(apply(h0, 1), 2, false)) as tf.Tensor4D;
    const d = apply(h1, 3);
    const h2 = d.add(apply(apply(d, 4), 5, false)) as tf.Tensor4D;
    const u = apply(tf.image.resizeNearestNeighbor(h2, [32, 32]), 6);
    return apply(apply(u.add(h1) as tf.Tensor4D, 7), 8, false);
  };
  // 2 FLOPs per multiply-add: output pixels × 9·ci × co; layers 3–5 produce 16×16 maps, the rest 32×32.
  const flopsPerImage = layers.reduce(
    (acc, [ci, co], i) => acc + 2 * (i >= 3 && i <= 5 ? 256 : 1024) * 9 * ci * co,
    0,
  );
  const params = layers.reduce((acc, [ci, co]) => acc + 9 * ci * co + co, 0);
  return {
    forward,
    vars: convs.flatMap((c) => [c.w, c.b]),
    flopsPerImage,
    params,
    dispose: () => tf.dispose(convs.flatMap((c) => [c.w, c.b])),
  };
}

export interface BenchRow {
  backend: string;
  workload: string;
  msPerStep: number;
  samplesPerSec: number;
  gflops: number;
  /** Fraction of the sgemm peak measured in the same run. */
  ofPeak: number;
  /** Speed-up over wasm on the same workload (null when wasm was not run). */
  vsWasm: number | null;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function time(reps: number, f: () => void): number {
  f(); // warm-up (kernel set-up, allocations)
  const ts: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    f();
    ts.push(performance.now() - t0);
  }
  return median(ts);
}

/** sgemm GFLOP/s on a large square product through the native addon (the machine's measured peak). */
export function sgemmPeak(n = 2048): number | null {
  const { addon } = loadAddon();
  if (!addon) return null;
  const a = new Float32Array(n * n).fill(1);
  const b = new Float32Array(n * n).fill(1);
  const c = new Float32Array(n * n);
  const ms = time(3, () => addon.sgemm(0, 0, n, n, n, 1, a, n, b, n, 0, c, n));
  return (2 * n ** 3) / (ms * 1e6);
}

export interface BenchConfig {
  backends: string[];
  trainBatch: number;
  inferBatch: number;
  sfdBatch: number;
  reps: number;
}

export const benchDefaults: BenchConfig = {
  backends: ['native', 'wasm'],
  trainBatch: 64,
  inferBatch: 256,
  sfdBatch: 16,
  reps: 3,
};

/** Times each backend on the same three workloads; returns one row per (backend, workload). */
export async function runBenchmark(
  cfg: BenchConfig = benchDefaults,
  log: (s: string) => void = () => {},
): Promise<{ peak: number | null; rows: BenchRow[] }> {
  const peak = sgemmPeak();
  log(`sgemm peak: ${peak === null ? 'n/a (no native addon)' : `${peak.toFixed(1)} GFLOP/s`}`);
  const rows: BenchRow[] = [];
  const prev = tf.getBackend();
  for (const backend of cfg.backends) {
    await useBackend(backend as BackendName);
    const net = convNet(1);
    const opt = tf.train.adam(1e-4);
    const add = (workload: string, ms: number, samples: number, flops: number) => {
      const gflops = flops / (ms * 1e6);
      rows.push({
        backend,
        workload,
        msPerStep: ms,
        samplesPerSec: (samples * 1000) / ms,
        gflops,
        ofPeak: peak ? gflops / peak : Number.NaN,
        vsWasm: null,
      });
      log(`${backend} ${workload}: ${ms.toFixed(0)} ms`);
    };
    // (a) one Adam step of a denoising loss at trainBatch (backward ≈ 2× forward FLOPs)
    const xT = tf.randomNormal([cfg.trainBatch, 32, 32, 3], 0, 1, 'float32', 7) as tf.Tensor4D;
    add(
      'train step',
      time(cfg.reps, () =>
        tf.dispose(opt.minimize(() => net.forward(xT).sub(xT).square().mean() as tf.Scalar, true) ?? []),
      ),
      cfg.trainBatch,
      3 * net.flopsPerImage * cfg.trainBatch,
    );
    // (b) inference at inferBatch
    const xI = tf.randomNormal([cfg.inferBatch, 32, 32, 3], 0, 1, 'float32', 8) as tf.Tensor4D;
    add(
      'inference',
      time(cfg.reps, () => tf.tidy(() => net.forward(xI).dataSync())),
      cfg.inferBatch,
      net.flopsPerImage * cfg.inferBatch,
    );
    // (c) one SFD iteration at NFE 2 with AFS (4 student timestamps): DPM-Solver++(3M) teacher with K = 4
    // (12 calls), then the student's two trained Euler steps
    const D = edmPrecond((x) => net.forward(x as tf.Tensor4D));
    const grid = teacherGrid(4, 4, { kind: 'polynomial', rho: 7, tMin: 0.006, tMax: 80 });
    const z = tf.randomNormal([cfg.sfdBatch, 32, 32, 3], 0, 80, 'float32', 9);
    const sfdIteration = () => {
      const teacher = dpmpp(D, z, grid.ts, { order: 3, keep: grid.studentIndices.slice(1) });
      tf.dispose(teacher.x);
      // student: the AFS first step (no network call, no update), then its two trained Euler steps
      let x = eulerStep(withAfs(D, grid.studentTs[0]), z, grid.studentTs[0], grid.studentTs[1]);
      for (let j = 1; j < 3; j++) {
        const xj = x;
        const target = teacher.trajectory[j]; // teacher state at student time j + 1
        const loss = () =>
          eulerStep(D, xj, grid.studentTs[j], grid.studentTs[j + 1])
            .sub(target)
            .abs()
            .mean() as tf.Scalar;
        tf.dispose(opt.minimize(loss, true) ?? []);
        x = tf.tidy(() => eulerStep(D, xj, grid.studentTs[j], grid.studentTs[j + 1]));
        xj.dispose();
      }
      tf.dispose([x, ...teacher.trajectory]);
    };
    const sfdCalls = 12 + 2 * 3 + 2; // teacher forwards, two student steps (forward + backward ≈ 3), two detached steps
    add(
      'SFD iteration',
      time(Math.max(1, cfg.reps - 1), sfdIteration),
      cfg.sfdBatch,
      sfdCalls * net.flopsPerImage * cfg.sfdBatch,
    );
    tf.dispose([xT, xI, z]);
    net.dispose();
    opt.dispose();
  }
  await tf.setBackend(prev);
  for (const r of rows) {
    const w = rows.find((x) => x.backend === 'wasm' && x.workload === r.workload);
    r.vsWasm = w ? w.msPerStep / r.msPerStep : null;
  }
  return { peak, rows };
}

/** A fixed-width table of benchmark rows. */
export function formatBenchTable(rows: BenchRow[]): string {
  const head = ['backend', 'workload', 'ms/step', 'samples/s', 'GFLOP/s', '% of peak', '× wasm'];
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
