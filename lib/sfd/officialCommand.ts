import { solverByName } from '../diffusion/solvers/registry';
import { type SfdConfig, studentTimestamps } from './config';

/*
 * Facts from the official code (github.com/zju-pi/diff-sampler, sfd-main/), cited by file and line:
 * train.py declares the flags (test/fixtures/official-sfd-train-options.json lists them), training_loop.py
 * runs them, loss.py computes the loss, torch_utils/download_util.py names the pre-trained models.
 */

/** The official `--dataset_name` choices (train.py:18). */
export const OFFICIAL_DATASETS = [
  'cifar10',
  'ffhq',
  'afhqv2',
  'imagenet64',
  'ms_coco',
  'lsun_bedroom_ldm',
  'ffhq_ldm',
] as const;
export type OfficialDataset = (typeof OFFICIAL_DATASETS)[number];

/** The pre-trained model each data set loads (download_util.py:6-18, training_loop.py:55-106). */
const PRETRAINED: Record<OfficialDataset, string> = {
  cifar10: "EDM's edm-cifar10-32x32-uncond-vp.pkl (unconditional, 32×32)",
  ffhq: "EDM's edm-ffhq-64x64-uncond-vp.pkl (unconditional, 64×64)",
  afhqv2: "EDM's edm-afhqv2-64x64-uncond-vp.pkl (unconditional, 64×64)",
  imagenet64: "EDM's edm-imagenet-64x64-cond-adm.pkl (class-conditional ADM, 64×64)",
  ms_coco:
    'Stable Diffusion v1.5 (v1-5-pruned-emaonly.ckpt, latent, classifier-free guidance) with prompts from the MS-COCO 30k captions',
  lsun_bedroom_ldm: "LDM's lsun_bedrooms.zip model.ckpt with the vq-f4 autoencoder (latent, 256×256)",
  ffhq_ldm: "LDM's ffhq.zip model.ckpt with the vq-f4 autoencoder (latent, 256×256)",
};

/** EDM models: their sigma range is 0.006…80 (training_loop.py:82-83) and stage 2 adds LPIPS (loss.py:87). */
const EDM_DATASETS: readonly OfficialDataset[] = ['cifar10', 'ffhq', 'afhqv2', 'imagenet64'];

/**
 * The LDM/SD teachers assert a guidance type (stage 1) and the loop picks their code path by it (both
 * stages): `--guidance_type` has no default (train.py:29), so without it they stop.
 */
const GUIDANCE: Partial<Record<OfficialDataset, { type: string; where: string }>> = {
  lsun_bedroom_ldm: { type: 'uncond', where: 'training_loop.py:89, 261' },
  ffhq_ldm: { type: 'uncond', where: 'training_loop.py:96, 261' },
  ms_coco: { type: 'cfg', where: 'training_loop.py:101, 250, 261' },
};

/** The official teacher-solver names (`--sampler_tea`, train.py:27) of ours that it has. */
const OFFICIAL_SOLVER: Record<string, { name: string; maxOrder?: number }> = {
  euler: { name: 'euler' },
  heun: { name: 'heun' },
  dpm2: { name: 'dpm' },
  // --max_order has no default (train.py:36) and these solvers assert 1 ≤ it (solvers.py:326, 429): always give it
  ipndm: { name: 'ipndm', maxOrder: 4 },
  'dpmpp-2m': { name: 'dpmpp', maxOrder: 2 },
  'dpmpp-3m': { name: 'dpmpp', maxOrder: 3 },
};

/** The stage-2 `--model_path`: a stage-1 snapshot of the official code, which we cannot produce. */
export const STAGE1_SNAPSHOT = 'STAGE1_SNAPSHOT.pkl';

/** SFD-v stage 1 draws num_steps from 4…7 every iteration and sets M = 3 (training_loop.py:239-241). */
const SFDV_NUM_STEPS = [4, 5, 6, 7];

export interface OfficialCommandOptions {
  /** The official `--dataset_name` (default cifar10). */
  dataset?: string;
  stage?: 1 | 2;
  /** Our stage-1 student directory (stage 2), named in the note on `--model_path`. */
  stage1Dir?: string;
  /** Also give the paper's recipe for the data set. */
  paper?: boolean;
}

