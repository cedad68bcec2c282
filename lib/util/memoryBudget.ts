import { totalmem } from 'node:os';

/**
 * Up-front refusal of requests that cannot finish in this machine's memory: a request may use at most
 * half of it (the rest is the system's, the runtime's and the tensors' working room), and the refusal
 * says the estimate and the limit, so the user can scale the request down.
 */
export function memoryBudgetBytes(): number {
  return Math.floor(totalmem() / 2);
}

export function formatBytes(b: number): string {
  if (b >= 2 ** 30) return `${(b / 2 ** 30).toFixed(1)} GiB`;
  if (b >= 2 ** 20) return `${(b / 2 ** 20).toFixed(0)} MiB`;
  return `${Math.ceil(b / 2 ** 10)} KiB`;
}

/** Throws a one-line RangeError when `bytes` exceeds the budget. `what` names the request. */
export function checkMemory(what: string, bytes: number, advice: string): void {
  const limit = memoryBudgetBytes();
  if (bytes > limit)
    throw new RangeError(
      `${what} needs about ${formatBytes(bytes)} of memory, more than the ${formatBytes(limit)} allowed (half of this machine's ${formatBytes(totalmem())}); ${advice}`,
    );
}

/** V8's longest string (2^29 − 24 UTF-16 units): a JSON file written from one string cannot be longer. */
export const MAX_STRING_LENGTH = 2 ** 29 - 24;
