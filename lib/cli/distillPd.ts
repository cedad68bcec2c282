import { checkPdConfig, type PdConfig, pdDefaults, pdRoundSteps } from '../baselines/progressiveDistillation';
import { trainProgressiveMnist } from '../baselines/progressiveMnist';
import { PD_WEIGHTINGS } from '../baselines/progressiveTargets';
import { loadFeatureNet } from '../eval/featureNetFiles';
import { quickFid } from '../eval/quickFid';
import { describeBackend, initBackend } from '../runtime/backend';
import { progressBar } from '../util/progress';
import {
  choiceArg,
  DISTILL_RUN_OPTIONS,
  intArg,
  numArg,
  parseCommandArgs,
  positiveArg,
  seedArg,
} from './args';

export const PD_HELP = `  sfd distill --method pd [--teacher mnist|DIR] --out DIR [--start-steps 64] [--final-steps 2]
              [--iterations-per-round 250] [--batch 16] [--lr 5e-4] [--grad-clip 1]
              [--weighting truncated-snr|edm] [--seed 0] [--checkpoint-every 50]
              [--eval-every N [--eval-n 500] [--eval-seed 0]] [--resume] [--unchecked]
                                   Progressive Distillation: halve the teacher's Euler sampler from
                                   --start-steps to --final-steps (one round per halving, each student
                                   from the previous one, Adam decayed to 0 per round); with --eval-every,
                                   FID every N iterations and after each round, in the card`;

const OPTIONS = {
  ...DISTILL_RUN_OPTIONS,
  'start-steps': { type: 'string' },
  'final-steps': { type: 'string' },
  'iterations-per-round': { type: 'string' },
  'grad-clip': { type: 'string' },
  weighting: { type: 'string' },
} as const;

/** The run's configuration from flags over `pdDefaults` (checked: one-line errors). */
export function pdConfigFromArgs(args: string[]): PdConfig {
  const { values: v } = parseCommandArgs(args, OPTIONS);
  if (v.method !== undefined && v.method !== 'pd')
    throw new RangeError(`--method must be pd for this command, got '${v.method}'`);
  const d = pdDefaults;
  const gradClip = numArg(v['grad-clip'], 'grad-clip', d.gradClip);
  if (!(gradClip >= 0)) throw new RangeError(`--grad-clip must be ≥ 0 (0: none), got '${v['grad-clip']}'`);
  const cfg: PdConfig = {
    ...d,
    startSteps: intArg(v['start-steps'], 'start-steps', d.startSteps, 2),
    finalSteps: intArg(v['final-steps'], 'final-steps', d.finalSteps, 1),
    iterationsPerRound: intArg(v['iterations-per-round'], 'iterations-per-round', d.iterationsPerRound, 1),
    batch: intArg(v.batch, 'batch', d.batch, 1),
    lr: positiveArg(v.lr, 'lr', d.lr),
    gradClip,
    weighting: choiceArg(v.weighting, 'weighting', PD_WEIGHTINGS, d.weighting),
    seed: seedArg(v.seed, d.seed),
    checkpointEvery: intArg(v['checkpoint-every'], 'checkpoint-every', d.checkpointEvery, 1),
  };
  checkPdConfig(cfg);
  return cfg;
}

/** `sfd distill --method pd …`: parses, runs `trainProgressiveMnist`, prints where the student is. */
export async function pdCommand(args: string[]): Promise<void> {
  const { values: v } = parseCommandArgs(args, OPTIONS);
  const cfg = pdConfigFromArgs(args);
  if (!v.out) throw new RangeError('PD needs --out DIR for the student');
  const evalEvery = v['eval-every'] === undefined ? undefined : intArg(v['eval-every'], 'eval-every', 0, 1);
  const evalN = intArg(v['eval-n'], 'eval-n', 500, 2);
  const evalSeed = seedArg(v['eval-seed'], 0);
  const b = await initBackend();
  console.error(describeBackend(b));
  const fnet = evalEvery ? loadFeatureNet() : null;
  const bar = progressBar('pd', 10);
  try {
    const r = await trainProgressiveMnist({
      config: cfg,
      teacher: v.teacher ?? 'mnist',
      uncheckedTeacher: v.unchecked,
      out: v.out,
      resume: v.resume,
      evalEvery,
      evaluate: fnet
        ? (s) => quickFid(s.denoise, [28, 28, 1], s.sampling, evalN, evalSeed, fnet.net, fnet.sha256)
        : undefined,
      onEval: (e) =>
        console.error(
          `  round ${e.round + 1}, iteration ${e.roundIteration}: FID ${e.fid.toFixed(2)} at ${e.nfe} steps (N = ${evalN})`,
        ),
      onRound: (rec, round) =>
        console.error(
          `  round ${round + 1} done: ${rec.steps}-step student, loss ${rec.finalLoss.toPrecision(3)}, ${rec.seconds.toFixed(0)} s`,
        ),
      onProgress: (p) =>
        bar(
          p.iteration,
          p.iterations,
          p.seconds,
          `${p.last.steps} steps, σ ${p.last.sigma.toPrecision(3)}, loss ${p.last.loss.toPrecision(3)}`,
        ),
      card: {
        command: `sfd distill --method pd ${args.join(' ')}`.trim(),
        backend: b.choice,
        ...(evalEvery
          ? { evalProtocol: { n: evalN, seed: evalSeed, reference: 'test', metric: 'FID' } }
          : {}),
      },
    });
    const rounds = pdRoundSteps(cfg).length;
    const ips = r.iterations / Math.max(r.seconds, 1e-9);
    console.log(
      `PD ${cfg.startSteps} → ${cfg.finalSteps} steps: ${r.rounds.length}/${rounds} rounds, ${r.iterations} iterations in ${(r.seconds / 60).toFixed(1)} CPU-min on ${b.choice} (${ips.toFixed(2)} it/s); student → ${r.modelDir}/model.json`,
    );
  } finally {
    fnet?.net.dispose();
  }
}
