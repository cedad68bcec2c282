import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';

/** What the browser and Notebook tests share: where Chromium is, Debian's Python, a free loopback port. */

/** Chromium for puppeteer-core (CHROMIUM_PATH, or Debian's), or undefined where none is installed. */
export const CHROMIUM = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find(
  (p): p is string => !!p && existsSync(p),
);

/** Debian's Python, which runs Jupyter (the python3 on PATH may be another install). */
export const PYTHON = '/usr/bin/python3';

/** True where the classic Notebook (Debian's jupyter-notebook) is installed. */
export function hasNotebook(): boolean {
  try {
    execFileSync(PYTHON, ['-c', 'import notebook, nbformat'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** A free port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}
