import type * as tf from '@tensorflow/tfjs';
import type { Denoiser } from '../diffusion/denoiser';
import type { ImageSampling } from '../diffusion/sampleImages';
import type { SamplingSchedule } from '../diffusion/schedules';
import { timeGrid } from '../diffusion/schedules';
import { conditionedDenoiser } from './conditioned';
import { type StepCondition, studentTimestamps } from './config';
import { type RolloutHooks, rollout } from './rollout';
import { type StudentStep, studentSteps } from './studentSteps';

/** How a student samples, as its card stores it: Euler on its own grid, its AFS, its condition. */
export interface StudentSampling {
  nfes: number[];
  afs: boolean;
  schedule: SamplingSchedule;
  condition: StepCondition;
}

export interface StudentSampler {
  /** The student as a plain denoiser on its grid (each step's condition filled in), for any solver. */
  denoise: Denoiser;
  /** The same sampler as data, for `sampleImages`: Euler on the N-point grid with the student's AFS. */
  sampling: ImageSampling;
  nfe: number;
  /** The student's steps on its grid, as in training (none trains). */
  steps: StudentStep[];
  /** The student's own walk from x_T (at t_max) to its sample; the caller owns the result. */
  walk(xT: tf.Tensor, onStep?: RolloutHooks['onStep']): Promise<tf.Tensor>;
}

/**
 * The sampler a student was trained for, at one of its NFEs: Euler on the N-point grid, AFS as in
 * training, and the condition of each step. Any other NFE is refused (an SFD-v student was trained for
 * a list; a plain SFD student for one).
 */
export function studentSampler(denoise: Denoiser, s: StudentSampling, nfe?: number): StudentSampler {
  const chosen = nfe ?? s.nfes[s.nfes.length - 1];
  if (!s.nfes.includes(chosen))
    throw new RangeError(`this student was trained for NFE ${s.nfes.join(', ')}, not ${chosen}`);
  const ts = timeGrid(studentTimestamps(chosen, s.afs), s.schedule);
  const steps = studentSteps(ts, s.afs, s.condition);
  return {
    denoise: conditionedDenoiser(denoise, s.condition, ts),
    sampling: { solver: 'euler', nfe: chosen, afs: s.afs, schedule: s.schedule },
    nfe: chosen,
    steps,
    walk: (xT, onStep) => rollout(denoise, xT, steps, { onStep }),
  };
}
