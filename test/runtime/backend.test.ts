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

  it('without tfjs-node installed, the default here is wasm, not the slow pure-JS cpu backend', async function () {
    const info = await initBackend();
    if (info.forced) this.skip();
    const nodeBackend = info.attempts.some((a) => a.name.startsWith('tensorflow') && a.ok);
    if (!nodeBackend) assert.equal(info.choice, 'wasm');
  });
});
