import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { checkCard, isStudentCard, readCard, studentSfd } from '../../lib/models/card';
import { createUNet } from '../../lib/models/unet';
import { loadUNet, saveUNet } from '../../lib/models/unetFiles';
import { repoRoot } from '../../lib/runtime/paths';

const data = join(repoRoot(), 'data');
const studentsDir = join(data, 'students');
const shippedStudents = readdirSync(studentsDir).filter((n) => !n.startsWith('.'));
const reEscape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('model cards: one typed reader', () => {
  it("reads the shipped teacher's card as a teacher's, with its training and evaluations typed", () => {
    const card = readCard(join(data, 'teacher-mnist'));
    assert.equal(card.format, 'sfd-unet');
    assert.ok(!isStudentCard(card));
    assert.equal(studentSfd(card), undefined);
    assert.equal(card.config.resolution, 28);
    assert.equal(typeof card.params, 'number');
    assert.match(card.sha256 ?? '', /^[0-9a-f]{64}$/);
    assert.equal(typeof card.steps, 'number');
    assert.ok((card.losses?.length ?? 0) > 0 && typeof card.losses?.[0].loss === 'number');
    assert.ok((card.evaluation?.length ?? 0) > 0 && typeof card.evaluation?.[0].fid === 'number');
  });

  it('finds the shipped students', () => assert.ok(shippedStudents.length >= 1));

  for (const name of shippedStudents)
    it(`reads the shipped student ${name}'s card as a student's, its sfd section typed`, () => {
      const card = readCard(join(studentsDir, name));
      assert.ok(isStudentCard(card));
      const sfd = studentSfd(card);
      assert.ok(sfd);
      assert.ok(sfd.stage === 1 || sfd.stage === 2);
      assert.ok(sfd.sampling.nfes.length > 0 && sfd.sampling.nfes.every((n) => Number.isInteger(n)));
      assert.equal(typeof sfd.sampling.afs, 'boolean');
      assert.deepEqual(
        [...sfd.config.nfes].sort((a, b) => a - b),
        sfd.sampling.nfes,
      );
      assert.equal(typeof card.teacher.dir, 'string');
      assert.match(card.teacher.sha256, /^[0-9a-f]{64}$/);
      assert.equal(typeof card.iterations, 'number');
      assert.ok(card.log.length > 0 && Array.isArray(card.log[0].stepLosses));
      assert.ok(card.evals.every((e) => typeof e.fid === 'number'));
      assert.match(card.sha256 ?? '', /^[0-9a-f]{64}$/);
    });

  describe('refuses a bad card, naming the file and the field', () => {
    let dir: string;
    let student: Record<string, unknown>;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'sfd-card-'));
      student = JSON.parse(readFileSync(join(studentsDir, shippedStudents[0], 'model.json'), 'utf8'));
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));
    const write = (text: string) => writeFileSync(join(dir, 'model.json'), text);
    const refused = (field: string, re: RegExp) =>
      assert.throws(
        () => readCard(dir),
        (e: Error) => {
          assert.ok(!e.message.includes('\n'), 'one line');
          assert.match(e.message, new RegExp(reEscape(join(dir, 'model.json'))));
          assert.match(e.message, new RegExp(`field '${reEscape(field)}'`));
          assert.match(e.message, re);
          return true;
        },
      );

    it('a field of the wrong type', () => {
      write(JSON.stringify({ ...student, params: '650033' }));
      refused('params', /should be a number, not the string "650033"/);
    });

    it("a wrong type deep in a student's sfd section", () => {
      const sfd = student.sfd as { sampling: Record<string, unknown> };
      write(JSON.stringify({ ...student, sfd: { ...sfd, sampling: { ...sfd.sampling, nfes: 2 } } }));
      refused('sfd.sampling.nfes', /should be an array of numbers, not number 2/);
    });

    it("a student's card without its teacher", () => {
      write(JSON.stringify({ ...student, teacher: undefined }));
      refused('teacher', /is missing/);
    });

    it('a wrong config', () => {
      write(JSON.stringify({ ...student, config: { ...(student.config as object), channels: [16, '32'] } }));
      refused('config.channels', /should be an array of numbers/);
    });

    it('a card of another format', () => {
      write(JSON.stringify({ ...student, format: 'sfd-feature-net' }));
      assert.throws(
        () => readCard(dir),
        new RegExp(
          `^Error: ${reEscape(join(dir, 'model.json'))} is not an sfd-unet model \\(format: the string "sfd-feature-net"\\)$`,
        ),
      );
      write(JSON.stringify({ config: student.config }));
      assert.throws(() => readCard(dir), /is not an sfd-unet model \(format: missing\)/);
    });

    it('a file that is not JSON, or missing', () => {
      write('{"format": "sfd-unet",');
      assert.throws(
        () => readCard(dir),
        new RegExp(`${reEscape(join(dir, 'model.json'))} is not valid JSON`),
      );
      write('[1, 2]');
      assert.throws(() => readCard(dir), /is not the model\.json of .* \(a JSON object\)/);
      const empty = join(dir, 'empty');
      mkdirSync(empty);
      assert.throws(() => readCard(empty), /the model\.json of .* not found/);
    });

    it('checkCard refuses a non-object', () => {
      assert.throws(() => checkCard(null, 'x/model.json'), /^Error: x\/model\.json is not a model card/);
    });
  });

  it('a card saved by saveUNet reads back typed, and loadUNet checks it too', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sfd-card-'));
    const cfg = {
      resolution: 8,
      inChannels: 1,
      channels: [4],
      blocksPerLevel: 1,
      attention: false,
      groups: 2,
      embedDim: 8,
      stepCondition: false,
    };
    const u = createUNet(cfg, 0);
    try {
      const sha = await saveUNet(dir, u.weights, cfg, { command: 'test', steps: 3 });
      const card = readCard(dir);
      assert.equal(card.sha256, sha);
      assert.equal(card.steps, 3);
      assert.ok(!isStudentCard(card));
      const loaded = loadUNet(dir);
      assert.equal(loaded.card.command, 'test');
      loaded.unet.dispose();
      const j = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
      writeFileSync(join(dir, 'model.json'), JSON.stringify({ ...j, steps: 'three' }));
      const before = tf.memory().numTensors;
      assert.throws(
        () => loadUNet(dir),
        /model\.json: field 'steps' should be a number, not the string "three"/,
      );
      assert.equal(tf.memory().numTensors, before, 'the loaded tensors are freed');
    } finally {
      u.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
