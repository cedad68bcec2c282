import { scale } from '../runtime/profile';
import { sfdDefaults } from '../sfd/config';
import { runVariants, type VariantResult } from './variants';

export interface ConditioningConfig {
  teacher: string;
  nfes: number[];
  iterations: number;
  batch: number;
  evalEvery: number;
  evalN: number;
}

export const conditioningDefaults: ConditioningConfig = {
  teacher: 'mnist',
  nfes: [2, 3, 4, 5],
  iterations: scale(400, 4),
  batch: scale(16, 2),
  evalEvery: scale(100, 2),
  evalN: scale(500, 20),
};

/**
 * The paper's conditioning figure: one SFD-v student for NFE 2–5 conditioned on N (step-cond, the official
 * choice) against one conditioned on the next timestamp (tnext-cond), FID against iterations at each NFE.
 */
export async function conditioning(overrides: Partial<ConditioningConfig> = {}): Promise<VariantResult[]> {
  const c = { ...conditioningDefaults, ...overrides };
  const base = { ...sfdDefaults, nfes: c.nfes, iterations: c.iterations, batch: c.batch };
  return runVariants(
    [
      { name: 'step-cond', cfg: { ...base, condition: 'step' } },
      { name: 'tnext-cond', cfg: { ...base, condition: 'tnext' } },
    ],
    { teacher: c.teacher, evalEvery: c.evalEvery, evalN: c.evalN },
  );
}
