import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const KERNELS = resolve('.jupyter/share/jupyter');

function notebook(cells: string[]): string {
  return JSON.stringify({
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { name: 'tslab', display_name: 'TypeScript', language: 'typescript' } },
    cells: cells.map((source, i) => ({
      cell_type: 'code',
      id: `c${i}`,
      metadata: {},
      execution_count: null,
      outputs: [],
      source,
    })),
  });
}

describe('headless notebook runner', function () {
  this.timeout(120_000);

  it('reports the failing cell with tslab’s stderr and closes with "0 passed, 1 failed"', function () {
    if (!existsSync(join(KERNELS, 'kernels/tslab/kernel.json'))) this.skip(); // kernel registered by npm run setup
    mkdirSync('.cache', { recursive: true });
    const dir = mkdtempSync(join(resolve('.cache'), 'nb-'));
    const path = join(dir, 'broken.ipynb');
    writeFileSync(path, notebook(['const ok = 1;', "const n: number = 'not a number';"]));
    const r = spawnSync('/usr/bin/python3', ['scripts/run_notebooks.py', '--timeout', '60', path], {
      encoding: 'utf8',
      env: { ...process.env, JUPYTER_PATH: KERNELS },
    });
    rmSync(dir, { recursive: true, force: true });
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /FAIL .*broken\.ipynb/);
    assert.match(r.stdout, /cell #1 \[CellExecutionError\]/);
    assert.match(r.stdout, /Type 'string' is not assignable to type 'number'/);
    assert.match(r.stdout.trim().split('\n').pop() as string, /^0 passed, 1 failed$/);
  });
});
