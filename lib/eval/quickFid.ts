import type { MnistSplit } from '../data/mnist';
import type { Denoiser } from '../diffusion/denoiser';
import { type ImageSampling, sampleImages } from '../diffusion/sampleImages';
import { imageFeatures, readReferenceStats } from './evaluate';
import { FEATURE_DIM, type FeatureNet } from './featureNet';
import { FeatureStats, frechetDistance } from './fid';

/**
 * FID alone (no PRDC, whose k-NN search is quadratic) of n images drawn from a denoiser with fixed seeds:
 * the cheap score of training curves (`sfd distill --eval-every`). Comparable only at equal n and seed.
 */
export async function quickFid(
  denoise: Denoiser,
  shape: [number, number, number],
  sampling: ImageSampling,
  n: number,
  seed: number,
  net: FeatureNet,
  featureNetSha256: string,
  reference: MnistSplit = 'test',
): Promise<number> {
  const { pixels } = await sampleImages(denoise, shape, n, seed, sampling);
  return pixelsFid(pixels, n, net, featureNetSha256, reference);
}

/** FID alone of n images (NHWC in [−1, 1]) against a MNIST split's reference statistics. */
export async function pixelsFid(
  pixels: Float32Array,
  n: number,
  net: FeatureNet,
  featureNetSha256: string,
  reference: MnistSplit = 'test',
): Promise<number> {
  const { features } = await imageFeatures(net, pixels, n);
  const ref = readReferenceStats(featureNetSha256)[reference];
  return frechetDistance(new FeatureStats(FEATURE_DIM).add(features).summary(), ref);
}
