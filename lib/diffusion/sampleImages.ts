import * as tf from '@tensorflow/tfjs';
import { makeRng } from '../util/rng';
import { withAfs } from './afs';
import { countCalls, type Denoiser } from './denoiser';
import { type SamplingSchedule, type ScheduleConfig, timeGrid } from './schedules';
import { solverByName, stepsForNfe } from './solvers/registry';

/** How images are drawn from a denoiser. */
export interface ImageSampling {
  solver: string;
  nfe: number;
  afs: boolean;
  /** A parametric schedule, or an explicit σ grid (a GITS schedule file) with exactly steps + 1 values. */
  schedule: SamplingSchedule;
  threshold?: boolean;
}

/** EDM's sampling range for image teachers (σ from 80 down to 0.002, ρ = 7). */
export const edmImageSchedule: ScheduleConfig = { kind: 'polynomial', rho: 7, tMin: 0.002, tMax: 80 };

export interface ImageSamples {
  /** NHWC pixels, n·h·w·c values, clipped to [−1, 1]. */
  pixels: Float32Array;
  n: number;
  shape: [number, number, number];
  ts: number[];
  /** Denoiser calls per sample. */
  nfe: number;
}

/**
 * Draws n images by solving the PF-ODE from seeded noise, `batch` at a time. Sample i's noise depends only
 * on (seed, i), so results do not depend on the batch size.
 */
export async function sampleImages(
  denoise: Denoiser,
  shape: [number, number, number],
  n: number,
  seed: number,
  cfg: ImageSampling,
  batch = 250,
  onBatch?: (done: number, total: number) => void,
): Promise<ImageSamples> {
  if (!Number.isInteger(n) || n < 1)
    throw new RangeError(`number of samples must be a positive integer, got ${n}`);
  const entry = solverByName(cfg.solver);
  if (cfg.threshold && !entry.thresholds)
    throw new RangeError(
      `${entry.name} has no dynamic thresholding (only the data-prediction solvers DPM-Solver++ and UniPC do)`,
    );
  const ts = timeGrid(stepsForNfe(entry, cfg.nfe, cfg.afs) + 1, cfg.schedule);
  const per = shape[0] * shape[1] * shape[2];
  const pixels = new Float32Array(n * per);
  const rng = makeRng(seed);
  let calls = 0;
  for (let s = 0; s < n; s += batch) {
    const b = Math.min(batch, n - s);
    const z = Float32Array.from({ length: b * per }, () => ts[0] * rng.normal());
    const counted = countCalls(denoise);
    const d = cfg.afs ? withAfs(counted.denoise, ts[0]) : counted.denoise;
    const x = tf.tensor4d(z, [b, ...shape]);
    const r = entry.solve(d, x, ts, { keep: [], threshold: cfg.threshold });
    const out = tf.tidy(() => r.x.clipByValue(-1, 1));
    tf.dispose([x, r.x, ...r.trajectory]);
    pixels.set(await out.data(), s * per);
    out.dispose();
    calls = counted.calls();
    onBatch?.(s + b, n);
  }
  return { pixels, n, shape, ts, nfe: calls };
}