export interface OfficialCommand {
  /** The translation of our settings: `python train.py --a=b …`. */
  command: string;
  /** What the translation changes or needs (whole kimg, the model it loads, the stage-1 snapshot). */
  notes: string[];
  /** Our settings the official code does not honour. */
  unmatched: string[];
  /** With `paper`: the paper's recipe, or why there is none. */
  paper?: { label: string; command?: string };
}

const render = (flags: [string, string | number][]) =>
  `python train.py ${flags.map(([k, v]) => `--${k}=${v}`).join(' ')}`;

/**
 * The official total_kimg (whole, ≥ 1: train.py:20) for our iterations × batch, and what it changes: the
 * official loop stops at the first iteration with cur_nimg ≥ total_kimg·1000 (training_loop.py:305), and
 * for ms_coco each iteration accumulates 128 // batch rounds of the batch (training_loop.py:227).
 */
export function officialKimg(
  iterations: number,
  batch: number,
  dataset: OfficialDataset = 'cifar10',
): { kimg: number; iterations: number; perIteration: number; note?: string } {
  const n = iterations * batch;
  const kimg = Math.max(1, Math.ceil(n / 1000));
  const rounds = dataset === 'ms_coco' ? Math.floor(128 / batch) : 1;
  const per = batch * rounds;
  const official = per > 0 ? Math.ceil((kimg * 1000) / per) : Number.POSITIVE_INFINITY;
  if (kimg * 1000 === n && official === iterations) return { kimg, iterations: official, perIteration: per };
  let note = `${iterations} iterations × batch ${batch} = ${n / 1000} kimg`;
  if (kimg * 1000 !== n) note = `total_kimg is a whole number ≥ 1 (train.py:20), so ${note} → ${kimg} kimg`;
  if (per === 0) return { kimg, iterations: official, perIteration: per, note };
  note += ` = ${official} iterations`;
  if (rounds > 1)
    note += ` of ${rounds} × ${batch} = ${per} trajectories (ms_coco accumulates 128 // batch rounds per iteration, training_loop.py:227)`;
  const d = official - iterations;
  note += d > 0 ? `, ${d} more` : d < 0 ? `, ${-d} fewer` : ', as many';
  return { kimg, iterations: official, perIteration: per, note };
}

/** The dataset name, checked against train.py's choices (one-line RangeError listing them). */
export function officialDataset(name: string | undefined): OfficialDataset {
  const d = name ?? 'cifar10';
  if (!(OFFICIAL_DATASETS as readonly string[]).includes(d))
    throw new RangeError(`--dataset must be one of ${OFFICIAL_DATASETS.join(', ')}, got '${d}'`);
  return d as OfficialDataset;
}

/**
 * The paper's recipe for a data set: the official repo gives CIFAR-10's only (sfd-main/launch.sh:8-24,
 * README.md:31-43); for the others it is not in the repository, and we print none rather than guess.
 */
function paperRecipe(
  dataset: OfficialDataset,
  kind: 'sfd' | 'sfd-v' | 'stage2',
  nfe: number,
): { label: string; command?: string } {
  if (dataset !== 'cifar10') {
    const edm = EDM_DATASETS.includes(dataset)
      ? '; launch.sh:5 says its 2-NFE CIFAR-10 command also serves this EDM model, but gives no settings for it'
      : '';
    return {
      label: `paper recipe for ${dataset}: not in the official repository (launch.sh and README.md give CIFAR-10's only${edm}), so none is printed`,
    };
  }
  if (kind === 'stage2')
    return {
      label:
        'paper recipe, CIFAR-10 stage 2 (1 NFE; sfd-main/launch.sh:21-24, its teacher a stage-1 SFD with num_steps=7 or an SFD-v model):',
      command: render([
        ['model_path', STAGE1_SNAPSHOT],
        ['dataset_name', 'cifar10'],
        ['total_kimg', 2000],
        ['batch', 128],
        ['lr', '5e-4'],
        ['num_steps', 3],
        ['M', 2],
        ['afs', 'True'],
        ['sampler_tea', 'euler'],
        ['is_second_stage', 'True'],
      ]),
    };
  // launch.sh gives SFD for NFE 2 (num_steps=4 with AFS); another NFE changes num_steps only
  const numSteps = kind === 'sfd-v' ? 4 : studentTimestamps(nfe, true);
  const where =
    kind === 'sfd-v'
      ? 'SFD-v, NFE 2–5; sfd-main/launch.sh:14-17'
      : `SFD, NFE ${nfe}; sfd-main/launch.sh:8-11${nfe === 2 ? '' : `, given there for NFE 2 (num_steps=4): num_steps=${numSteps} here`}`;
  return {
    label: `paper recipe, CIFAR-10 ${where}:`,
    command: render([
      ['dataset_name', 'cifar10'],
      ['total_kimg', kind === 'sfd-v' ? 800 : 200],
      ['batch', 128],
      ['lr', '5e-5'],
      ['num_steps', numSteps],
      ['M', 3],
      ['afs', 'True'],
      ['sampler_tea', 'dpmpp'],
      ['max_order', 3],
      ['predict_x0', 'True'],
      ['lower_order_final', 'True'],
      ['schedule_type', 'polynomial'],
      ['schedule_rho', 7],
      ['use_step_condition', kind === 'sfd-v' ? 'True' : 'False'],
      ['is_second_stage', 'False'],
    ]),
  };
}

