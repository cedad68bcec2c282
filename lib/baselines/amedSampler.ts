import * as tf from '@tensorflow/tfjs';
import { countCalls } from '../diffusion/denoiser';
import type { ImageSamples } from '../diffusion/sampleImages';
import { timeGrid } from '../diffusion/schedules';
import { makeRng } from '../util/rng';
import type { AmedConfig } from './amedConfig';
import { amedNfe } from './amedPlugin';
import type { AmedPredict, AmedPredictor } from './amedPredictor';
import type { AmedTeacher } from './amedTeacher';
import { amedWalk } from './amedWalk';

/** How an AMED predictor samples, as its card stores it (part of its training config). */
export type AmedSampling = Pick<AmedConfig, 'numSteps' | 'afs' | 'maxOrder' | 'schedule'>;

export interface AmedSampler {
  /** x_T (at ts[0]) → the sample at ts[N − 1]; the caller owns the result, xT stays theirs. */
  sample(xT: tf.Tensor): Promise<tf.Tensor>;
  /** The student's N-point grid. */
  ts: number[];
  /** Teacher calls per sample. */
  nfe: number;
}

/** The teacher with every call counted (both kinds: one level for the batch, one per sample). */
export function countAmedCalls(teacher: AmedTeacher): { teacher: AmedTeacher; calls: () => number } {
  const counted = countCalls(teacher.denoise);
  let each = 0;
  const denoiseEach: AmedTeacher['denoiseEach'] = (x, t) => {
    each++;
    return teacher.denoiseEach(x, t);
  };
  return {
    teacher: { ...teacher, denoise: counted.denoise, denoiseEach },
    calls: () => counted.calls() + each,
  };
}

/** AMED-Plugin(iPNDM) as a sampler: the teacher driven by its predictor on the grid it was trained for. */
export function amedSampler(
  teacher: AmedTeacher,
  predictor: AmedPredictor | AmedPredict,
  s: AmedSampling,
): AmedSampler {
  const predict = typeof predictor === 'function' ? predictor : predictor.predict;
  const ts = timeGrid(s.numSteps, s.schedule);
  return {
    sample: (xT) => amedWalk(teacher, predict, xT, ts, { maxOrder: s.maxOrder, afs: s.afs }),
    ts,
    nfe: amedNfe(s.numSteps, s.afs),
  };
}

/**
 * n images from an AMED sampler, `batch` at a time, from the same seeded noise as `sampleImages` (sample i's
 * noise depends only on (seed, i)), so an AMED sample set lines up with a plain solver's.
 */
export async function sampleAmedImages(
  sampler: AmedSampler,
  shape: [number, number, number],
  n: number,
  seed: number,
  batch = 250,
  onBatch?: (done: number, total: number) => void,
): Promise<ImageSamples> {
  if (!Number.isInteger(n) || n < 1)
    throw new RangeError(`number of samples must be a positive integer, got ${n}`);
  const per = shape[0] * shape[1] * shape[2];
  const pixels = new Float32Array(n * per);
  const rng = makeRng(seed);
  for (let s = 0; s < n; s += batch) {
    const b = Math.min(batch, n - s);
    const x = tf.tensor4d(
      Float32Array.from({ length: b * per }, () => sampler.ts[0] * rng.normal()),
      [b, ...shape],
    );
    const y = await sampler.sample(x);
    const out = tf.tidy(() => y.clipByValue(-1, 1));
    tf.dispose([x, y]);
    pixels.set(await out.data(), s * per);
    out.dispose();
    onBatch?.(s + b, n);
  }
  return { pixels, n, shape, ts: sampler.ts, nfe: sampler.nfe };
}
