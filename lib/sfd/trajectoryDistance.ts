import * as tf from '@tensorflow/tfjs';
import type { Denoiser } from '../diffusion/denoiser';
import type { SfdConfig } from './config';
import { iterationNoise } from './iteration';
import { planIteration } from './plan';
import { rollout } from './rollout';
import { studentSteps } from './studentSteps';
import { teacherRunOf, teacherTargets } from './targets';

export interface TrajectoryDistance {
  /** The student's timestamps t_1 … t_{N−1} (t_0 = t_max is shared noise). */
  ts: number[];
  /** Mean over samples of ‖x_student(t_j) − x_teacher(t_j)‖₂ at each of them. */
  l2: number[];
}

/**
 * How far a student's Euler trajectory (its own grid, AFS, condition) lies from its teacher's at every
 * student timestamp, on fixed held-out noise (`iteration` indexes the noise as in training; pick one that
 * training never reaches). The measurement behind the timestamp-transfer experiment (paper Fig. 2).
 */
export async function trajectoryDistance(
  teacher: Denoiser,
  student: Denoiser,
  cfg: SfdConfig,
  shape: number[],
  iteration = 1_000_000,
): Promise<TrajectoryDistance> {
  const plan = planIteration({ ...cfg, nfes: [cfg.nfes[0]] }, iteration);
  const xT = iterationNoise(cfg, iteration, shape);
  const targets = teacherTargets(teacher, xT, plan.grid, teacherRunOf(cfg));
  const ts = plan.grid.studentTs;
  const dists: tf.Scalar[] = [];
  try {
    // measured, not trained: every network step only moves forward
    const xEnd = await rollout(student, xT, studentSteps(ts, cfg.afs, cfg.condition), {
      onStep: (step, { x }) => {
        dists.push(
          tf.tidy(() => x.sub(targets[step.j]).reshape([cfg.batch, -1]).square().sum(1).sqrt().mean()),
        );
      },
    });
    xEnd.dispose();
  } finally {
    tf.dispose([xT, ...targets]);
  }
  // one read back at the end (on a GPU each read is a round trip)
  const stacked = tf.stack(dists);
  const l2 = Array.from(await stacked.data());
  tf.dispose([stacked, ...dists]);
  return { ts: ts.slice(1), l2 };
}
