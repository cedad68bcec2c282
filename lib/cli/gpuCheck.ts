import { resolve } from 'node:path';
import { gpuCheck } from '../bench/gpuCheck';
import { ensureWritableDir } from '../util/outputs';
import { parseCommandArgs } from './args';

export const GPU_CHECK_HELP = `  sfd gpu-check --out DIR [--tiny]  on WebGPU: the adapter, numerics against cpu, the benchmark and an SFD
                                   NFE-2 distillation with FID (JSON lines in DIR; what npm run gpu-bundle runs)`;

export async function gpuCheckCommand(args: string[]): Promise<number> {
  const { values } = parseCommandArgs(args, { out: { type: 'string' }, tiny: { type: 'boolean' } });
  if (!values.out) throw new RangeError('gpu-check needs --out DIR');
  ensureWritableDir(values.out);
  const ok = await gpuCheck({ out: resolve(values.out), tiny: !!values.tiny }, (s) => console.log(s));
  if (!ok) console.error('gpu-check: a numerics check is outside its tolerance (see the numerics lines)');
  return ok ? 0 : 1;
}

/** The GPU bundle's entry point (scripts/gpu-bundle.js bundles this file alone). */
export function gpuCheckMain(): void {
  gpuCheckCommand(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      console.error(`gpu-check: ${e instanceof Error ? e.message : String(e)}`);
      process.exitCode = 1;
    },
  );
}
