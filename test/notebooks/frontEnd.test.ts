import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from '../browserHelpers';

const KERNELS = resolve('.jupyter/share/jupyter/kernels');

describe('the Jupyter front-end and the repo kernel', function () {
  this.timeout(120_000);

  it('the kernel spec names tslab relative to itself, and still runs after the clone moves', function () {
    if (!existsSync(join(KERNELS, 'tslab/kernel.json'))) this.skip(); // registered by npm run setup
    const spec = JSON.parse(readFileSync(join(KERNELS, 'tslab/kernel.json'), 'utf8'));
    assert.match(spec.argv[0], /^\{resource_dir\}\//, 'no absolute path in the spec');
    const moved = mkdtempSync(join(tmpdir(), 'sfd-moved-clone-'));
    try {
      cpSync(resolve('.jupyter'), join(moved, '.jupyter'), { recursive: true });
      symlinkSync(resolve('node_modules'), join(moved, 'node_modules'));
      const r = spawnSync(
        '/usr/bin/python3',
        ['scripts/kernel_smoke.py', join(moved, '.jupyter/share/jupyter/kernels')],
        {
          encoding: 'utf8',
          timeout: 100_000,
        },
      );
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /^result 42$/m);
      assert.match(r.stdout, /^status ok$/m);
    } finally {
      rmSync(moved, { recursive: true, force: true });
    }
  });

  it('npm run notebook serves the classic Notebook on 127.0.0.1 with the TypeScript kernel', async function () {
    if (spawnSync('/usr/bin/python3', ['-c', 'import notebook']).status !== 0) this.skip(); // jupyter-notebook absent
    const port = await freePort();
    const server = spawn(
      'bash',
      [
        'scripts/notebook.sh',
        `--port=${port}`,
        '--NotebookApp.token=sfd-test',
        '--NotebookApp.port_retries=0',
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, JUPYTER_PATH: '' }, // the script sets it itself
      },
    );
    let log = '';
    server.stdout.on('data', (d) => (log += d));
    server.stderr.on('data', (d) => (log += d));
    try {
      let specs: { kernelspecs?: Record<string, unknown> } = {};
      for (let i = 0; i < 200 && !specs.kernelspecs; i++) {
        await new Promise((r) => setTimeout(r, 250));
        try {
          const res = await fetch(`http://127.0.0.1:${port}/api/kernelspecs?token=sfd-test`);
          if (res.ok) specs = await res.json();
        } catch {
          // not listening yet
        }
      }
      assert.ok(specs.kernelspecs, `the server answered on port ${port}:\n${log}`);
      assert.ok('tslab' in specs.kernelspecs, `kernels: ${Object.keys(specs.kernelspecs)}`);
      assert.match(log, new RegExp(`http://127\\.0\\.0\\.1:${port}/`), 'it prints the URL');
    } finally {
      server.kill('SIGINT');
      server.kill('SIGTERM');
    }
  });
});
