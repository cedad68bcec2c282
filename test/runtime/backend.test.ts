import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs';
import { BACKEND_ORDER, describeBackend, initBackend } from '../../lib/runtime/backend';

describe('backend choice', () => {
  it('uses the first backend in preference order that loads, and records why others did not', async () => {
    const info = await initBackend();
    assert.equal(tf.getBackend(), info.backend);
    const chosen = BACKEND_ORDER.indexOf(info.choice);
    assert.deepEqual(
      info.attempts.map((a) => a.name),
      info.forced ? [info.choice] : BACKEND_ORDER.slice(0, chosen + 1),
    );
    for (const a of info.attempts.slice(0, -1)) assert.ok(a.reason, `${a.name} failed without a reason`);
    assert.match(describeBackend(info), new RegExp(`^tfjs backend: ${info.choice} `));
  });

  it('names the reason in its one line when the native backend is missing', () => {
    const line = describeBackend({
      backend: 'wasm',
      choice: 'wasm',
      forced: false,
      attempts: [
        { name: 'tensorflow-gpu', ok: false, reason: 'x' },
        { name: 'tensorflow', ok: false, reason: 'y' },
        { name: 'native', ok: false, reason: 'native addon not built' },
        { name: 'wasm', ok: true },
      ],
    });
    assert.equal(line.split('\n').length, 1);
    assert.match(line, /^tfjs backend: wasm \(.*native unavailable: native addon not built/);
  });
});
