import { strict as assert } from 'node:assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const sfd = (args: string[]) => spawnSync(process.execPath, ['bin/sfd.js', ...args], { encoding: 'utf8' });

describe('sfd command', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sfd-cli-'));

  it('sfd info names the backend, versions and the GPU backend status, with a JSON line', () => {
    const out = execFileSync(process.execPath, ['bin/sfd.js', 'info'], { encoding: 'utf8' });
    assert.match(out, /^tfjs backend: \w+/m);
    assert.match(out, /GPU backend \(@tensorflow\/tfjs-node-gpu\): (installed|not installed)/);
    const report = JSON.parse(out.trim().split('\n').pop() as string);
    assert.equal(report.versions.tfjs, '4.22.0');
  });

  it('sfd sample writes samples and the trajectory at the solver timestamps', () => {
    const file = join(dir, 's.json');
    const r = sfd([
      'sample',
      '--teacher',
      'gmm2d',
      '--solver',
      'heun',
      '--nfe',
      '3',
      '--afs',
      '--n',
      '16',
      '--seed',
      '3',
      '--out',
      file,
    ]);
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(readFileSync(file, 'utf8'));
    assert.equal(j.nfe, 3);
    assert.equal(j.ts.length, 3); // 2 Heun steps = 4 calls, one saved by AFS
    assert.equal(j.trajectory.length, j.ts.length);
    assert.equal(j.samples.length, 16);
    assert.deepEqual(j.samples, j.trajectory[j.ts.length - 1]);
  });

  it('bad requests exit 1 with a one-line reason', () => {
    const cases: [string[], RegExp][] = [
      [['sample', '--solver', 'rk45', '--out', join(dir, 'x.json')], /unknown solver 'rk45'/],
      [
        ['sample', '--solver', 'heun', '--nfe', '4', '--afs', '--out', join(dir, 'x.json')],
        /NFE must be odd with AFS/,
      ],
      [['sample', '--nfe', '0', '--out', join(dir, 'x.json')], /NFE must be an integer ≥ 1/],
      [['sample', '--rho=-1', '--out', join(dir, 'x.json')], /ρ > 0/],
      [['sample', '--t-min', '90', '--out', join(dir, 'x.json')], /tMin < tMax/],
      [['sample'], /needs --out/],
      [['frobnicate'], /unknown command 'frobnicate'/],
    ];
    for (const [args, msg] of cases) {
      const r = sfd(args);
      assert.equal(r.status, 1, `${args.join(' ')} exited ${r.status}`);
      assert.match(r.stderr, msg);
    }
  });
});
