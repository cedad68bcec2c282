import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { sampleImages } from '../../lib/diffusion/sampleImages';
import { loadImageTeacher } from '../../lib/models/teachers';
import { loadUNet } from '../../lib/models/unetFiles';
import { checkSfdConfig, type SfdConfig, sfdDefaults } from '../../lib/sfd/config';
import { sfdIteration } from '../../lib/sfd/iteration';
import { officialCommand } from '../../lib/sfd/officialCommand';
import { studentSampler } from '../../lib/sfd/sampleStudent';
import { stage2Config } from '../../lib/sfd/stage2';
import { studentFromTeacher } from '../../lib/sfd/student';
import { trainSfd } from '../../lib/sfd/train';
import { Adam } from '../../lib/train/adam';
import { saveTinyMnistTeacher } from '../helpers';

const tiny: SfdConfig = {
  ...sfdDefaults,
  batch: 2,
  iterations: 4,
  checkpointEvery: 2,
  lr: { lr: 1e-3, warmupImages: 0, drops: [{ atFraction: 0.5, factor: 0.1 }] },
};

describe('SFD trainer (tiny MNIST-shaped teacher)', function () {
  this.timeout(120_000);
  let dir: string;
  let teacherDir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sfd-distill-'));
    teacherDir = join(dir, 'teacher');
    await saveTinyMnistTeacher(teacherDir);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('an NFE-2 iteration with AFS makes exactly 2 updates and 12 teacher calls (K = 4), and leaks no tensors', async () => {
    const teacher = loadImageTeacher(teacherDir);
    const student = studentFromTeacher(teacher.unet, 'none');
    const adam = new Adam(student.weights);
    const ctx = { cfg: tiny, teacher: () => teacher.denoise, student, adam, shape: teacher.shape };
    await sfdIteration(ctx, 0, 1e-3); // warm-up (kernels, pooled buffers)
    const before = tf.memory().numTensors;
    const r = await sfdIteration(ctx, 1, 1e-3);
    assert.equal(tf.memory().numTensors, before, 'no tensor leak across iterations');
    assert.equal(r.updates, 2);
    assert.equal(r.teacherCalls, 12);
    assert.equal(r.studentCalls, 2);
    assert.equal(r.stepLosses.length, 3, 'the AFS step is logged too');
    adam.dispose();
    student.dispose();
    teacher.unet.dispose();
  });

  it('the student starts as an exact copy of its teacher', () => {
    const teacher = loadImageTeacher(teacherDir);
    const student = studentFromTeacher(teacher.unet, 'step');
    const x = tf.randomNormal([2, 28, 28, 1], 0, 3, 'float32', 5);
    const a = teacher.denoise(x, 2.5);
    const b = student.denoise(x, 2.5, { step: 4 });
    assert.deepEqual(Array.from(b.dataSync()), Array.from(a.dataSync()));
    tf.dispose([x, a, b]);
    student.dispose();
    teacher.unet.dispose();
  });

  it('losses fall: the same held-out trajectory’s loss is lower after training', async () => {
    const teacher = loadImageTeacher(teacherDir);
    const student = studentFromTeacher(teacher.unet, 'none');
    const adam = new Adam(student.weights);
    const cfg = { ...tiny, batch: 4 };
    const ctx = { cfg, teacher: () => teacher.denoise, student, adam, shape: teacher.shape };
    const heldOut = async () => {
      const r = await sfdIteration({ ...ctx, adam: new Adam(student.weights) }, 9999, 0);
      return r.stepLosses.reduce((a, b) => a + b, 0);
    };
    const before = await heldOut();
    for (let i = 0; i < 30; i++) await sfdIteration(ctx, i, 3e-4);
    const after = await heldOut();
    assert.ok(after < 0.9 * before, `held-out loss ${before} → ${after}`);
    adam.dispose();
    student.dispose();
    teacher.unet.dispose();
  });

  it('resume reproduces the uninterrupted run bit for bit, and the card says how to sample', async () => {
    const straight = join(dir, 'straight');
    const resumed = join(dir, 'resumed');
    await trainSfd({ config: tiny, teacher: teacherDir, out: straight });
    await trainSfd({ config: tiny, teacher: teacherDir, out: resumed, stopAt: 2 });
    await assert.rejects(
      trainSfd({ config: tiny, teacher: teacherDir, out: resumed }),
      /already holds a model or run/,
    );
    await assert.rejects(
      trainSfd({ config: { ...tiny, k: 3 }, teacher: teacherDir, out: resumed, resume: true }),
      /was made with k = 4, this run has 3 \(only --iterations may change\)/,
    );
    // the run is past the learning-rate drop (iteration 3 of 4): moving it by changing --iterations is refused
    await trainSfd({ config: tiny, teacher: teacherDir, out: join(dir, 'r3'), stopAt: 3 });
    await assert.rejects(
      trainSfd({
        config: { ...tiny, iterations: 8 },
        teacher: teacherDir,
        out: join(dir, 'r3'),
        resume: true,
      }),
      /would move the learning-rate drop from iteration 3 to 5, which this run \(at 3\) has already passed/,
    );
    const r = await trainSfd({ config: tiny, teacher: teacherDir, out: resumed, resume: true });
    assert.equal(r.iterations, 4);
    const a = loadUNet(straight);
    const b = loadUNet(resumed);
    assert.equal(a.sha256, b.sha256);
    const card = JSON.parse(readFileSync(join(resumed, 'model.json'), 'utf8'));
    assert.deepEqual(card.sfd.sampling.nfes, [2]);
    assert.equal(card.sfd.stage, 1);
    assert.equal(card.log.length, 4);
    assert.ok(card.iterationsPerSecond > 0);
    a.unet.dispose();
    b.unet.dispose();
  });

  describe('SFD-v and stage 2 (students trained once for these tests)', () => {
    const vDir = (condition: string) => join(dir, `v-${condition}`);
    const nfesDrawn: Record<string, number[]> = {};
    before(async () => {
      for (const condition of ['step', 'tnext'] as const) {
        const r = await trainSfd({
          config: { ...tiny, nfes: [2, 3, 5], condition, iterations: 6 },
          teacher: teacherDir,
          out: vDir(condition),
        });
        nfesDrawn[condition] = r.log.map((l) => l.nfe);
      }
    });
    /** The card and a cheap stand-in denoiser (D(x) = x, still calling the UNet with the condition). */
    function vStudent(condition: string) {
      const s = loadUNet(vDir(condition));
      const card = JSON.parse(readFileSync(join(vDir(condition), 'model.json'), 'utf8'));
      const denoise = (x: tf.Tensor, t: number, c?: { step?: number; tNext?: number }) =>
        tf.tidy(() =>
          s.unet
            .net(x.mul(1 / Math.sqrt(t * t + 0.25)), Math.log(t) / 4, c)
            .mul(0)
            .add(x),
        );
      return { s, card, denoise };
    }

    it('SFD-v draws a new NFE per iteration (step and tnext)', () => {
      for (const condition of ['step', 'tnext']) assert.ok(new Set(nfesDrawn[condition]).size > 1);
    });

    it('an SFD-v student is saved step-conditioned (step and tnext)', () => {
      for (const condition of ['step', 'tnext']) {
        const s = loadUNet(vDir(condition));
        assert.equal(s.unet.config.stepCondition, true);
        s.unet.dispose();
      }
    });

    it('an SFD-v student samples at one of its NFEs with exactly that many calls', async () => {
      for (const condition of ['step', 'tnext']) {
        const { s, card, denoise } = vStudent(condition);
        const sampler = studentSampler(denoise, card.sfd.sampling, 3);
        const imgs = await sampleImages(sampler.denoise, [28, 28, 1], 2, 0, sampler.sampling);
        assert.equal(imgs.nfe, 3);
        s.unet.dispose();
      }
    });

    it('an SFD-v student refuses an NFE it was not trained for', () => {
      const { s, card, denoise } = vStudent('step');
      assert.throws(() => studentSampler(denoise, card.sfd.sampling, 4), /trained for NFE 2, 3, 5, not 4/);
      s.unet.dispose();
    });

    it('stage 2 distils the 5-NFE end of a step-cond SFD-v student with an Euler teacher, K = 3, its condition', async () => {
      const s2 = await trainSfd({
        config: { ...tiny, nfes: [1], loss: 'l1+lpips', iterations: 2 },
        teacher: vDir('step'),
        out: join(dir, 'stage2'),
        stage: 2,
      });
      assert.deepEqual([s2.config.k, s2.config.teacherSolver, s2.config.condition], [3, 'euler', 'step']);
    });

    it('stage 2’s official command runs the 5-NFE teacher on a 7-point grid: --M=2 (K = 3)', () => {
      const card = JSON.parse(readFileSync(join(vDir('step'), 'model.json'), 'utf8'));
      const oc = officialCommand(stage2Config(card.sfd, 'v-step', { ...tiny, nfes: [1] }), { stage: 2 });
      assert.match(oc.command, /--num_steps=3 --M=2 --sampler_tea=euler .*--is_second_stage=True/);
    });

    it('stage 2 refuses a teacher that is not an SFD student', async () => {
      await assert.rejects(
        trainSfd({ config: { ...tiny, nfes: [1] }, teacher: teacherDir, out: join(dir, 'bad2'), stage: 2 }),
        /stage 2 distils a stage-1 SFD or SFD-v student; .* is not an SFD student/,
      );
    });

    it('stage 2 refuses a stage-2 student as its teacher', async () => {
      await trainSfd({
        config: { ...tiny, nfes: [1], iterations: 1 },
        teacher: vDir('step'),
        out: join(dir, 'stage2-once'),
        stage: 2,
      });
      await assert.rejects(
        trainSfd({
          config: { ...tiny, nfes: [1] },
          teacher: join(dir, 'stage2-once'),
          out: join(dir, 'bad3'),
          stage: 2,
        }),
        /is a stage-2 student/,
      );
    });
  });

  it('bad configurations fail at once with a one-line reason', () => {
    const bad: [Partial<SfdConfig>, RegExp][] = [
      [{ nfes: [0] }, /student NFE must be a positive integer, got 0/],
      [{ k: 0 }, /K \(teacher steps per student step\) must be a positive integer/],
      [{ nfes: [2, 3] }, /SFD-v .* needs a step-conditioned student/],
      [{ teacherSolver: 'euler', teacherThreshold: true }, /has no dynamic thresholding/],
      [{ teacherSolver: 'rk9' }, /unknown solver 'rk9'/],
      [{ onlySteps: [0] }, /step 0 is the analytical first step/],
      [{ onlySteps: [3] }, /step 3 outside 0…2/],
      [{ loss: 'huber' as never }, /unknown loss 'huber'/],
    ];
    for (const [over, re] of bad) assert.throws(() => checkSfdConfig({ ...sfdDefaults, ...over }), re);
  });
});
