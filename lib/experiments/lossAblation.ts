import { scale } from '../runtime/profile';
import { type SfdConfig, sfdDefaults, stage2Defaults } from '../sfd/config';
import { runVariants, type Variant, type VariantResult } from './variants';

export interface LossAblationConfig {
  teacher: string;
  iterations: number;
  /** Iterations of the 5-NFE stage-1 student that stage 2 distils. */
  stage1Iterations: number;
  batch: number;
  evalEvery: number;
  evalN: number;
}

export const lossAblationDefaults: LossAblationConfig = {
  teacher: 'mnist',
  iterations: scale(300, 2),
  stage1Iterations: scale(300, 2),
  batch: scale(16, 2),
  evalEvery: scale(50, 2),
  evalN: scale(500, 20),
};

/**
 * The paper's 1-NFE figure: L1 against L1 + LPIPS, single-stage (1-NFE SFD distilled from the teacher)
 * against two-stage (from a 5-NFE SFD student), FID against iterations; L2 and LPIPS alone as the
 * paper's other loss variants (single-stage).
 */
export function lossAblationVariants(c: LossAblationConfig = lossAblationDefaults): Variant[] {
  const base = { ...sfdDefaults, iterations: c.iterations, batch: c.batch };
  const one = (loss: SfdConfig['loss']): SfdConfig => ({ ...base, nfes: [1], loss });
  const stage2 = (loss: SfdConfig['loss']): SfdConfig => ({ ...base, ...stage2Defaults, loss });
  return [
    { name: 'single-stage, L1', cfg: one('l1') },
    { name: 'single-stage, L1 + LPIPS', cfg: one('l1+lpips') },
    { name: 'single-stage, L2', cfg: one('l2') },
    { name: 'single-stage, LPIPS', cfg: one('lpips') },
    { name: 'stage 1: SFD NFE 5', cfg: { ...base, nfes: [5], iterations: c.stage1Iterations } },
    { name: 'two-stage, L1', cfg: stage2('l1'), stage: 2, from: 'stage 1: SFD NFE 5' },
    { name: 'two-stage, L1 + LPIPS', cfg: stage2('l1+lpips'), stage: 2, from: 'stage 1: SFD NFE 5' },
  ];
}

export async function lossAblation(overrides: Partial<LossAblationConfig> = {}): Promise<VariantResult[]> {
  const c = { ...lossAblationDefaults, ...overrides };
  return runVariants(lossAblationVariants(c), { teacher: c.teacher, evalEvery: c.evalEvery, evalN: c.evalN });
}
