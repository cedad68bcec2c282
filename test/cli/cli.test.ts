import { strict as assert } from 'node:assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SOLVER_NAMES } from '../../lib/diffusion/solvers/registry';

const sfd = (args: string[]) => spawnSync(process.execPath, ['bin/sfd.js', ...args], { encoding: 'utf8' });

describe('sfd command', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sfd-cli-'));

  it('sfd info names the backend, the WebGPU adapter, why each other backend is not in use, with a JSON line', () => {
    const out = execFileSync(process.execPath, ['bin/sfd.js', 'info'], { encoding: 'utf8' });
    assert.match(out, /^tfjs backend: \w+/m);
    assert.match(out, /^WebGPU adapter: /m);
    // (unless it is the backend in use) tfjs-node-gpu's line says how CUDA users install it
    assert.match(
      out,
      /^ {2}tensorflow-gpu: .*npm install @tensorflow\/tfjs-node-gpu|^tfjs backend: tensorflow-gpu/m,
    );
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

  it('sfd sample spends exactly the requested NFE with every solver, with and without AFS', () => {
    SOLVER_NAMES.forEach((solver, i) => {
      const afs = i % 2 === 0;
      const nfe = afs ? 3 : 4; // feasible for 1- and 2-call solvers alike
      const file = join(dir, `${solver}.json`);
      const r = sfd([
        'sample',
        '--solver',
        solver,
        '--nfe',
        String(nfe),
        ...(afs ? ['--afs'] : []),
        '--n',
        '8',
        '--out',
        file,
      ]);
      assert.equal(r.status, 0, `${solver}: ${r.stderr}`);
      const j = JSON.parse(readFileSync(file, 'utf8'));
      assert.equal(j.nfe, nfe, solver);
      assert.equal(j.samples.length, 8);
      assert.ok(j.samples.flat().every(Number.isFinite), `${solver}: non-finite samples`);
    });
  });

  it('--threshold changes DPM-Solver++ samples and is refused by solvers without it', () => {
    const plain = join(dir, 'plain.json');
    const thr = join(dir, 'thr.json');
    assert.equal(
      sfd(['sample', '--solver', 'dpmpp-3m', '--nfe', '4', '--n', '32', '--out', plain]).status,
      0,
    );
    assert.equal(
      sfd(['sample', '--solver', 'dpmpp-3m', '--nfe', '4', '--n', '32', '--threshold', '--out', thr]).status,
      0,
    );
    // ring data reach radius ≈ 1.1, so clipping x0 to [-1, 1] must move some samples
    assert.notDeepEqual(
      JSON.parse(readFileSync(plain, 'utf8')).samples,
      JSON.parse(readFileSync(thr, 'utf8')).samples,
    );
    const r = sfd(['sample', '--solver', 'euler', '--threshold', '--out', thr]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /euler has no dynamic thresholding/);
  });

  it('SFD_BACKEND forces a backend, and an unknown name is refused', () => {
    const forced = spawnSync(process.execPath, ['bin/sfd.js', 'info'], {
      encoding: 'utf8',
      env: { ...process.env, SFD_BACKEND: 'cpu' },
    });
    assert.equal(forced.status, 0, forced.stderr);
    assert.match(forced.stdout, /^tfjs backend: cpu \(forced by SFD_BACKEND\)/m);
    // tfjs's "looks like you are running TensorFlow.js in Node.js" banner is noise: never printed
    const work = spawnSync(
      process.execPath,
      ['bin/sfd.js', 'sample', '--n', '4', '--out', join(dir, 'b.json')],
      {
        encoding: 'utf8',
        env: { ...process.env, SFD_BACKEND: 'cpu' },
      },
    );
    assert.equal(work.status, 0, work.stderr);
    assert.doesNotMatch(work.stderr + work.stdout, /TensorFlow\.js in Node\.js/);
    const bad = spawnSync(process.execPath, ['bin/sfd.js', 'info'], {
      encoding: 'utf8',
      env: { ...process.env, SFD_BACKEND: 'bogus' },
    });
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /SFD_BACKEND='bogus' is not a backend/);
  });

  it('bad requests exit 1 with a one-line reason', () => {
    const cases: [string[], RegExp][] = [
      [['sample', '--solver', 'rk45', '--out', join(dir, 'x.json')], /unknown solver 'rk45'/],
      [
        ['sample', '--solver', 'heun', '--nfe', '4', '--afs', '--out', join(dir, 'x.json')],
        /NFE must be odd with AFS/,
      ],
      [['sample', '--nfe', '0', '--out', join(dir, 'x.json')], /--nfe must be a positive integer, got .0./],
      [['sample', '--rho=-1', '--out', join(dir, 'x.json')], /--rho must be > 0/],
      [['sample', '--t-min', '90', '--out', join(dir, 'x.json')], /tMin < tMax/],
      [['sample'], /needs --out/],
      [['sample', '--seed', '1.5', '--out', join(dir, 'x.json')], /--seed must be an integer/],
      [['sample', '--seed', '4294967296', '--out', join(dir, 'x.json')], /--seed must be an integer/],
      [['frobnicate'], /unknown command 'frobnicate'/],
    ];
    for (const [args, msg] of cases) {
      const r = sfd(args);
      assert.equal(r.status, 1, `${args.join(' ')} exited ${r.status}`);
      assert.match(r.stderr, msg);
    }
  });
});
