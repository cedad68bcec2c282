import * as tf from '@tensorflow/tfjs';
import { loadMnist, type MnistSet, mnistBatch, mnistStepBatch, stepsPerEpoch } from '../data/mnist';
import { createFeatureNet, type FeatureNet } from '../eval/featureNet';
import { Adam } from './adam';
import { namedGrads } from './namedGrads';

export interface FeatureTrainConfig {
  epochs: number;
  batch: number;
  lr: number;
  seed: number;
}

export const featureTrainDefaults: FeatureTrainConfig = { epochs: 4, batch: 128, lr: 1e-3, seed: 0 };

/** Classification accuracy and mean max-softmax confidence over a labelled set. */
export function classify(
  net: FeatureNet,
  ds: MnistSet,
  batch = 1000,
): { accuracy: number; confidence: number } {
  let correct = 0;
  let conf = 0;
  for (let s = 0; s < ds.n; s += batch) {
    const idx = Array.from({ length: Math.min(batch, ds.n - s) }, (_, i) => s + i);
    const { x, labels } = mnistBatch(ds, idx);
    const p = tf.tidy(() => tf.softmax(net.logits(x)));
    const probs = p.dataSync();
    tf.dispose([x, p]);
    for (let i = 0; i < idx.length; i++) {
      const row = probs.subarray(i * 10, i * 10 + 10);
      let arg = 0;
      for (let c = 1; c < 10; c++) if (row[c] > row[arg]) arg = c;
      if (arg === labels[i]) correct++;
      conf += row[arg];
    }
  }
  return { accuracy: correct / ds.n, confidence: conf / ds.n };
}

/**
 * Trains the feature classifier on MNIST train with Adam and a cosine learning-rate decay (cross-entropy),
 * then measures test accuracy. Deterministic from the seed.
 */
export function trainFeatureNet(
  cfg: FeatureTrainConfig = featureTrainDefaults,
  onProgress?: (step: number, steps: number, loss: number) => void,
  data = { train: loadMnist('train'), test: loadMnist('test') },
): { net: FeatureNet; testAccuracy: number; trainLoss: number; steps: number } {
  const net = createFeatureNet(cfg.seed);
  const adam = new Adam(net.weights);
  const steps = cfg.epochs * stepsPerEpoch(data.train, cfg.batch);
  let trainLoss = 0;
  for (let step = 0; step < steps; step++) {
    const { x, labels } = mnistStepBatch(data.train, cfg.batch, cfg.seed, step);
    const onehot = tf.tidy(() => tf.oneHot(tf.tensor1d(labels, 'int32'), 10));
    const g = namedGrads(net.weights, () => ({
      loss: tf.losses.softmaxCrossEntropy(onehot, net.logits(x)) as tf.Scalar,
    }));
    const loss = g.loss.dataSync()[0];
    if (!Number.isFinite(loss)) throw new Error(`feature training diverged at step ${step} (loss ${loss})`);
    const lr = 0.5 * cfg.lr * (1 + Math.cos((Math.PI * step) / steps));
    adam.apply(g.grads, lr);
    tf.dispose([x, onehot, g.loss, ...g.grads.values()]);
    trainLoss = 0.98 * trainLoss + 0.02 * loss;
    onProgress?.(step + 1, steps, loss);
  }
  adam.dispose();
  return { net, testAccuracy: classify(net, data.test).accuracy, trainLoss, steps };
}
