/** FAST=1 selects the small profile that tests and CI run; everything else is the full profile. */
export const FAST = ['1', 'true', 'yes'].includes((process.env.FAST ?? '').toLowerCase());

/** `full` normally, `fast` under FAST=1. */
export function scale<T>(full: T, fast: T): T {
  return FAST ? fast : full;
}
