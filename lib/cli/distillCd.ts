import { CD_LOSSES, type CdConfig, cdDefaults, checkCdConfig } from '../baselines/consistencyConfig';
import { trainConsistencyImages } from '../baselines/consistencyImages';
import { consistencyFid } from '../baselines/consistencySampler';
import { loadFeatureNet } from '../eval/featureNetFiles';
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

const d = cdDefaults;

export const CD_HELP = `  sfd distill --method cd [--teacher mnist|DIR] --out DIR [--n-grid ${d.nGrid}] [--loss ${CD_LOSSES.join('|')}]
              [--target-ema ${d.targetEma}] [--ema ${d.ema}] [--lr ${d.lr.lr}] [--batch ${d.batch}] [--iterations ${d.iterations}]
              [--seed ${d.seed}] [--mid-tau ${d.midTau} | --tau-search] [--checkpoint-every ${d.checkpointEvery}]
              [--eval-every N [--eval-n 500] [--eval-seed 0]] [--resume] [--unchecked]
                                   Consistency Distillation (Song et al. 2023): f_θ from the teacher's network,
                                   one teacher Heun step between adjacent points of an N-point ρ=7 grid
                                   (σ ${d.schedule.tMax} → ${d.schedule.tMin}); --target-ema μ for θ⁻ (0: online
                                   weights, stop-gradient), --ema the sampling EMA that is saved; Adam (official:
                                   RAdam). Samples at 1 NFE (σ ${d.schedule.tMax}) and 2 NFE (σ ${d.schedule.tMax}, --mid-tau;
                                   --tau-search picks it by held-out FID at the end, needs --eval-n)`;

const OPTIONS = {
  ...DISTILL_RUN_OPTIONS,
  'n-grid': { type: 'string' },
  loss: { type: 'string' },
  'target-ema': { type: 'string' },
  ema: { type: 'string' },
  iterations: { type: 'string' },
  'mid-tau': { type: 'string' },
  'tau-search': { type: 'boolean' },
} as const;

/** The run's configuration: the defaults with each flag applied (checkCdConfig refuses the impossible). */
export function cdConfigFromArgs(v: Record<string, string | boolean | undefined>): CdConfig {
  const str = (k: string) => v[k] as string | undefined;
  if (v['tau-search'] && v['mid-tau'] !== undefined)
    throw new RangeError('give --mid-tau or --tau-search, not both');
  return {
    ...d,
    nGrid: intArg(str('n-grid'), 'n-grid', d.nGrid, 2),
    loss: choiceArg(str('loss'), 'loss', CD_LOSSES, d.loss),
    targetEma: numArg(str('target-ema'), 'target-ema', d.targetEma),
    ema: numArg(str('ema'), 'ema', d.ema),
    lr: { ...d.lr, lr: positiveArg(str('lr'), 'lr', d.lr.lr) },
    batch: intArg(str('batch'), 'batch', d.batch, 1),
    iterations: intArg(str('iterations'), 'iterations', d.iterations, 1),
    seed: seedArg(str('seed'), d.seed),
    midTau: positiveArg(str('mid-tau'), 'mid-tau', d.midTau),
    checkpointEvery: intArg(str('checkpoint-every'), 'checkpoint-every', d.checkpointEvery, 1),
  };
}

export async function cdCommand(args: string[]): Promise<void> {
  const { values: v } = parseCommandArgs(args, OPTIONS);
  if (v.method !== undefined && v.method !== 'cd')
    throw new RangeError(`this command distils with --method cd, not '${v.method}'`);
  if (!v.out) throw new RangeError('sfd distill --method cd needs --out DIR for the consistency model');
  const cfg = cdConfigFromArgs(v);
  checkCdConfig(cfg); // before the backend starts
  const evalEvery = v['eval-every'] === undefined ? undefined : intArg(v['eval-every'], 'eval-every', 0, 1);
  const evalN = intArg(v['eval-n'], 'eval-n', 500, 2);
  const evalSeed = seedArg(v['eval-seed'], 0);
  const b = await initBackend();
  console.error(describeBackend(b));
  const fnet = evalEvery || v['tau-search'] ? loadFeatureNet() : null;
  const bar = progressBar('consistency distillation', 10);
  try {
    const r = await trainConsistencyImages({
      config: cfg,
      teacher: v.teacher ?? 'mnist',
      uncheckedTeacher: v.unchecked,
      out: v.out,
      resume: v.resume,
      evalEvery,
      searchMidTau: v['tau-search'],
      evaluate: fnet ? (s, nfe) => consistencyFid(s, nfe, evalN, evalSeed, fnet.net, fnet.sha256) : undefined,
      onEval: (e) =>
        console.error(`  iteration ${e.iteration}: FID ${e.fid.toFixed(2)} at NFE ${e.nfe} (N = ${evalN})`),
      onProgress: (p) => bar(p.iteration, p.iterations, p.seconds, `loss ${p.last.loss.toExponential(2)}`),
      card: {
        command: `sfd distill ${args.join(' ')}`.trim(),
        backend: b.choice,
        ...(fnet ? { evalProtocol: { n: evalN, seed: evalSeed, reference: 'test', metric: 'FID' } } : {}),
      },
    });
    console.log(
      `consistency-distilled ${r.iterations} iterations (${r.iterations * cfg.batch} images) in ${(r.seconds / 60).toFixed(1)} CPU-min on ${b.choice} (${(r.iterations / Math.max(r.seconds, 1e-9)).toFixed(2)} it/s); model → ${r.modelDir}/model.json`,
    );
  } finally {
    fnet?.net.dispose();
  }
}
