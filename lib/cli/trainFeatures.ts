import { saveFeatureNet } from '../eval/featureNetFiles';
import { describeBackend, initBackend } from '../runtime/backend';
import { featureTrainDefaults, trainFeatureNet } from '../train/features';
import { ensureModelOutDir } from '../util/outputs';
import { progressBar } from '../util/progress';
import { acquireRunLock } from '../util/runLock';
import { intArg, parseCommandArgs, seedArg } from './args';

export const TRAIN_FEATURES_HELP = `  sfd train-features [--epochs N] [--batch B] [--seed S] [--out DIR]
                                   train the MNIST feature classifier (the shipped one in data/feature-net is frozen)`;

export async function trainFeaturesCommand(args: string[]): Promise<void> {
  const { values } = parseCommandArgs(args, {
    epochs: { type: 'string' },
    batch: { type: 'string' },
    seed: { type: 'string' },
    out: { type: 'string' },
  });
  const d = featureTrainDefaults;
  const cfg = {
    ...d,
    epochs: intArg(values.epochs, 'epochs', d.epochs, 1),
    batch: intArg(values.batch, 'batch', d.batch, 1),
    seed: seedArg(values.seed, d.seed),
  };
  const out = values.out ?? 'runs/feature-net';
  ensureModelOutDir(out);
  const command = `sfd train-features ${args.join(' ')}`.trim();
  const release = acquireRunLock(out, command);
  try {
    await trainAndSave(cfg, out, command);
  } finally {
    release();
  }
}

async function trainAndSave(cfg: typeof featureTrainDefaults, out: string, command: string): Promise<void> {
  const b = await initBackend();
  console.error(describeBackend(b));
  const bar = progressBar('train-features', 100);
  const t0 = performance.now();
  const r = trainFeatureNet(cfg, (s, n, loss) =>
    bar(s, n, (performance.now() - t0) / 1000, `loss ${loss.toFixed(4)}`),
  );
  const seconds = (performance.now() - t0) / 1000;
  const sha = await saveFeatureNet(out, r.net, {
    purpose: 'frozen feature space of FID / PRDC (128-d penultimate layer) and the LPIPS-style distance',
    command,
    training: cfg,
    steps: r.steps,
    backend: b.choice,
    wallSeconds: Math.round(seconds),
    testAccuracy: r.testAccuracy,
  });
  r.net.dispose();
  console.log(
    `test accuracy ${(100 * r.testAccuracy).toFixed(2)} % after ${r.steps} steps (${(seconds / 60).toFixed(1)} min) → ${out}/model.json (sha256 ${sha})`,
  );
}
