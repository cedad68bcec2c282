import { parseArgs } from 'node:util';

/**
 * The one set of command-line value parsers every `sfd` command uses: each returns the default when the
 * flag is absent and throws a one-line RangeError naming the flag and the bad value otherwise.
 */

export function numArg(v: string | undefined, name: string, dflt: number): number {
  if (v === undefined) return dflt;
  const x = Number(v);
  if (v.trim() === '' || !Number.isFinite(x)) throw new RangeError(`--${name} must be a number, got '${v}'`);
  return x;
}

export function positiveArg(v: string | undefined, name: string, dflt: number): number {
  const x = numArg(v, name, dflt);
  if (!(x > 0)) throw new RangeError(`--${name} must be > 0, got '${v}'`);
  return x;
}

export function intArg(v: string | undefined, name: string, dflt: number, min = 0): number {
  if (v === undefined) return dflt;
  const x = Number(v);
  const what =
    min === 0 ? 'a non-negative integer' : min === 1 ? 'a positive integer' : `an integer ≥ ${min}`;
  if (v.trim() === '' || !Number.isInteger(x) || x < min)
    throw new RangeError(`--${name} must be ${what}, got '${v}'`);
  return x;
}

export function seedArg(v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  const s = Number(v);
  if (v.trim() === '' || !Number.isInteger(s) || s < 0 || s >= 2 ** 32)
    throw new RangeError(`--seed must be an integer in [0, 2^32), got '${v}'`);
  return s;
}

/** A comma-separated list of integers (`--channels 16,32,64`, `--variable 2,3,4,5`). */
export function intListArg(v: string | undefined, name: string, dflt: number[], min = 0): number[] {
  if (v === undefined) return dflt;
  const parts = v.split(',');
  if (parts.length === 0 || parts.some((p) => p.trim() === ''))
    throw new RangeError(`--${name} must be a comma-separated list of integers, got '${v}'`);
  return parts.map((p) => intArg(p, name, 0, min));
}

/** One of a fixed set of names. */
export function choiceArg<T extends string>(
  v: string | undefined,
  name: string,
  choices: readonly T[],
  dflt: T,
): T {
  if (v === undefined) return dflt;
  if (!choices.includes(v as T))
    throw new RangeError(`--${name} must be one of ${choices.join(', ')}, got '${v}'`);
  return v as T;
}

type OptionSpec = { type: 'string' | 'boolean'; short?: string };

/**
 * `parseArgs` with the conventions of every `sfd` command: a negative number after a string flag is its
 * value (`--nfe -1` reaches the range check instead of Node's "argument is ambiguous"), and a parse error
 * is one line naming the flag.
 */
export function parseCommandArgs<O extends Record<string, OptionSpec>>(args: string[], options: O) {
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const name = a.startsWith('--') && !a.includes('=') ? a.slice(2) : undefined;
    const next = args[i + 1];
    if (name && options[name]?.type === 'string' && next !== undefined && /^-(\d|\.\d|Infinity)/.test(next)) {
      joined.push(`${a}=${next}`);
      i++;
    } else joined.push(a);
  }
  try {
    return parseArgs({ args: joined, strict: true, allowPositionals: false, options });
  } catch (e) {
    // Node's messages run over several lines ("… To specify an option argument starting with a dash …")
    const msg = (e as Error).message.split('\n')[0].replace(/\. To specify.*$/, '');
    throw new RangeError(msg);
  }
}

/**
 * The flags every `sfd distill --method M` run takes (its teacher and folder, optimiser basics, checkpoints,
 * FID curves, resume); `method` is accepted by each so that `sfd distill` can pass its arguments through whole.
 */
export const DISTILL_RUN_OPTIONS = {
  method: { type: 'string' },
  teacher: { type: 'string' },
  out: { type: 'string' },
  lr: { type: 'string' },
  batch: { type: 'string' },
  seed: { type: 'string' },
  'checkpoint-every': { type: 'string' },
  'eval-every': { type: 'string' },
  'eval-n': { type: 'string' },
  'eval-seed': { type: 'string' },
  resume: { type: 'boolean' },
  unchecked: { type: 'boolean' },
} as const;
