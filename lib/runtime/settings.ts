import { join } from 'node:path';
import { repoRoot } from './paths';

/**
 * The project's environment variables, read here at the edge and handed to `lib` as options (lib's
 * functions take them as arguments and read no environment themselves). FAST lives in profile.ts,
 * SFD_BACKEND in backend.ts.
 */
export interface EnvSettings {
  /** The teacher-trajectory cache: SFD_CACHE_DIR (default .cache/sfd-targets), SFD_CACHE_MAX_MB (4096). */
  cache: { dir: string; maxBytes: number };
  /** SFD_RETRAIN=1: notebooks retrain students instead of reusing the cached ones. */
  retrain: boolean;
}

export function envSettings(env: NodeJS.ProcessEnv = process.env): EnvSettings {
  const mb = env.SFD_CACHE_MAX_MB === undefined ? 4096 : Number(env.SFD_CACHE_MAX_MB);
  if (!(mb >= 0))
    throw new RangeError(`SFD_CACHE_MAX_MB must be a number of MiB ≥ 0, got '${env.SFD_CACHE_MAX_MB}'`);
  return {
    cache: { dir: env.SFD_CACHE_DIR || join(repoRoot(), '.cache', 'sfd-targets'), maxBytes: mb * 2 ** 20 },
    retrain: ['1', 'true'].includes((env.SFD_RETRAIN ?? '').toLowerCase()),
  };
}
