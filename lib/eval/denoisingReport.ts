import { loadMnist, mnistBatch } from '../data/mnist';
import { loadImageTeacher } from '../models/teachers';
import { denoisingError, linearDenoiser, pixelGaussian } from './denoisingError';
import { realSubset } from './evaluate';

/** σ levels of the denoising report: where detail, layout and the digit's identity are decided. */
export const DENOISING_SIGMAS = [0.05, 0.1, 0.2, 0.5, 1, 2, 3, 5, 10, 20, 80];

/**
 * The teacher's denoising MSE per σ on n MNIST test images, beside that of the exact denoiser of a
 * Gaussian fitted to MNIST train (the best linear denoiser), on the same noisy inputs.
 */
export async function denoisingReport(
  teacherName: string,
  n: number,
  backend: string,
): Promise<Record<string, unknown>> {
  const teacher = loadImageTeacher(teacherName);
  const test = loadMnist('test');
  const { x } = mnistBatch(test, realSubset(test, n, 2));
  const train = loadMnist('train');
  const all = mnistBatch(
    train,
    Uint32Array.from({ length: train.n }, (_, i) => i),
  ).x;
  const linear = linearDenoiser(await pixelGaussian(all));
  all.dispose();
  const ours = await denoisingError(teacher.denoise, x, DENOISING_SIGMAS);
  const base = await denoisingError(linear, x, DENOISING_SIGMAS);
  teacher.unet.dispose();
  x.dispose();
  return {
    denoising: ours.map((r, i) => ({ sigma: r.sigma, mse: r.mse, linearMse: base[i].mse })),
    teacher: teacherName,
    teacherSha256: teacher.sha256,
    n,
    images: 'MNIST test (seeded subset 2)',
    backend,
  };
}
