import { strict as assert } from 'node:assert';
import { checkResumable } from '../../lib/train/runDir';
import { firstDifference } from '../../lib/util/configDiff';

describe('resume checks name what changed', () => {
  const cfg = { iterations: 8, batch: 16, lr: { lr: 5e-4, drops: [{ atFraction: 0.5 }] }, nfes: [2] };

  it('firstDifference finds the first differing setting by dotted path, or null', () => {
    assert.equal(firstDifference(cfg, structuredClone(cfg)), null);
    assert.deepEqual(firstDifference(cfg, { ...cfg, lr: { ...cfg.lr, lr: 1e-3 } }), {
      setting: 'lr.lr',
      was: 5e-4,
      now: 1e-3,
    });
    assert.deepEqual(firstDifference(cfg, { ...cfg, nfes: [3] }), { setting: 'nfes', was: [2], now: [3] });
    assert.deepEqual(firstDifference({ a: 1 }, { a: 1, b: 2 }), { setting: 'b', was: undefined, now: 2 });
  });

  it('checkResumable names the changed setting with both values', () => {
    assert.throws(
      () => checkResumable('ck.json', cfg, { ...cfg, batch: 32 }, 'iterations', 4),
      /^Error: --resume: ck\.json was made with batch = 16, this run has 32 \(only --iterations may change\)$/,
    );
  });

  it('checkResumable lets the run length grow, and refuses it below what is done', () => {
    checkResumable('ck.json', cfg, { ...cfg, iterations: 20 }, 'iterations', 8);
    checkResumable('ck.json', cfg, { ...cfg, iterations: 8 }, 'iterations', 8);
    assert.throws(
      () => checkResumable('ck.json', cfg, { ...cfg, iterations: 4 }, 'iterations', 8),
      /ck\.json has done 8 iterations already; --iterations 4 is below that/,
    );
  });
});
