import { parseArgs } from 'node:util';
import { saveFeatureNet } from '../eval/featureNetFiles';
import { describeBackend, initBackend } from '../runtime/backend';
import { featureTrainDefaults, trainFeatureNet } from '../train/features';
import { progressBar } from '../util/progress';

export const TRAIN_FEATURES_HELP = `  sfd train-features [--epochs N] [--batch B] [--seed S] [--out DIR]
                                   train the MNIST feature classifier (the shipped one in data/feature-net is frozen)`;

export async function trainFeaturesCommand(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      epochs: { type: 'string' },
      batch: { type: 'string' },
      seed: { type: 'string' },
      out: { type: 'string' },
    },
  });
  const int = (v: string | undefined, name: string, d: number) => {
    const x = v === undefined ? d : Number(v);
    if (!Number.isInteger(x) || x < 0)
      throw new RangeError(`--${name} must be a non-negative integer, got '${v}'`);
    return x;
  };
  const d = featureTrainDefaults;
  const cfg = {
    ...d,
    epochs: int(values.epochs, 'epochs', d.epochs),
    batch: int(values.batch, 'batch', d.batch),
    seed: int(values.seed, 'seed', d.seed),
  };
  const out = values.out ?? 'runs/feature-net';
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
    command: `sfd train-features ${args.join(' ')}`.trim(),
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
