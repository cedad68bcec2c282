/** The first setting (dotted path) whose value differs between two plain configurations, or null. */
export function firstDifference(
  was: unknown,
  now: unknown,
  path = '',
): { setting: string; was: unknown; now: unknown } | null {
  const isObj = (v: unknown) => v !== null && typeof v === 'object';
  if (isObj(was) && isObj(now) && Array.isArray(was) === Array.isArray(now) && !Array.isArray(was)) {
    const a = was as Record<string, unknown>;
    const b = now as Record<string, unknown>;
    for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
      const d = firstDifference(a[k], b[k], path ? `${path}.${k}` : k);
      if (d) return d;
    }
    return null;
  }
  return JSON.stringify(was) === JSON.stringify(now) ? null : { setting: path, was, now };
}

/** `x` as it reads in a message: JSON, with `absent` for undefined. */
export function showValue(x: unknown): string {
  return x === undefined ? 'absent' : JSON.stringify(x);
}
