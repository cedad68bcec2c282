import { strict as assert } from 'node:assert';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { type TargetKey, targetCache } from '../../lib/sfd/targetCache';

const key = (iteration: number): TargetKey => ({
  teacherSha256: 'abc',
  solver: 'dpmpp-3m',
  threshold: true,
  teacherAfs: false,
  k: 4,
  n: 4,
  schedule: { kind: 'polynomial', rho: 7, tMin: 0.006, tMax: 80 },
  seed: 0,
  iteration,
  batch: 2,
  shape: [3],
});

describe('teacher-trajectory cache', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sfd-cache-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const solveFor = (i: number) => {
    let calls = 0;
    const solve = () => {
      calls++;
      return [tf.fill([2, 3], i), tf.fill([2, 3], i + 0.5)];
    };
    return { solve, calls: () => calls };
  };

  it('solves once per key, then returns the stored tensors; a corrupt entry is regenerated, not used', async () => {
    const c = targetCache({ dir, maxBytes: 2 ** 30 });
    const s = solveFor(1);
    tf.dispose(await c.targets(key(1), s.solve));
    const got = await c.targets(key(1), s.solve);
    assert.equal(s.calls(), 1);
    assert.deepEqual(Array.from(got[1].dataSync()), [1.5, 1.5, 1.5, 1.5, 1.5, 1.5]);
    tf.dispose(got);
    // another key (another iteration) is another entry
    tf.dispose(await c.targets(key(2), solveFor(2).solve));
    assert.deepEqual(c.stats, { hits: 1, misses: 2, corrupt: 0, evicted: 0 });
    const json = readdirSync(dir).find(
      (f) => f.endsWith('.json') && JSON.parse(readFileSync(join(dir, f), 'utf8')).key.iteration === 1,
    ) as string;
    const bin = json.replace(/\.json$/, '.bin');
    const bytes = readFileSync(join(dir, bin));
    bytes[3] ^= 0x40;
    writeFileSync(join(dir, bin), bytes);
    const again = solveFor(1);
    const a = await c.targets(key(1), again.solve);
    assert.equal(c.stats.corrupt, 1, 'the changed entry was caught');
    assert.equal(again.calls(), 1, 'and regenerated');
    assert.deepEqual(Array.from(a[0].dataSync()), [1, 1, 1, 1, 1, 1]);
    tf.dispose(a);
    const b = solveFor(1);
    tf.dispose(await c.targets(key(1), b.solve));
    assert.equal(b.calls(), 0, 'the regenerated entry is used next time');
  });

  it('stays under its size bound by dropping the oldest entries', async () => {
    const c = targetCache({ dir, maxBytes: 3000 });
    for (let i = 0; i < 10; i++) tf.dispose(await c.targets(key(i), solveFor(i).solve));
    const bytes = readdirSync(dir).reduce((a, f) => a + readFileSync(join(dir, f)).length, 0);
    assert.ok(bytes <= 3000, `${bytes} bytes on disk`);
    assert.ok(c.stats.evicted > 0);
  });
});
