import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { createUNet, type UNet, type UNetConfig } from './unet';
import { assignWeights, loadWeights, saveWeights } from './weightsIO';

/** A saved UNet: `model.json` (architecture, card, manifest) and `weights.bin` in one directory. */
export interface UNetCard {
  format: 'sfd-unet';
  config: UNetConfig;
  params: number;
  [key: string]: unknown;
}

export async function saveUNet(
  dir: string,
  weights: Map<string, tf.Tensor>,
  config: UNetConfig,
  card: Record<string, unknown> = {},
): Promise<string> {
  const params = [...weights.values()].reduce((a, w) => a + w.size, 0);
  const { sha256 } = await saveWeights(join(dir, 'model.json'), 'weights.bin', weights, {
    format: 'sfd-unet',
    config,
    params,
    ...card,
  });
  return sha256;
}

/** Loads a UNet saved by saveUNet; refuses a corrupt binary or weights that do not fit the stored config. */
export function loadUNet(dir: string): { unet: UNet; card: UNetCard; sha256: string } {
  const f = loadWeights<UNetCard>(join(dir, 'model.json'));
  if (f.meta.format !== 'sfd-unet') throw new Error(`${dir}/model.json is not an sfd-unet model`);
  const unet = createUNet(f.meta.config, 0);
  try {
    assignWeights(unet.weights, f.tensors, `${dir}/model.json`);
  } finally {
    tf.dispose([...f.tensors.values()]);
  }
  return { unet, card: f.meta, sha256: f.sha256 };
}
