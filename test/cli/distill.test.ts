import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

describe('sfd distill, and sampling a student as it was trained', function () {
  this.timeout(300_000);
  const dir = mkdtempSync(join(tmpdir(), 'sfd-distill-cli-'));
  const cache = join(dir, 'cache');
  const sfd = (args: string[]) =>
    spawnSync(process.execPath, ['bin/sfd.js', ...args], {
      encoding: 'utf8',
      env: { ...process.env, SFD_CACHE_DIR: cache },
    });
  after(() => rmSync(dir, { recursive: true, force: true }));
  const small = ['--batch', '2', '--iterations', '2', '--k', '2', '--checkpoint-every', '1'];

  it('--schedule: a student on a searched grid (sfd gits for Euler at its NFE, with AFS) samples on it; misuse refused', () => {
    const grid = join(dir, 'gits-euler2.json');
    let r = sfd([
      'gits',
      '--teacher',
      'mnist',
      '--solver',
      'euler',
      '--nfe',
      '2',
      '--afs',
      '--t-min',
      '0.006',
      '--warmup',
      '4',
      '--out',
      grid,
    ]);
    assert.equal(r.status, 0, r.stderr);
    const sigmas = JSON.parse(readFileSync(grid, 'utf8')).sigmas;
    const out = join(dir, 'on-gits');
    r = sfd(['distill', '--schedule', grid, '--out', out, ...small, '--no-cache']);
    assert.equal(r.status, 0, r.stderr);
    const card = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8'));
    assert.equal(card.sfd.sampling.schedule.kind, 'explicit');
    assert.deepEqual(card.sfd.sampling.schedule.sigmas, sigmas);
    r = sfd(['eval', '--teacher', out, '--n', '6']);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout.trim().split('\n').pop() as string).schedule.sigmas, sigmas);
    const refused: [string[], RegExp][] = [
      [['--nfe', '3'], /has 3 steps \(made for euler at NFE 2 with AFS\); euler at NFE 3 with AFS takes 4/],
      [['--variable', '2,3'], /--schedule is one grid for one NFE: give --nfe, not --variable/],
      [['--rho', '3'], /--schedule gives the σ grid itself: drop --rho/],
      [['--official-command'], /the official sfd-main has no explicit schedule/],
    ];
    for (const [extra, re] of refused) {
      r = sfd(['distill', '--schedule', grid, '--out', join(dir, 'refused'), ...extra]);
      assert.equal(r.status, 1, extra.join(' '));
      assert.match(r.stderr, re);
    }
  });

  it('distils the shipped teacher, caches its trajectories, and the student samples and evaluates at its own NFE only', () => {
    const out = join(dir, 's');
    let r = sfd(['distill', '--out', out, ...small, '--eval-every', '2', '--eval-n', '20']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /distilled 2 iterations \(4 trajectories\) in .* CPU-min on native/);
    assert.match(r.stderr, /iteration 2: FID [\d.]+ at NFE 2 \(N = 20\)/);
    const card = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8'));
    assert.deepEqual(card.sfd.sampling.nfes, [2]);
    assert.equal(card.evals.length, 2, 'FID before training and at iteration 2');
    assert.equal(
      readdirSync(cache).filter((f) => f.endsWith('.json')).length,
      2,
      'one cache entry per iteration',
    );
    // a second run with the same teacher states reads them from the cache, and gives the same student
    r = sfd(['distill', '--out', join(dir, 's2'), ...small]);
    assert.equal(r.status, 0, r.stderr);
    const again = JSON.parse(readFileSync(join(dir, 's2', 'model.json'), 'utf8'));
    assert.equal(again.sha256, card.sha256, 'cached targets are the solved ones, bit for bit');
    // and says so: its time leaves the teacher out
    assert.deepEqual([card.cachedTargetIterations, again.cachedTargetIterations], [0, 2]);
    assert.match(r.stdout, /; 2 iterations' teacher trajectories from the cache\)/);
    r = sfd(['sample', '--teacher', out, '--n', '4', '--out', join(dir, 'g.png')]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /euler nfe=2/);
    r = sfd(['sample', '--teacher', out, '--nfe', '3', '--n', '4', '--out', join(dir, 'g.png')]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /trained for NFE 2, not 3/);
    r = sfd(['sample', '--teacher', out, '--solver', 'heun', '--out', join(dir, 'g.png')]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /is an SFD student: it samples as it was trained .* drop --solver/);
    r = sfd(['eval', '--teacher', out, '--n', '50']);
    assert.equal(r.status, 0, r.stderr);
    const m = JSON.parse(r.stdout.trim().split('\n').pop() as string);
    assert.equal(m.solver, 'euler');
    assert.equal(m.nfe, 2);
    assert.equal(m.student, true);
    assert.ok(m.fid > 0);
    // a model directory is never overwritten, and stage 2 needs a stage-1 student
    r = sfd(['distill', '--out', out, ...small]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /already holds a model or run/);
    r = sfd(['distill', '--stage2', '--from', 'mnist', '--out', join(dir, 'x'), '--iterations', '1']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /stage 2 distils a stage-1 SFD or SFD-v student/);
    assert.ok(!existsSync(join(dir, 'x', 'model.json')));
  });

  it('--official-command prints the official train.py equivalent and names what has no counterpart', () => {
    let r = sfd(['distill', '--official-command']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.stdout,
      /python train\.py .*--num_steps=4 --M=3 --sampler_tea=dpmpp --max_order=3 .*--afs=True/,
    );
    r = sfd(['distill', '--teacher-solver', 'heun', '--official-command']);
    assert.match(r.stdout, /--sampler_tea=heun /);
    r = sfd(['distill', '--variable', '2,3', '--cond', 'tnext', '--loss', 'l2', '--official-command']);
    assert.match(r.stdout, /--use_step_condition=True/);
    assert.match(r.stdout, /# no official counterpart: NFE list 2,3/);
    assert.match(r.stdout, /# no official counterpart: tnext-cond/);
    assert.match(r.stdout, /# no official counterpart: loss l2/);
    // train.py takes a whole --total_kimg (IntRange(min=1)): 600 × 16 = 9.6 kimg is rounded up, and said so
    r = sfd(['distill', '--official-command', '--iterations', '600', '--batch', '16']);
    assert.match(r.stdout, / --total_kimg=10 /);
    assert.match(r.stdout, /# .*600 iterations × batch 16 = 9\.6 kimg → 10 kimg = 625 iterations, 25 more/);
    r = sfd(['distill', '--official-command', '--dataset', 'ms_coco', '--paper']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^python train\.py --dataset_name=ms_coco .*--guidance_type=cfg/);
    assert.match(r.stdout, /# --dataset_name=ms_coco loads Stable Diffusion v1\.5/);
    assert.match(r.stdout, /# paper recipe for ms_coco: not in the official repository/);
    r = sfd(['distill', '--official-command', '--paper']);
    assert.equal(r.stdout.split('\n').filter((l) => l.startsWith('python train.py ')).length, 2);
    assert.match(
      r.stdout,
      /# paper recipe, CIFAR-10 SFD.*\npython train\.py --dataset_name=cifar10 --total_kimg=200 --batch=128 --lr=5e-5 /,
    );
    for (const [args, re] of [
      [['--official-command', '--dataset', 'mnist'], /--dataset must be one of cifar10, .*, got 'mnist'/],
      [['--dataset', 'cifar10'], /--dataset cifar10 goes with --official-command/],
      [['--paper'], /--paper goes with --official-command/],
    ] as [string[], RegExp][]) {
      r = sfd(['distill', ...args]);
      assert.equal(r.status, 1, args.join(' '));
      assert.match(r.stderr, re);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
  });

  it('bad requests fail at once with a one-line reason', () => {
    for (const [args, re] of [
      [['--nfe', '0'], /--nfe must be a positive integer/],
      [['--nfe', '2', '--variable', '2,3'], /give --nfe or --variable, not both/],
      [['--variable', '2,3', '--cond', 'none'], /needs a step-conditioned student/],
      [['--cond', 'sideways'], /--cond must be one of none, step, tnext/],
      [['--k', '0'], /--k must be a positive integer/],
      [['--stage2'], /--stage2 needs --from/],
      [['--stage2', '--from', 'x', '--k', '3'], /stage 2 takes its teacher .* drop --k/],
      [['--teacher-solver', 'rk9'], /unknown solver 'rk9'/],
      [['--only-steps', '0'], /analytical first step/],
    ] as [string[], RegExp][]) {
      const r = sfd(['distill', '--out', join(dir, 'never'), ...args]);
      assert.equal(r.status, 1, args.join(' '));
      assert.match(r.stderr, re);
      assert.equal(
        r.stderr
          .trim()
          .split('\n')
          .filter((l) => l.startsWith('sfd ')).length,
        1,
      );
    }
    assert.ok(!existsSync(join(dir, 'never', 'model.json')));
  });
});
