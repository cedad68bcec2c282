import { strict as assert } from 'node:assert';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { teacherConfigFromArgs } from '../../lib/cli/trainTeacher';
import { loadMnist, type MnistSet, mnistEpoch, mnistStepBatch } from '../../lib/data/mnist';
import { edmPrecond } from '../../lib/diffusion/precond';
import { loadUNet } from '../../lib/models/unetFiles';
import { NATIVE_BACKEND } from '../../lib/runtime/native/register';
import { repoRoot } from '../../lib/runtime/paths';
import { Adam } from '../../lib/train/adam';
import { edmLoss } from '../../lib/train/edmLoss';
import { Ema } from '../../lib/train/ema';
import {
  learningRate,
  type TeacherTrainConfig,
  teacherTrainDefaults,
  trainTeacher,
} from '../../lib/train/teacher';
import { canonicalJson } from '../../lib/util/canonicalJson';
import { assertClose, randn } from '../helpers';

function loadUNetSha(d: string): string {
  const m = loadUNet(d);
  m.unet.dispose();
  return m.sha256;
}

/** The first `n` test images as a small data set. */
function smallSet(n: number): MnistSet {
  const t = loadMnist('test', undefined, false);
  return { ...t, n, images: t.images.slice(0, n * 784), labels: t.labels.slice(0, n) };
}

const tiny: TeacherTrainConfig = {
  ...teacherTrainDefaults,
  unet: { ...teacherTrainDefaults.unet, channels: [8, 8], attention: false, embedDim: 8 },
  steps: 4,
  batch: 8,
  checkpointEvery: 2,
  logEvery: 1,
  warmupImages: 16,
};

