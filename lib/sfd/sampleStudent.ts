import type { Denoiser } from '../diffusion/denoiser';
import type { ImageSampling } from '../diffusion/sampleImages';
import type { ScheduleConfig } from '../diffusion/schedules';
import { timeGrid } from '../diffusion/schedules';
import { conditionedDenoiser } from './conditioned';
import { type StepCondition, studentTimestamps } from './config';

/** How a student samples, as its card stores it: Euler on its own grid, its AFS, its condition. */
export interface StudentSampling {
  nfes: number[];
  afs: boolean;
  schedule: ScheduleConfig;
  condition: StepCondition;
}

/**
 * The sampler a student was trained for, at one of its NFEs: Euler on the N-point grid, AFS as in
 * training, and the condition of each step. Any other NFE is refused (an SFD-v student was trained for
 * a list; a plain SFD student for one).
 */
export function studentSampler(
  denoise: Denoiser,
  s: StudentSampling,
  nfe?: number,
): { denoise: Denoiser; sampling: ImageSampling; nfe: number } {
  const chosen = nfe ?? s.nfes[s.nfes.length - 1];
  if (!s.nfes.includes(chosen))
    throw new RangeError(`this student was trained for NFE ${s.nfes.join(', ')}, not ${chosen}`);
  const ts = timeGrid(studentTimestamps(chosen, s.afs), s.schedule);
  return {
    denoise: conditionedDenoiser(denoise, s.condition, ts),
    sampling: { solver: 'euler', nfe: chosen, afs: s.afs, schedule: s.schedule },
    nfe: chosen,
  };
}
