import { strict as assert } from 'node:assert';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { trajectoryProjection } from '../../lib/experiments/trajectoryProjection';
import { type SfdConfig, sfdDefaults } from '../../lib/sfd/config';
import { trainSfd } from '../../lib/sfd/train';
import { saveTinyMnistTeacher } from '../helpers';

describe('teacher and student trajectories on two principal axes', function () {
  this.timeout(120_000);
  it('projects both on the axes of their states: shapes, variance fractions, displacement from x_T', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sfd-projection-'));
    const teacherDir = join(dir, 'teacher');
    await saveTinyMnistTeacher(teacherDir);
    const cfg: SfdConfig = { ...sfdDefaults, batch: 2, iterations: 1 };
    await trainSfd({ config: cfg, teacher: teacherDir, out: join(dir, 'student') });
    const before = tf.memory().numTensors;
    const p = await trajectoryProjection(join(dir, 'student'), { n: 5, seed: 1 });
    assert.equal(tf.memory().numTensors, before, 'no tensor leaks');
    // NFE 2 with AFS: 4 student timestamps, K = 4 → 13 teacher timestamps
    assert.deepEqual([p.student.ts.length, p.teacher.ts.length, p.nfe], [4, 13, 2]);
    for (const path of [p.student, p.teacher]) {
      assert.equal(path.pcs.length, 5);
      for (const traj of path.pcs) assert.deepEqual([traj.length, traj[0].length], [path.ts.length, 2]);
      assert.equal(path.displacement[0], 0); // from x_T to itself
      assert.ok((path.displacement.at(-1) as number) > 0);
    }
    // both start from the same noise
    assert.deepEqual(
      p.student.pcs.map((t) => t[0]),
      p.teacher.pcs.map((t) => t[0]),
    );
    // the first axis carries the most variance, and the projections carry exactly the fractions reported
    assert.ok(p.explained[0] >= p.explained[1] && p.explained[1] > 0 && p.explained[0] + p.explained[1] <= 1);
    const all = [...p.teacher.pcs.flat(), ...p.student.pcs.flat()];
    const ss = (c: number) => all.reduce((a, q) => a + q[c] ** 2, 0);
    assert.ok(Math.abs(ss(0) / ss(1) - p.explained[0] / p.explained[1]) < 1e-6 * (ss(0) / ss(1)));
  });
});