describe('EDM teacher training', function () {
  this.timeout(120_000);
  const data = smallSet(40);
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sfd-teacher-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('computes the EDM loss λ(σ)·‖D − x₀‖² through the effective target', () => {
    const net = (xin: tf.Tensor4D, cNoise: tf.Tensor1D) => xin.mul(0.7).add(cNoise.reshape([-1, 1, 1, 1]));
    const x0 = tf.randomUniform([3, 4, 4, 1], -1, 1, 'float32', 1) as tf.Tensor4D;
    const n = tf.randomNormal([3, 4, 4, 1], 0, 1, 'float32', 2) as tf.Tensor4D;
    const sigmas = Float32Array.from([0.05, 0.8, 12]);
    const got = edmLoss(net, x0, sigmas, n).dataSync()[0];
    // Direct form: per sample, D through edmPrecond at that σ, weighted by λ = (σ²+σd²)/(σσd)².
    let want = 0;
    for (let i = 0; i < 3; i++) {
      const s = sigmas[i];
      const xi = x0.slice(i, 1);
      const y = xi.add(n.slice(i, 1).mul(s));
      const d = edmPrecond((xin, cNoise) => xin.mul(0.7).add(cNoise as number))(y, s);
      const lambda = (s * s + 0.25) / (s * 0.5) ** 2;
      want += (lambda * d.sub(xi).square().mean().dataSync()[0]) / 3;
    }
    assertClose([got], [want], 2e-5, 0, 'EDM loss');
  });

  it('walks the data in the same order as mnistEpoch, step by step across epochs', () => {
    const epoch1 = [...mnistEpoch(data, 8, 3, 1)];
    const perEpoch = 5;
    const a = mnistStepBatch(data, 8, 3, perEpoch + 2);
    assert.equal(a.epoch, 1);
    assert.deepEqual(Array.from(a.labels), Array.from(epoch1[2].labels));
    tf.dispose([a.x, ...epoch1.map((b) => b.x)]);
  });

  it('Adam matches the textbook update and EMA follows its half-life', () => {
    const w = new Map([['w', tf.variable(tf.tensor1d([1, -2]))]]);
    const adam = new Adam(w);
    const g = tf.tensor1d([0.5, -0.1]);
    adam.apply(new Map([['w', g]]), 0.1);
    // First step: m̂ = g, v̂ = g², update = lr·g/(|g| + ε) ≈ lr·sign(g).
    assertClose(Array.from(w.get('w')?.dataSync() ?? []), [1 - 0.1, -2 + 0.1], 1e-6, 0, 'adam step 1');
    const ema = new Ema(w, 100);
    assert.equal(ema.beta(10, 0), 0, 'no averaging before any image is seen');
    assertClose([ema.beta(100, 1e6)], [0.5], 1e-12, 0, 'one half-life per 100 images');
    adam.dispose();
    ema.dispose();
    tf.dispose([g, ...w.values()]);
  });

  it("Adam's minimize steps on the loss's gradient and returns the loss", () => {
    // L = Σ (w − t)²: on the first step Adam moves each weight by lr toward its target
    const w = new Map<string, tf.Variable>([
      ['a', tf.variable(tf.tensor1d([1, -2]))],
      ['b', tf.variable(tf.scalar(3))],
    ]);
    const adam = new Adam(w);
    const loss = adam.minimize(
      () =>
        (w.get('a') as tf.Variable)
          .square()
          .sum()
          .add((w.get('b') as tf.Variable).sub(5).square()) as tf.Scalar,
      0.1,
    );
    assertClose([loss.dataSync()[0]], [1 + 4 + 4], 1e-6, 0, 'loss before the step');
    assertClose(Array.from(w.get('a')?.dataSync() ?? []), [0.9, -1.9], 1e-6, 0, 'a');
    assertClose([w.get('b')?.dataSync()[0] ?? Number.NaN], [3.1], 1e-6, 0, 'b');
    adam.dispose();
    tf.dispose([loss, ...w.values()]);
  });

  it('the fused native Adam and EMA kernels follow the op-by-op updates (cpu) over several steps', async function () {
    const run = async (backend: string) => {
      const prev = tf.getBackend();
      await tf.setBackend(backend);
      try {
        const w = new Map([['w', tf.variable(randn([3, 257], 1))]]);
        const adam = new Adam(w, { beta1: 0.8, beta2: 0.99, epsilon: 1e-3 });
        const ema = new Ema(w, 100);
        for (let s = 0; s < 4; s++) {
          const g = randn([3, 257], 10 + s).mul(s + 1);
          adam.apply(new Map([['w', g]]), 0.05 * (s + 1));
          ema.update(w, 10, 1000 * (s + 1));
          g.dispose();
        }
        const out = [w.get('w'), adam.m.get('w'), adam.v.get('w'), ema.weights.get('w')].map((t) =>
          Array.from(t?.dataSync() ?? []),
        );
        adam.dispose();
        ema.dispose();
        tf.dispose([...w.values()]);
        return out;
      } finally {
        await tf.setBackend(prev);
      }
    };
    if (!tf.getKernel('SfdAdam', NATIVE_BACKEND)) this.skip(); // no addon: only the op path exists
    const [fused, ops] = [await run(NATIVE_BACKEND), await run('cpu')];
    ['weight', 'm', 'v', 'EMA'].forEach((what, i) => {
      assertClose(fused[i], ops[i], 1e-5, 1e-6, what);
    });
  });

  it('warms the learning rate up linearly, then holds it', () => {
    const c = { ...tiny, lr: 1e-3, batch: 8, warmupImages: 80 };
    assertClose([learningRate(c, 0), learningRate(c, 4), learningRate(c, 50)], [1e-4, 5e-4, 1e-3], 1e-12);
  });

  it('resumes a stopped run exactly: same weights as an uninterrupted run', async () => {
    const straight = join(dir, 'straight');
    const resumed = join(dir, 'resumed');
    await trainTeacher({ config: tiny, out: straight, data, snapshotEvery: 2 });
    await trainTeacher({ config: { ...tiny, steps: 2 }, out: resumed, data });
    const r = await trainTeacher({ config: tiny, out: resumed, data, resume: true });
    assert.equal(r.step, 4);
    const a = loadUNet(straight);
    const b = loadUNet(resumed);
    for (const [k, v] of a.unet.weights)
      assert.deepEqual(Array.from(v.dataSync()), Array.from(b.unet.weights.get(k)?.dataSync() ?? []), k);
    assert.equal(a.sha256, b.sha256);
    assert.equal(r.losses.length, 4, 'the loss curve continues across the resume');
    // snapshots: the EMA model at steps 2 and 4, the last one equal to the final model
    assert.deepEqual(readdirSync(join(straight, 'snapshots')), ['step-0000002', 'step-0000004']);
    assert.equal(loadUNetSha(join(straight, 'snapshots', 'step-0000004')), a.sha256);
    // Only the newest checkpoint binary is kept.
    assert.deepEqual(
      readdirSync(join(resumed, 'checkpoint'))
        .filter((f) => f.endsWith('.bin'))
        .sort(),
      ['checkpoint-0000004.bin'],
    );
    a.unet.dispose();
    b.unet.dispose();
  });

  it('refuses to overwrite a run, to resume a different configuration, and a corrupt checkpoint', async () => {
    await trainTeacher({ config: { ...tiny, steps: 2 }, out: dir, data });
    await assert.rejects(trainTeacher({ config: tiny, out: dir, data }), /already holds a model or run/);
    await assert.rejects(
      trainTeacher({ config: { ...tiny, lr: 5e-4 }, out: dir, data, resume: true }),
      /was made with lr = 0.002, this run has 0.0005 \(only --steps may change\)/,
    );
    // a checkpoint of another kind (a model file renamed) is refused by its format
    const foreign = join(dir, 'foreign');
    mkdirSync(join(foreign, 'checkpoint'), { recursive: true });
    copyFileSync(join(dir, 'model.json'), join(foreign, 'checkpoint', 'checkpoint.json'));
    copyFileSync(join(dir, 'weights.bin'), join(foreign, 'checkpoint', 'weights.bin'));
    await assert.rejects(
      trainTeacher({ config: tiny, out: foreign, data, resume: true }),
      /is a 'sfd-unet' file, not a sfd-teacher-checkpoint/,
    );
    const bin = join(dir, 'checkpoint', 'checkpoint-0000002.bin');
    const bytes = readFileSync(bin);
    bytes[100] ^= 0xff;
    writeFileSync(bin, bytes);
    await assert.rejects(
      trainTeacher({ config: tiny, out: dir, data, resume: true }),
      /corrupt or was changed/,
    );
    await assert.rejects(
      trainTeacher({ config: tiny, out: join(dir, 'none'), data, resume: true }),
      /no checkpoint/,
    );
  });

  it('stops on a non-finite loss and leaves the last checkpoint intact', async () => {
    // The first step's loss is finite (it is computed before the huge update) and checkpointed.
    const bad = { ...tiny, lr: 1e30, warmupImages: 0, steps: 50, checkpointEvery: 1 };
    await assert.rejects(trainTeacher({ config: bad, out: dir, data }), /diverged: loss .* at step 1/);
    assert.ok(existsSync(join(dir, 'checkpoint', 'checkpoint-0000001.bin')));
  });

  it('continues another run into a new directory (--from), leaving the source untouched', async () => {
    const src = join(dir, 'src');
    const straight = join(dir, 'straight');
    await trainTeacher({ config: tiny, out: straight, data });
    await trainTeacher({ config: { ...tiny, steps: 2 }, out: src, data });
    const before = readdirSync(join(src, 'checkpoint')).sort();
    const srcSha = loadUNet(src).sha256;
    const cont = join(dir, 'cont');
    await trainTeacher({ config: tiny, out: cont, data, resume: true, resumeFrom: src });
    assert.deepEqual(readdirSync(join(src, 'checkpoint')).sort(), before);
    const s = loadUNet(src);
    assert.equal(s.sha256, srcSha);
    s.unet.dispose();
    const a = loadUNet(straight);
    const b = loadUNet(cont);
    assert.equal(a.sha256, b.sha256, 'continuing elsewhere equals the uninterrupted run');
    a.unet.dispose();
    b.unet.dispose();
    // the destination must be fresh
    await assert.rejects(
      trainTeacher({ config: { ...tiny, steps: 6 }, out: straight, data, resume: true, resumeFrom: src }),
      /already holds a model or run/,
    );
  });

  it('the shipped teacher: `sfd train-teacher` with no options is its configuration, and its checkpoint continues it', async () => {
    const shipped = join(repoRoot(), 'data', 'teacher-mnist');
    const card = JSON.parse(readFileSync(join(shipped, 'model.json'), 'utf8'));
    assert.equal(canonicalJson(teacherConfigFromArgs({})), canonicalJson(card.training));
    const ck = JSON.parse(readFileSync(join(shipped, 'checkpoint', 'checkpoint.json'), 'utf8'));
    assert.equal(ck.step, card.steps, 'the checkpoint is the final state');
    // one more step from the shipped checkpoint, into a new directory (full MNIST train: the run's data)
    const r = await trainTeacher({
      config: { ...card.training, steps: card.steps + 1 },
      out: join(dir, 'more'),
      resume: true,
      resumeFrom: shipped,
    });
    assert.equal(r.step, card.steps + 1);
    assert.equal(r.losses.at(-1)?.step, card.steps + 1);
  });

  it('never writes into the shipped teacher: resuming it in place is refused with the way to continue it', async () => {
    await assert.rejects(
      trainTeacher({ config: tiny, out: join(repoRoot(), 'data', 'teacher-mnist'), data, resume: true }),
      /is shipped with the project and is never written to; continue it into a new directory: --resume --from/,
    );
    await assert.rejects(
      trainTeacher({ config: tiny, out: join(repoRoot(), 'data', 'teacher-mnist'), data }),
      /is shipped with the project/,
    );
  });
});
