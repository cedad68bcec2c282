import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { checkCard, type UNetCard } from './card';
import { createUNet, type UNet, type UNetConfig } from './unet';
import { assignWeights, loadWeights, saveWeights } from './weightsIO';

/** A saved UNet: `model.json` (architecture, card, manifest) and `weights.bin` in one directory. */
export type { UNetCard } from './card';

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
export function loadUNet(
  dir: string,
  opts: { unchecked?: boolean } = {},
): { unet: UNet; card: UNetCard; sha256: string } {
  const f = loadWeights<unknown>(join(dir, 'model.json'), { what: `the model.json of ${dir}`, ...opts });
  let card: UNetCard;
  try {
    card = checkCard(f.meta, `${dir}/model.json`);
  } catch (e) {
    tf.dispose([...f.tensors.values()]);
    throw e;
  }
  const unet = createUNet(card.config, 0);
  try {
    assignWeights(unet.weights, f.tensors, `${dir}/model.json`);
  } finally {
    tf.dispose([...f.tensors.values()]);
  }
  return { unet, card, sha256: f.sha256 };
}
