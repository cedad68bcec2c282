import { edmPrecond } from '../diffusion/precond';
import { createUNet, isStepConditionWeight, type UNet, unetRawNet } from '../models/unet';
import { assignWeights } from '../models/weightsIO';
import type { StepCondition } from './config';
import type { Student } from './studentStep';

export interface ImageStudent extends Student {
  unet: UNet;
  dispose(): void;
}

/**
 * The student as an exact copy of its teacher: the teacher's UNet, plus (SFD-v) the step-condition path,
 * whose zero-initialised projections keep it equal to the teacher at the start. (A documented deviation:
 * the official code initialises those layers at random, so its SFD-v student starts off the teacher.)
 */
export function studentFromTeacher(teacher: UNet, condition: StepCondition): ImageStudent {
  const unet = createUNet({ ...teacher.config, stepCondition: condition !== 'none' }, 0);
  assignWeights(unet.weights, teacher.weights, 'student from teacher', isStepConditionWeight);
  return {
    unet,
    weights: unet.weights,
    denoise: edmPrecond(unetRawNet(unet)),
    dispose: () => unet.dispose(),
  };
}
