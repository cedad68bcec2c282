import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { assignWeights, loadWeights, saveWeights } from '../models/weightsIO';
import { repoRoot } from '../runtime/paths';
import { createFeatureNet, type FeatureNet } from './featureNet';

/** Where the shipped, frozen feature network lives. */
export function featureNetDir(): string {
  return join(repoRoot(), 'data', 'feature-net');
}

/**
 * sha256 of the shipped feature network's weights. Metrics are comparable only under one fixed network,
 * so loading refuses any other weights unless the caller names them explicitly (a new network means
 * changing this constant, and every FID before it is void).
 */
export const FEATURE_NET_SHA256 = '1c1c4169143f468e339f243310cbf7a8167e632ceaa0169e3b32949bdaf51818';

export async function saveFeatureNet(
  dir: string,
  net: FeatureNet,
  card: Record<string, unknown>,
): Promise<string> {
  const { sha256 } = await saveWeights(join(dir, 'model.json'), 'weights.bin', net.weights, {
    format: 'sfd-feature-net',
    ...card,
  });
  return sha256;
}

export interface LoadedFeatureNet {
  net: FeatureNet;
  sha256: string;
  card: Record<string, unknown>;
}

/** Loads the frozen feature network, checking its hash against FEATURE_NET_SHA256 (or `expectSha256`). */
export function loadFeatureNet(
  dir = featureNetDir(),
  expectSha256: string | null = FEATURE_NET_SHA256,
): LoadedFeatureNet {
  const f = loadWeights<Record<string, unknown>>(join(dir, 'model.json'), {
    what: `the model.json of feature network ${dir}`,
  });
  if (f.meta.format !== 'sfd-feature-net') throw new Error(`${dir}/model.json is not an sfd feature network`);
  if (expectSha256 !== null && f.sha256 !== expectSha256) {
    tf.dispose([...f.tensors.values()]);
    throw new Error(
      `feature network ${dir} has sha256 ${f.sha256}, but metrics are defined by ${expectSha256}: refusing a different network`,
    );
  }
  const net = createFeatureNet(0);
  try {
    assignWeights(net.weights, f.tensors, `${dir}/model.json`);
  } finally {
    tf.dispose([...f.tensors.values()]);
  }
  return { net, sha256: f.sha256, card: f.meta };
}