/**
 * The equivalent command line of the official `sfd-main/train.py` (for scaling up with the official PyTorch
 * code on GPUs), what the translation changes, and the settings of ours the official code does not honour.
 */
export function officialCommand(cfg: SfdConfig, opts: OfficialCommandOptions = {}): OfficialCommand {
  const dataset = officialDataset(opts.dataset);
  const stage2 = opts.stage === 2;
  const notes: string[] = [];
  const unmatched: string[] = [];
  const nfe = cfg.nfes[0];
  const variable = cfg.nfes.length > 1;
  if (cfg.schedule.kind === 'explicit')
    throw new RangeError(
      `the official sfd-main has no explicit (${cfg.schedule.method}) schedule: its grids are polynomial, logsnr or time_uniform (--schedule_type)`,
    );
  const schedule = cfg.schedule;
  const ours = solverByName(cfg.teacherSolver).name;
  const solver = OFFICIAL_SOLVER[ours];
  if (!solver)
    throw new RangeError(
      `the official sfd-main has no ${ours} teacher (--sampler_tea: ${[...new Set(Object.values(OFFICIAL_SOLVER).map((s) => s.name))].join(', ')}); choose one of ${Object.keys(OFFICIAL_SOLVER).join(', ')} for --teacher-solver`,
    );
  const kimg = officialKimg(cfg.iterations, cfg.batch, dataset);
  const flags: [string, string | number][] = [
    ['dataset_name', dataset],
    ['total_kimg', kimg.kimg],
    ['batch', cfg.batch],
    ['lr', cfg.lr.lr],
    ['num_steps', studentTimestamps(nfe, cfg.afs)],
    ['M', cfg.k - 1],
    ['sampler_tea', solver.name],
    ...(solver.maxOrder ? [['max_order', solver.maxOrder] as [string, number]] : []),
    ['schedule_type', schedule.kind === 'time-uniform' ? 'time_uniform' : schedule.kind],
    ['schedule_rho', schedule.rho],
    ['afs', cfg.afs ? 'True' : 'False'],
    ['seed', cfg.seed],
  ];
  const guidance = GUIDANCE[dataset];
  if (guidance) flags.push(['guidance_type', guidance.type]);
  if (variable || cfg.condition !== 'none') flags.push(['use_step_condition', 'True']);
  if (stage2) flags.push(['is_second_stage', 'True'], ['model_path', STAGE1_SNAPSHOT]);

  if (kimg.note) notes.push(kimg.note);
  if (stage2)
    notes.push(
      `--model_path=${STAGE1_SNAPSHOT} is a placeholder: it must be the official stage-1 run's network-snapshot-*.pkl (training_loop.py:50-51, 340), trained with --dataset_name=${dataset}; ours${opts.stage1Dir ? ` at ${opts.stage1Dir}` : ''} is a tfjs model the official code cannot load`,
    );
  else
    notes.push(
      `--dataset_name=${dataset} loads ${PRETRAINED[dataset]} as the teacher, not our MNIST teacher`,
    );
  if (guidance)
    notes.push(`--guidance_type=${guidance.type}: the ${dataset} teacher requires it (${guidance.where})`);
  if (cfg.condition !== 'none' && !stage2)
    notes.push(
      'with --use_step_condition=True stage 1 ignores --num_steps and --M: each iteration draws num_steps from 4…7 (NFE 2…5 with AFS, 3…6 without) and sets M = 3 (training_loop.py:239-241)',
    );

  if (cfg.condition !== 'none' && !stage2) {
    // the official set is num_steps 4…7, M = 3; compare ours by timestamps N = num_steps
    const ns = cfg.nfes.map((n) => studentTimestamps(n, cfg.afs));
    const same = ns.length === SFDV_NUM_STEPS.length && SFDV_NUM_STEPS.every((n) => ns.includes(n));
    const offNfes = SFDV_NUM_STEPS.map((n) => n - (cfg.afs ? 2 : 1)).join(', ');
    if (!variable)
      unmatched.push(
        `a step-conditioned student for NFE ${nfe} alone (official --use_step_condition draws NFE ${offNfes} every iteration)`,
      );
    else if (!same)
      unmatched.push(
        cfg.afs
          ? `NFE list ${cfg.nfes.join(',')} (the official loop always draws num_steps 4…7: NFE ${offNfes} with AFS)`
          : `NFE list ${cfg.nfes.join(',')} without AFS (the official loop draws num_steps 4…7 whatever --afs says: NFE ${offNfes} without AFS)`,
      );
    if (cfg.k !== 4)
      unmatched.push(
        `K = ${cfg.k} with a step-conditioned student (the official loop sets M = 3, K = 4, for every drawn num_steps)`,
      );
  }
  if (cfg.condition === 'tnext') unmatched.push('tnext-cond (the official code conditions on N only)');
  if (kimg.perIteration === 0)
    unmatched.push(
      `batch ${cfg.batch} with ms_coco (the official loop runs 128 // batch = 0 rounds per iteration: batch must be ≤ 128; training_loop.py:227)`,
    );
  const officialLoss = stage2 && EDM_DATASETS.includes(dataset) ? 'l1+lpips' : 'l1';
  if (cfg.loss !== officialLoss)
    unmatched.push(
      `loss ${cfg.loss} (official for ${dataset}: ${officialLoss === 'l1' ? 'L1' : 'L1 + LPIPS on the last step'} in stage ${stage2 ? 2 : 1}; loss.py:86-88)`,
    );
  if (!cfg.teacherThreshold && solver.name === 'dpmpp')
    unmatched.push('no dynamic thresholding (the official DPM-Solver++ always thresholds)');
  if (cfg.lr.drops.length !== 1 || cfg.lr.drops[0].atFraction !== 0.5 || cfg.lr.drops[0].factor !== 0.1)
    unmatched.push('learning-rate schedule (official: ×0.1 at half of training, training_loop.py:299-301)');
  if (cfg.onlySteps) unmatched.push(`only-steps ${cfg.onlySteps.join(',')} (no official counterpart)`);
  if (!EDM_DATASETS.includes(dataset))
    unmatched.push(
      `t range ${cfg.schedule.tMin}…${cfg.schedule.tMax} (official for ${dataset}: the latent model's own, σ_min ${dataset === 'ms_coco' ? 0.1 : 0.006}; training_loop.py:93-105)`,
    );
  else if (cfg.schedule.tMin !== 0.006 || cfg.schedule.tMax !== 80)
    unmatched.push(
      `t range ${cfg.schedule.tMin}…${cfg.schedule.tMax} (official: 0.006…80 for EDM models, training_loop.py:82-83)`,
    );
  unmatched.push(
    'the MNIST teacher and its LPIPS-style feature network (official: EDM/LDM/SD models, VGG LPIPS)',
  );
  const out: OfficialCommand = { command: render(flags), notes, unmatched };
  if (opts.paper) out.paper = paperRecipe(dataset, stage2 ? 'stage2' : variable ? 'sfd-v' : 'sfd', nfe);
  return out;
}

/** The lines `sfd distill --official-command` prints: the command, its notes, the unhonoured, the recipe. */
export function officialCommandLines(o: OfficialCommand): string[] {
  return [
    o.command,
    ...o.notes.map((n) => `# ${n}`),
    ...o.unmatched.map((u) => `# no official counterpart: ${u}`),
    ...(o.paper ? [`# ${o.paper.label}`, ...(o.paper.command ? [o.paper.command] : [])] : []),
  ];
}
