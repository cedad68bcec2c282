import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { withAfs } from '../../lib/diffusion/afs';
import type { Conditioning, Denoiser } from '../../lib/diffusion/denoiser';
import { sampleImages } from '../../lib/diffusion/sampleImages';
import { timeGrid } from '../../lib/diffusion/schedules';
import { eulerStep } from '../../lib/diffusion/solvers/euler';
import { type ImageTeacher, loadImageTeacher } from '../../lib/models/teachers';
import { repoRoot } from '../../lib/runtime/paths';
import { rollout } from '../../lib/sfd/rollout';
import { studentSampler } from '../../lib/sfd/sampleStudent';
import type { StudentCardSfd } from '../../lib/sfd/stage2';
import { type StepKind, studentSteps } from '../../lib/sfd/studentSteps';
import { makeRng } from '../../lib/util/rng';

const shipped = (name: string) => loadImageTeacher(join(repoRoot(), 'data', 'students', name));
const sfdOf = (m: ImageTeacher) => m.card.sfd as StudentCardSfd;
const values = (x: tf.Tensor) => Array.from(x.dataSync());

/** The student's walk written out plainly: Euler from its own state, AFS on step 0, one condition throughout. */
function plainWalk(denoise: Denoiser, xT: tf.Tensor, ts: number[], cond?: Conditioning): tf.Tensor {
  let x = xT.clone();
  for (let j = 0; j < ts.length - 1; j++) {
    const d = j === 0 ? withAfs(denoise, ts[0]) : denoise;
    const next = eulerStep(d, x, ts[j], ts[j + 1], cond);
    x.dispose();
    x = next;
  }
  return x;
}

/** Four noise images at t_max = 80, as sampleImages draws them for seed 0. */
function seedZeroNoise(ts: number[]): tf.Tensor {
  const rng = makeRng(0);
  return tf.tensor4d(
    Float32Array.from({ length: 4 * 28 * 28 }, () => ts[0] * rng.normal()),
    [4, 28, 28, 1],
  );
}

/** A one-weight student, D(x) = w·x: small enough to train in a test, with a gradient at every step. */
function scalarStudent() {
  const w = tf.variable(tf.scalar(0.5));
  const denoise: Denoiser = (x) => tf.tidy(() => x.mul(w));
  return { denoise, weights: new Map([['w', w]]), dispose: () => w.dispose() };
}

describe('the student walk (rollout)', function () {
  this.timeout(60_000);

  it('walks the shipped NFE-2 student bit for bit as a plain Euler loop with AFS on step 0', async () => {
    const m = shipped('sfd-nfe2');
    const ts = timeGrid(4, sfdOf(m).sampling.schedule); // NFE 2 with AFS: 4 timestamps
    const xT = seedZeroNoise(ts);
    const walked = await rollout(m.denoise, xT, studentSteps(ts, true, 'none'));
    const plain = plainWalk(m.denoise, xT, ts);
    assert.deepEqual(values(walked), values(plain));
    tf.dispose([xT, walked, plain]);
    m.unet.dispose();
  });

  it('walks the shipped SFD-v student at NFE 3 bit for bit as the plain loop with condition N = 5', async () => {
    const m = shipped('sfd-v');
    const ts = timeGrid(5, sfdOf(m).sampling.schedule);
    const xT = seedZeroNoise(ts);
    const walked = await studentSampler(m.denoise, sfdOf(m).sampling, 3).walk(xT);
    const plain = plainWalk(m.denoise, xT, ts, { step: 5 });
    assert.deepEqual(values(walked), values(plain));
    tf.dispose([xT, walked, plain]);
    m.unet.dispose();
  });

  it('draws what sampleImages draws with the student’s sampler (seed 0, clipped to [−1, 1])', async () => {
    const m = shipped('sfd-nfe2');
    const s = studentSampler(m.denoise, sfdOf(m).sampling, 2);
    const xT = seedZeroNoise(timeGrid(4, s.sampling.schedule));
    const walked = await s.walk(xT);
    const clipped = walked.clipByValue(-1, 1);
    const drawn = await sampleImages(s.denoise, m.shape, 4, 0, s.sampling);
    assert.deepEqual(values(clipped), Array.from(drawn.pixels));
    tf.dispose([xT, walked, clipped]);
    m.unet.dispose();
  });

  it('calls the hook once per step, in order, with each step’s kind; only train steps carry gradients', async () => {
    const student = scalarStudent();
    const ts = timeGrid(5, { kind: 'polynomial', rho: 7, tMin: 0.006, tMax: 80 });
    const seen: { kind: StepKind; t: number; grads: boolean; loss: boolean }[] = [];
    const xT = tf.ones([2, 3]).mul(80);
    const xEnd = await rollout(student, xT, studentSteps(ts, true, 'none', [2]), {
      loss: (_, x) => tf.tidy(() => x.square().mean() as tf.Scalar),
      onStep: (step, { loss, grads }) => {
        seen.push({ kind: step.kind, t: step.t, grads: grads !== null, loss: loss !== null });
        tf.dispose([loss as tf.Scalar, ...(grads?.values() ?? [])]);
      },
    });
    assert.deepEqual(
      seen.map((s) => s.kind),
      ['afs', 'forward', 'train', 'forward'],
    );
    assert.deepEqual(
      seen.map((s) => s.t),
      ts.slice(0, -1),
    );
    assert.deepEqual(
      seen.map((s) => s.grads),
      [false, false, true, false],
    );
    assert.ok(seen.every((s) => s.loss));
    tf.dispose([xT, xEnd]);
    student.dispose();
  });

  it('leaves tf.memory().numTensors unchanged but for its result, and x_T to its caller', async () => {
    const student = scalarStudent();
    const ts = timeGrid(4, { kind: 'polynomial', rho: 7, tMin: 0.006, tMax: 80 });
    const xT = tf.ones([2, 3]);
    const before = tf.memory().numTensors;
    const xEnd = await rollout(student.denoise, xT, studentSteps(ts, true, 'none'));
    assert.equal(tf.memory().numTensors, before + 1);
    assert.equal(xT.isDisposed, false);
    tf.dispose([xT, xEnd]);
    student.dispose();
  });

  it('refuses a train step when the walk has no loss to differentiate', async () => {
    const student = scalarStudent();
    const ts = timeGrid(4, { kind: 'polynomial', rho: 7, tMin: 0.006, tMax: 80 });
    const xT = tf.ones([2, 3]);
    const before = tf.memory().numTensors;
    await assert.rejects(
      rollout(student, xT, studentSteps(ts, true, 'none', 'all')),
      /trains, but the walk has no loss/,
    );
    assert.equal(tf.memory().numTensors, before, 'the states walked so far are freed');
    xT.dispose();
    student.dispose();
  });
});
