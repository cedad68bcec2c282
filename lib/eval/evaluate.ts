import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { loadMnist, type MnistSet, type MnistSplit, mnistBatch, shuffledIndices } from '../data/mnist';
import { repoRoot } from '../runtime/paths';
import { writeFileAtomic } from '../util/atomicWrite';
import { FEATURE_DIM, type FeatureNet } from './featureNet';
import { FeatureStats, frechetDistance, type GaussianStats } from './fid';
import { prdc } from './prdc';

/** Features (n×128) and the classifier's mean max-softmax confidence for NHWC images in [−1, 1]. */
export async function imageFeatures(
  net: FeatureNet,
  pixels: Float32Array,
  n: number,
  batch = 500,
): Promise<{ features: Float32Array; confidence: number }> {
  const per = 28 * 28;
  if (pixels.length !== n * per)
    throw new RangeError(`imageFeatures: ${pixels.length} values for ${n} 28×28×1 images`);
  const features = new Float32Array(n * FEATURE_DIM);
  let conf = 0;
  for (let s = 0; s < n; s += batch) {
    const b = Math.min(batch, n - s);
    const x = tf.tensor4d(pixels.subarray(s * per, (s + b) * per), [b, 28, 28, 1]);
    const [f, p] = tf.tidy(() => {
      const a = net.activations(x);
      return [a.features, tf.softmax(a.logits).max(1).sum()];
    });
    x.dispose();
    features.set(await f.data(), s * FEATURE_DIM);
    conf += (await p.data())[0];
    tf.dispose([f, p]);
  }
  return { features, confidence: conf / n };
}

/** Pixels of the images of a split at the given indices (NHWC, [−1, 1]). */
export function mnistPixels(ds: MnistSet, indices: ArrayLike<number>): Float32Array {
  // a tensor made from CPU values reads back synchronously on every backend (webgpu uploads it lazily)
  const { x } = mnistBatch(ds, indices);
  const px = x.dataSync() as Float32Array;
  x.dispose();
  return px;
}

/** The seeded subset of a split used as the real set of PRDC (and of the real-vs-real floor). */
export function realSubset(ds: MnistSet, n: number, seed = 0): Uint32Array {
  if (n > ds.n) throw new RangeError(`asked for ${n} real images, MNIST ${ds.split} has ${ds.n}`);
  return shuffledIndices(ds.n, seed).subarray(0, n);
}

export interface ReferenceStatsFile {
  featureNetSha256: string;
  train: GaussianStats;
  test: GaussianStats;
}

export function referenceStatsPath(): string {
  return join(repoRoot(), 'data', 'mnist-feature-stats.json');
}

/** Feature mean/covariance of a whole MNIST split. */
export async function splitStats(net: FeatureNet, ds: MnistSet): Promise<GaussianStats> {
  const stats = new FeatureStats(FEATURE_DIM);
  const chunk = 5000;
  for (let s = 0; s < ds.n; s += chunk) {
    const idx = Array.from({ length: Math.min(chunk, ds.n - s) }, (_, i) => s + i);
    stats.add((await imageFeatures(net, mnistPixels(ds, idx), idx.length)).features);
  }
  return stats.summary();
}

export async function writeReferenceStats(
  net: FeatureNet,
  sha256: string,
  path = referenceStatsPath(),
): Promise<ReferenceStatsFile> {
  const file = {
    featureNetSha256: sha256,
    train: await splitStats(net, loadMnist('train')),
    test: await splitStats(net, loadMnist('test')),
  };
  writeFileAtomic(path, `${JSON.stringify(file)}\n`);
  return file;
}

/** Shipped reference statistics, refused if they were computed under another feature network. */
export function readReferenceStats(sha256: string, path = referenceStatsPath()): ReferenceStatsFile {
  if (!existsSync(path))
    throw new Error(`reference statistics missing: ${path} (sfd eval --write-reference-stats)`);
  const f = JSON.parse(readFileSync(path, 'utf8')) as ReferenceStatsFile;
  if (f.featureNetSha256 !== sha256)
    throw new Error(`${path} was computed with feature network ${f.featureNetSha256}, not ${sha256}`);
  return f;
}

export interface SampleMetrics {
  n: number;
  reference: MnistSplit;
  fid: number;
  precision: number;
  recall: number;
  density: number;
  coverage: number;
  /** The feature classifier's mean max-softmax probability on the images. */
  meanConfidence: number;
  featureNetSha256: string;
}

/**
 * FID of the images against the whole reference split's statistics, and PRDC (k = 5) against a seeded
 * subset of that split of the same size.
 */
export async function evaluateImages(
  pixels: Float32Array,
  n: number,
  net: FeatureNet,
  featureNetSha256: string,
  reference: MnistSplit = 'test',
  k = 5,
): Promise<SampleMetrics> {
  const ref = readReferenceStats(featureNetSha256)[reference];
  const { features, confidence } = await imageFeatures(net, pixels, n);
  const fid = frechetDistance(new FeatureStats(FEATURE_DIM).add(features).summary(), ref);
  const ds = loadMnist(reference);
  const real = (
    await imageFeatures(net, mnistPixels(ds, realSubset(ds, Math.min(n, ds.n))), Math.min(n, ds.n))
  ).features;
  const p = prdc({ data: real, dim: FEATURE_DIM }, { data: features, dim: FEATURE_DIM }, k);
  return { n, reference, fid, ...p, meanConfidence: confidence, featureNetSha256 };
}
