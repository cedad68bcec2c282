import * as tf from '@tensorflow/tfjs';
import { loadWeights, saveWeights } from '../models/weightsIO';

// The raw samples of `sfd sample --save-samples FILE.json`: a weights file with one tensor, `samples`.

/** Writes n samples (pixels of `shape`) as FILE.json and its FILE.bin, with `meta` in the card. */
export async function saveSamples(
  path: string,
  pixels: Float32Array,
  n: number,
  shape: number[],
  meta: object,
): Promise<void> {
  if (!path.endsWith('.json'))
    throw new RangeError('--save-samples needs a FILE.json (a FILE.bin is written beside it)');
  const t = tf.tensor4d(pixels, [n, shape[0], shape[1], shape[2]]);
  const bin = `${path.replace(/^.*\//, '').replace(/\.json$/, '')}.bin`;
  await saveWeights(path, bin, new Map([['samples', t]]), { format: 'sfd-samples', n, shape, ...meta });
  t.dispose();
}

/** Reads a samples file written by saveSamples; MNIST-shaped samples only (the metrics need [n,28,28,1]). */
export function loadSamples(path: string): { pixels: Float32Array; n: number } {
  const f = loadWeights<{ format?: string }>(path, {
    what: 'a samples file (sfd sample --save-samples FILE.json)',
  });
  const t = f.tensors.get('samples');
  if (f.meta.format !== 'sfd-samples' || !t)
    throw new Error(`${path} is not a samples file (sfd sample --save-samples)`);
  const s = t.shape;
  if (s.length !== 4 || s[1] !== 28 || s[2] !== 28 || s[3] !== 1)
    throw new Error(`${path}: samples of shape [${s}]; the MNIST metrics need [n,28,28,1]`);
  const pixels = t.dataSync() as Float32Array;
  tf.dispose([...f.tensors.values()]);
  return { pixels, n: s[0] };
}
