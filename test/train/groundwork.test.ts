import { strict as assert } from 'node:assert';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { createFeatureNet } from '../../lib/eval/featureNet';
import { createUNet, isStepConditionWeight } from '../../lib/models/unet';
import { assignWeights } from '../../lib/models/weightsIO';
import { Adam } from '../../lib/train/adam';
import { checkpointJson, readCheckpoint, restoreGroup, writeCheckpoint } from '../../lib/train/checkpoint';
import { Ema } from '../../lib/train/ema';
import { dropStep, learningRateAt } from '../../lib/train/lrSchedule';
import { namedGrads } from '../../lib/train/namedGrads';
import { assertClose } from '../helpers';

const small = { resolution: 8, inChannels: 1, channels: [8, 8], attention: true, embedDim: 8 };

describe('training groundwork', () => {
  it('namedGrads gives d loss/d weight by name and keeps the forward output, detached', () => {
    const w = new Map<string, tf.Variable>([
      ['a', tf.variable(tf.tensor1d([1, 2, 3]))],
      ['b', tf.variable(tf.scalar(2))],
    ]);
    const x = tf.tensor1d([0.5, -1, 2]);
    // loss = Σ (a·x·b)², out = a·x·b
    const g = namedGrads(w, () => {
      const out = (w.get('a') as tf.Variable).mul(x).mul(w.get('b') as tf.Variable);
      return { loss: out.square().sum() as tf.Scalar, out };
    });
    const a = [1, 2, 3];
    const xs = [0.5, -1, 2];
    const out = a.map((ai, i) => ai * xs[i] * 2);
    assertClose(Array.from(g.out.dataSync()), out, 1e-6);
    assertClose([g.loss.dataSync()[0]], [out.reduce((s, o) => s + o * o, 0)], 1e-5);
    // d/da_i = 2·o_i·x_i·b, d/db = Σ 2·o_i·a_i·x_i
    assertClose(
      Array.from(g.grads.get('a')?.dataSync() ?? []),
      out.map((o, i) => 2 * o * xs[i] * 2),
      1e-5,
    );
    assertClose(
      [g.grads.get('b')?.dataSync()[0] ?? NaN],
      [out.reduce((s, o, i) => s + 2 * o * a[i] * xs[i], 0)],
      1e-5,
    );
    // `out` is a plain tensor: a loss built on it has no gradient with respect to the weights
    const again = tf.variableGrads(() => g.out.sum().add((w.get('b') as tf.Variable).mul(0)) as tf.Scalar);
    assertClose([again.grads[(w.get('b') as tf.Variable).name].dataSync()[0]], [0], 0);
    tf.dispose([
      x,
      g.loss,
      g.out,
      ...g.grads.values(),
      again.value,
      ...Object.values(again.grads),
      ...w.values(),
    ]);
  });

  it('learning-rate schedule: linear warm-up, then ×0.1 once half of the run is consumed', () => {
    const warm = { lr: 1e-3, warmupImages: 80, drops: [] };
    assertClose(
      [0, 4, 50].map((step) => learningRateAt(warm, { step, batch: 8, steps: 100 })),
      [1e-4, 5e-4, 1e-3],
      1e-12,
    );
    const sfd = { lr: 2e-4, warmupImages: 0, drops: [{ atFraction: 0.5, factor: 0.1 }] };
    // 10 iterations (official loop): iteration 5 runs at the full rate, then its end-of-iteration check sees
    // 5·16 = half of the trajectories consumed, so iterations 6–9 run at the dropped rate
    assertClose(
      Array.from({ length: 10 }, (_, step) => learningRateAt(sfd, { step, batch: 16, steps: 10 })),
      [2e-4, 2e-4, 2e-4, 2e-4, 2e-4, 2e-4, 2e-5, 2e-5, 2e-5, 2e-5],
      1e-15,
    );
    assert.equal(dropStep(sfd.drops[0], 10), 6);
    // 1563 iterations at batch 128 (the paper's SFD run): the first reduced iteration is 783 (0-based)
    const paper = (step: number) => learningRateAt(sfd, { step, batch: 128, steps: 1563 });
    assert.deepEqual([paper(782), paper(783)], [2e-4, 2e-5]);
    assert.equal(dropStep(sfd.drops[0], 1563), 783);
  });

  it('building and disposing a UNet, a feature net, an Adam and an EMA leaves tf.memory().numTensors unchanged', () => {
    const before = tf.memory().numTensors;
    const u = createUNet({ ...small, stepCondition: true }, 3);
    const f = createFeatureNet(1);
    const adam = new Adam(u.weights);
    const ema = new Ema(u.weights, 1000);
    assert.equal(
      tf.memory().numTensors - before,
      4 * u.weights.size + f.weights.size,
      'one tensor per variable',
    );
    ema.dispose();
    adam.dispose();
    f.dispose();
    u.dispose();
    assert.equal(tf.memory().numTensors, before);
  });

  it('assignWeights can keep a student’s own step-condition weights when it loads its teacher', () => {
    const teacher = createUNet({ ...small, stepCondition: false }, 5);
    const student = createUNet({ ...small, stepCondition: true }, 9);
    const own = [...student.weights.keys()].filter(isStepConditionWeight);
    assert.ok(own.includes('step.0.w') && own.includes('down0.0.step.w'), own.join());
    const ownBefore = new Map(own.map((k) => [k, Array.from(student.weights.get(k)?.dataSync() ?? [])]));
    assert.throws(() => assignWeights(student.weights, teacher.weights, 'student'), /missing: step\./);
    assignWeights(student.weights, teacher.weights, 'student', isStepConditionWeight);
    for (const [k, v] of teacher.weights)
      assert.deepEqual(Array.from(student.weights.get(k)?.dataSync() ?? []), Array.from(v.dataSync()), k);
    for (const k of own)
      assert.deepEqual(Array.from(student.weights.get(k)?.dataSync() ?? []), ownBefore.get(k), k);
    // zero-initialised step projections: the student equals its teacher whatever its condition
    const x = tf.randomNormal([2, 8, 8, 1], 0, 1, 'float32', 1);
    const a = teacher.net(x, 0.3);
    const b = student.net(x, 0.3, { step: 4 });
    assertClose(Array.from(b.dataSync()), Array.from(a.dataSync()), 1e-6);
    tf.dispose([x, a, b]);
    teacher.dispose();
    student.dispose();
  });

  it('checkpoints round-trip by group, keep only the newest binary, and refuse corrupt, foreign or mismatched ones', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sfd-ckpt-'));
    try {
      const u = createUNet(small, 1);
      const adam = new Adam(u.weights);
      const path = checkpointJson(dir);
      await writeCheckpoint(path, { model: u.weights, adam: adam.state() }, { format: 'test-ckpt', step: 1 });
      await writeCheckpoint(path, { model: u.weights, adam: adam.state() }, { format: 'test-ckpt', step: 2 });
      assert.deepEqual(readdirSync(join(dir, 'checkpoint')).sort(), [
        'checkpoint-0000002.bin',
        'checkpoint.json',
      ]);
      const v = createUNet(small, 2);
      const ck = readCheckpoint(path, 'test-ckpt');
      restoreGroup(ck, 'model', v.weights, path);
      for (const [k, w] of u.weights)
        assert.deepEqual(Array.from(v.weights.get(k)?.dataSync() ?? []), Array.from(w.dataSync()), k);
      assert.throws(() => restoreGroup(ck, 'ema', v.weights, path), /no 'ema' weights/);
      const other = createUNet({ ...small, embedDim: 16 }, 2);
      assert.throws(
        () => restoreGroup(ck, 'model', other.weights, path),
        /has shape \[.*\], the architecture expects/,
      );
      ck.dispose();
      assert.throws(
        () => readCheckpoint(path, 'sfd-teacher-checkpoint'),
        /is a 'test-ckpt' file, not a sfd-teacher-checkpoint/,
      );
      const bin = join(dir, 'checkpoint', 'checkpoint-0000002.bin');
      const bytes = readFileSync(bin);
      bytes[7] ^= 0x01;
      writeFileSync(bin, bytes);
      assert.throws(
        () => readCheckpoint(path, 'test-ckpt'),
        /^Error: checkpoint .* is unreadable: .*corrupt or was changed/,
      );
      assert.throws(() => readCheckpoint(join(dir, 'none.json'), 'test-ckpt'), /no checkpoint at/);
      for (const m of [u, v, other]) m.dispose();
      adam.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
