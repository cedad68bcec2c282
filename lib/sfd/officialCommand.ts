import { solverByName } from '../diffusion/solvers/registry';
import { type SfdConfig, studentTimestamps } from './config';

/** The official teacher-solver names (sfd-main `--sampler_tea`) of ours that it has. */
const OFFICIAL_SOLVER: Record<string, { name: string; maxOrder?: number }> = {
  euler: { name: 'euler' },
  heun: { name: 'heun' },
  dpm2: { name: 'dpm' },
  ipndm: { name: 'ipndm', maxOrder: 4 },
  'dpmpp-2m': { name: 'dpmpp', maxOrder: 2 },
  'dpmpp-3m': { name: 'dpmpp', maxOrder: 3 },
};

/**
 * The equivalent command line of the official `sfd-main/train.py` (for scaling up with the official PyTorch
 * code on GPUs), and the settings of ours it has no flag for. `dataset` names the official data set.
 */
export function officialCommand(
  cfg: SfdConfig,
  opts: { dataset?: string; stage?: 1 | 2; modelPath?: string } = {},
): { command: string; unmatched: string[] } {
  const unmatched: string[] = [];
  const nfe = cfg.nfes[0];
  const solver = OFFICIAL_SOLVER[solverByName(cfg.teacherSolver).name];
  const flags: string[] = [
    `--dataset_name=${opts.dataset ?? 'cifar10'}`,
    `--total_kimg=${(cfg.iterations * cfg.batch) / 1000}`,
    `--batch=${cfg.batch}`,
    `--lr=${cfg.lr.lr}`,
    `--num_steps=${studentTimestamps(nfe, cfg.afs)}`,
    `--M=${cfg.k - 1}`,
    `--sampler_tea=${solver.name}`,
    ...(solver.maxOrder ? [`--max_order=${solver.maxOrder}`] : []),
    `--schedule_type=${cfg.schedule.kind === 'time-uniform' ? 'time_uniform' : cfg.schedule.kind}`,
    `--schedule_rho=${cfg.schedule.rho}`,
    `--afs=${cfg.afs ? 'True' : 'False'}`,
    `--seed=${cfg.seed}`,
  ];
  if (cfg.nfes.length > 1 || cfg.condition !== 'none') flags.push('--use_step_condition=True');
  if (opts.stage === 2)
    flags.push('--is_second_stage=True', `--model_path=${opts.modelPath ?? 'STAGE1.pkl'}`);
  if (cfg.nfes.length > 1 && cfg.nfes.join() !== '2,3,4,5')
    unmatched.push(`NFE list ${cfg.nfes.join(',')} (the official loop always draws 2, 3, 4, 5)`);
  if (cfg.condition === 'tnext') unmatched.push('tnext-cond (the official code conditions on N only)');
  if (cfg.nfes.length === 1 && cfg.condition !== 'none' && opts.stage !== 2)
    unmatched.push(
      `a step-conditioned student for NFE ${nfe} alone (official --use_step_condition draws NFE 2, 3, 4, 5 every iteration)`,
    );
  if (cfg.loss !== 'l1' && !(opts.stage === 2 && cfg.loss === 'l1+lpips'))
    unmatched.push(`loss ${cfg.loss} (official: L1 in stage 1, L1 + LPIPS in stage 2)`);
  if (!cfg.teacherThreshold && solver.name === 'dpmpp')
    unmatched.push('no dynamic thresholding (the official DPM-Solver++ always thresholds)');
  if (cfg.lr.drops.length !== 1 || cfg.lr.drops[0].atFraction !== 0.5 || cfg.lr.drops[0].factor !== 0.1)
    unmatched.push('learning-rate schedule (official: ×0.1 at half of training)');
  if (cfg.onlySteps) unmatched.push(`only-steps ${cfg.onlySteps.join(',')} (no official counterpart)`);
  if (cfg.schedule.tMin !== 0.006 || cfg.schedule.tMax !== 80)
    unmatched.push(
      `t range ${cfg.schedule.tMin}…${cfg.schedule.tMax} (official: set by the data set, 0.006…80 for EDM models)`,
    );
  unmatched.push(
    'the MNIST teacher and its LPIPS-style feature network (official: EDM/LDM/SD models, VGG LPIPS)',
  );
  return { command: `python train.py ${flags.join(' ')}`, unmatched };
}
