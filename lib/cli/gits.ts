import { GITS_METRICS, type GitsMetric } from '../diffusion/gits';
import { writeScheduleFile } from '../diffusion/scheduleFile';
import { SOLVER_NAMES } from '../diffusion/solvers/registry';
import { gitsConfigDefaults, makeGitsSchedule } from '../experiments/gitsSearch';
import { TOY_MIXTURES } from '../models/toys';
import { describeBackend, initBackend } from '../runtime/backend';
import { ensureWritableFile } from '../util/outputs';
import { progressBar } from '../util/progress';
import { choiceArg, intArg, parseCommandArgs, positiveArg, seedArg } from './args';

const d = gitsConfigDefaults;

export const GITS_HELP = `  sfd gits --teacher NAME|DIR --nfe N [options] --out FILE.json
                                   GITS time schedule: a DP over one fine teacher trajectory per warm-up
                                   sample picks the solver's σ grid; use it with sfd sample|eval --schedule FILE
    --teacher NAME   ${Object.keys(TOY_MIXTURES).join(' | ')} | mnist | DIR
    --solver NAME    the sampler, whose steps at --nfe fix the grid's size (default ${d.solver}; any
                     solver with as many steps can use the file): ${SOLVER_NAMES.join(' | ')}
    --nfe N          denoiser evaluations of the sampler; --afs: with AFS (the search then picks its point)
    --warmup N       warm-up samples (default ${d.warmup}); --seed S their noise seed (default ${d.seed}, so that
                     sampling's default seed 0 is then held-out noise)
    --metric M       ${GITS_METRICS.join(' | ')} (default ${d.metric}); --coeff C DP weight (default ${d.coeff})
    --teacher-points N   fine teacher grid (default ${d.teacherPoints}); --teacher-solver S (default ${d.teacherSolver})
    --rho R, --t-min T, --t-max T   teacher grid (polynomial, default ρ ${d.rho}; the teacher's sampling range)
    --unchecked      load a hand-made model directory whose card has no sha256 (with a warning)`;

export async function gitsCommand(args: string[]): Promise<void> {
  const { values: v } = parseCommandArgs(args, {
    teacher: { type: 'string' },
    solver: { type: 'string' },
    nfe: { type: 'string' },
    afs: { type: 'boolean' },
    warmup: { type: 'string' },
    seed: { type: 'string' },
    metric: { type: 'string' },
    coeff: { type: 'string' },
    'teacher-points': { type: 'string' },
    'teacher-solver': { type: 'string' },
    rho: { type: 'string' },
    't-min': { type: 'string' },
    't-max': { type: 'string' },
    out: { type: 'string' },
    unchecked: { type: 'boolean' },
  });
  if (!v.teacher) throw new RangeError('sfd gits needs --teacher NAME|DIR');
  if (v.nfe === undefined)
    throw new RangeError("sfd gits needs --nfe N (the sampler's NFE fixes the step count)");
  if (!v.out?.endsWith('.json')) throw new RangeError('sfd gits needs --out FILE.json');
  ensureWritableFile(v.out);
  const cfg = {
    teacher: v.teacher,
    solver: v.solver ?? d.solver,
    nfe: intArg(v.nfe, 'nfe', 0, 1),
    afs: v.afs ?? d.afs,
    warmup: intArg(v.warmup, 'warmup', d.warmup, 1),
    seed: seedArg(v.seed, d.seed),
    metric: choiceArg<GitsMetric>(v.metric, 'metric', GITS_METRICS, d.metric),
    coeff: positiveArg(v.coeff, 'coeff', d.coeff),
    teacherPoints: intArg(v['teacher-points'], 'teacher-points', d.teacherPoints, 2),
    teacherSolver: v['teacher-solver'] ?? d.teacherSolver,
    rho: positiveArg(v.rho, 'rho', d.rho),
    tMin: v['t-min'] === undefined ? undefined : positiveArg(v['t-min'], 't-min', 0),
    tMax: v['t-max'] === undefined ? undefined : positiveArg(v['t-max'], 't-max', 0),
    unchecked: v.unchecked,
  };
  const b = await initBackend();
  console.error(describeBackend(b));
  const bar = progressBar(`GITS warm-up (${cfg.warmup} teacher trajectories)`, 1);
  const t0 = performance.now();
  const f = makeGitsSchedule({
    ...cfg,
    onProgress: (done, total) => bar(done, total, (performance.now() - t0) / 1000),
  });
  writeScheduleFile(v.out, f);
  console.log(
    `gits ${f.settings.solver} nfe=${cfg.nfe}${cfg.afs ? ' (AFS)' : ''}: σ ${f.sigmas.map((s) => s.toPrecision(4)).join(', ')}; warm-up ${f.warmupTeacherCalls} teacher evaluations in ${f.warmupSeconds} s → ${v.out}`,
  );
}
