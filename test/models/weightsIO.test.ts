import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { loadWeights, readJsonFile, saveWeights } from '../../lib/models/weightsIO';

describe('weights files: every one checked by its sha256, and named when unreadable', () => {
  let dir: string;
  let json: string;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sfd-weights-'));
    json = join(dir, 'model.json');
    const t = tf.tensor1d([1, 2, 3]);
    await saveWeights(json, 'weights.bin', new Map([['w', t]]), { format: 'test' });
    t.dispose();
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const stripHash = () => {
    const j = JSON.parse(readFileSync(json, 'utf8'));
    delete j.sha256;
    writeFileSync(json, JSON.stringify(j));
  };

  it('loads what saveWeights wrote', () => {
    const f = loadWeights(json);
    assert.deepEqual(Array.from(f.tensors.get('w')?.dataSync() ?? []), [1, 2, 3]);
    tf.dispose([...f.tensors.values()]);
  });

  it('refuses a file without a sha256 (its binary cannot be checked) unless loaded unchecked', () => {
    stripHash();
    writeFileSync(join(dir, 'weights.bin'), new Uint8Array(new Float32Array([9, 9, 9]).buffer));
    assert.throws(() => loadWeights(json), /carries no sha256 of weights\.bin.*--unchecked/);
    const f = loadWeights(json, { unchecked: true });
    assert.deepEqual(Array.from(f.tensors.get('w')?.dataSync() ?? []), [9, 9, 9]);
    tf.dispose([...f.tensors.values()]);
  });

  it('refuses a changed binary', () => {
    writeFileSync(join(dir, 'weights.bin'), new Uint8Array(new Float32Array([9, 9, 9]).buffer));
    assert.throws(() => loadWeights(json), /weights\.bin is corrupt or was changed: sha256/);
  });

  it('names a file that is not JSON, and what it should have been', () => {
    writeFileSync(json, '{"weightsManifest": [');
    assert.throws(
      () => loadWeights(json, { what: 'the model.json of DIR' }),
      /model\.json is not valid JSON \(expected the model\.json of DIR\): /,
    );
  });

  it('says a PNG or other binary is not JSON instead of printing its bytes', () => {
    const png = join(dir, 'grid.png');
    writeFileSync(png, Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0]));
    assert.throws(
      () => readJsonFile(png, 'a samples file'),
      /^Error: \S+grid\.png is a PNG image, not a samples file \(a JSON file\)$/,
    );
    const bin = join(dir, 'weights.bin');
    assert.throws(() => readJsonFile(bin, 'a samples file'), /is binary data, not a samples file/);
  });
});
