import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { teacherDir } from '../../lib/models/teachers';

const sfd = (args: string[]) => spawnSync(process.execPath, ['bin/sfd.js', ...args], { encoding: 'utf8' });

/** The one error line of a refused command. */
function refused(r: ReturnType<typeof sfd>, pattern: RegExp): void {
  assert.equal(r.status, 1, r.stdout);
  const lines = r.stderr.trim().split('\n');
  assert.match(lines[lines.length - 1], pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at /); // no stack
}

describe('sfd gits and --schedule', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sfd-gits-cli-'));
  const toyFile = join(dir, 'toy.json');

  it('sfd gits on a toy teacher, then sfd sample --schedule samples on its grid', function () {
    this.timeout(60_000);
    const g = sfd([
      'gits',
      '--teacher',
      'gmm2d',
      '--nfe',
      '4',
      '--solver',
      'euler',
      '--warmup',
      '64',
      '--out',
      toyFile,
    ]);
    assert.equal(g.status, 0, g.stderr);
    const f = JSON.parse(readFileSync(toyFile, 'utf8'));
    assert.equal(f.format, 'sfd-schedule');
    assert.equal(f.method, 'gits');
    assert.equal(f.sigmas.length, 5);
    assert.equal(f.sigmas[0], 80);
    assert.equal(f.sigmas[4], 0.006);
    assert.deepEqual(f.settings.warmup, { n: 64, seed: 1000 });
    assert.equal(f.settings.metric, 'dev');
    assert.equal(f.settings.coeff, 1.15);
    assert.equal(f.settings.teacherGrid.points, 61);
    assert.equal(f.warmupTeacherCalls, 64 * 60);
    assert.ok(f.warmupSeconds >= 0);
    // another solver with as many steps (iPNDM at NFE 4), held-out noise
    const out = join(dir, 's.json');
    const s = sfd([
      ...['sample', '--teacher', 'gmm2d', '--solver', 'ipndm', '--nfe', '4', '--schedule', toyFile],
      ...['--seed', '1', '--n', '32', '--exact', '--out', out],
    ]);
    assert.equal(s.status, 0, s.stderr);
    const j = JSON.parse(readFileSync(out, 'utf8'));
    assert.deepEqual(j.ts, f.sigmas);
    assert.equal(j.nfe, 4);
    assert.equal(j.config.schedule.kind, 'explicit');
    assert.match(s.stdout, /mean endpoint error/);
  });

  it('refuses a schedule made for another step count or teacher, or with --rho/--t-min/--t-max', function () {
    this.timeout(60_000);
    const base = ['sample', '--schedule', toyFile, '--out', join(dir, 'x.json')];
    refused(
      sfd([...base, '--teacher', 'gmm2d', '--solver', 'euler', '--nfe', '5']),
      /has 4 steps .*euler at NFE 5 takes 5/,
    );
    const f = JSON.parse(readFileSync(toyFile, 'utf8'));
    refused(
      sfd([...base, '--teacher', 'grid', '--nfe', '4']),
      new RegExp(
        `another teacher \\(gmm2d, sha256 ${f.settings.teacherSha256}\\); this teacher's sha256 is [0-9a-f]{64}$`,
      ),
    );
    refused(
      sfd([...base, '--teacher', 'gmm2d', '--nfe', '4', '--rho', '3', '--t-min', '0.01']),
      /drop --rho, --t-min/,
    );
    refused(sfd(['gits', '--teacher', 'gmm2d', '--out', join(dir, 'y.json')]), /needs --nfe/);
    refused(
      sfd(['gits', '--teacher', 'gmm2d', '--nfe', '4', '--metric', 'bdev', '--out', join(dir, 'y.json')]),
      /--metric must be one of dev, l1, l2/,
    );
    const h = sfd(['help', 'gits']);
    assert.equal(h.status, 0);
    assert.match(h.stdout, /sfd gits --teacher/);
  });

  it('an image teacher: gits, sample and eval --record on its grid; the record names the schedule', function () {
    this.timeout(120_000);
    const file = join(dir, 'mnist.json');
    const g = sfd(
      [
        'gits',
        '--teacher',
        'mnist',
        '--nfe',
        '3',
        '--solver',
        'euler',
        '--warmup',
        '8',
        '--teacher-points',
        '13',
      ].concat(['--out', file]),
    );
    assert.equal(g.status, 0, g.stderr);
    const f = JSON.parse(readFileSync(file, 'utf8'));
    assert.deepEqual([f.sigmas[0], f.sigmas[3]], [80, 0.002]);
    assert.equal(f.warmupTeacherCalls, 8 * 12);
    const saved = join(dir, 'm.json');
    const s = sfd(
      [
        'sample',
        '--teacher',
        'mnist',
        '--solver',
        'ipndm',
        '--nfe',
        '3',
        '--schedule',
        file,
        '--n',
        '4',
      ].concat(['--out', join(dir, 'm.png'), '--save-samples', saved]),
    );
    assert.equal(s.status, 0, s.stderr);
    assert.deepEqual(JSON.parse(readFileSync(saved, 'utf8')).schedule.sigmas, f.sigmas);
    // the toy's schedule is not this teacher's
    refused(
      sfd(['sample', '--teacher', 'mnist', '--nfe', '4', '--schedule', toyFile, '--out', join(dir, 'n.png')]),
      /another teacher/,
    );
    // a copy of the teacher (same weights, same hash) gets the evaluation in its card
    const copy = join(dir, 'teacher');
    mkdirSync(copy);
    for (const name of ['model.json', 'weights.bin'])
      copyFileSync(join(teacherDir('mnist'), name), join(copy, name));
    const e = sfd([
      'eval',
      '--teacher',
      copy,
      '--nfe',
      '3',
      '--solver',
      'euler',
      '--schedule',
      file,
      '--n',
      '6',
      '--seed',
      '1',
      '--record',
    ]);
    assert.equal(e.status, 0, e.stderr);
    const card = JSON.parse(readFileSync(join(copy, 'model.json'), 'utf8'));
    const entry = card.evaluation[card.evaluation.length - 1];
    assert.deepEqual(entry.schedule, {
      kind: 'explicit',
      method: 'gits',
      sigmas: f.sigmas,
      tMin: 0.002,
      tMax: 80,
    });
  });
});
