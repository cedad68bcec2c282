import type * as tf from '@tensorflow/tfjs';
import { withAfs } from '../diffusion/afs';
import type { Denoiser } from '../diffusion/denoiser';
import type { TeacherGrid } from '../diffusion/schedules';
import { solverByName } from '../diffusion/solvers/registry';
import type { SfdConfig } from './config';

export interface TeacherRun {
  /** The teacher solver's name (registry). */
  solver: string;
  threshold: boolean;
  /** AFS on the teacher's first step (stage 2 only, when its stage-1 teacher was trained with it). */
  afs: boolean;
}

/** How a config runs its teacher. */
export function teacherRunOf(cfg: SfdConfig): TeacherRun {
  return { solver: cfg.teacherSolver, threshold: cfg.teacherThreshold, afs: cfg.teacherAfs };
}

/**
 * The teacher's states at the student's timestamps 1…N−1 (official get_teacher_traj): one continuous
 * solve over the K·(N−1)+1-point grid from the shared noise `xT` (at t_max), multistep history carried
 * across student intervals, only the N−1 sliced states kept. `keep: 'all'` keeps every state of the
 * teacher grid instead, x_T included (the trajectory figure). The caller owns the returned tensors.
 */
export function teacherTargets(
  teacher: Denoiser,
  xT: tf.Tensor,
  grid: TeacherGrid,
  run: TeacherRun,
  keep: 'targets' | 'all' = 'targets',
): tf.Tensor[] {
  const entry = solverByName(run.solver);
  const d = run.afs ? withAfs(teacher, grid.ts[0]) : teacher;
  const r = entry.solve(d, xT, grid.ts, {
    keep: keep === 'all' ? 'all' : grid.studentIndices.slice(1),
    threshold: run.threshold,
  });
  r.x.dispose();
  return r.trajectory;
}
