import { strict as assert } from 'node:assert';
import {
  type TimestampTransferResult,
  timestampTransferDefaults,
  timestampTransferFindings,
} from '../../lib/experiments/timestampTransfer';

describe('timestamp-transfer findings', () => {
  it('compare each student at the timestamp its step lands on and at the others, skipping the AFS one', () => {
    const r: TimestampTransferResult = {
      config: timestampTransferDefaults,
      ts: [26, 6.8, 1.3, 0.15, 0.006],
      rows: [
        { trainedStep: null, trainedT: null, l2: [10, 4, 4, 4, 4], seconds: 0 },
        // step 1 calls the network at t = 26 (after the AFS step) and lands on t = 6.8
        { trainedStep: 1, trainedT: 26, l2: [10, 2, 3, 5, 4], seconds: 1 },
      ],
    };
    const [line] = timestampTransferFindings(r);
    assert.match(line, /^Tuned at t = 26\.0: -50 % at t = 6\.80 \(where its step lands\)/);
    assert.match(
      line,
      /lower at 1 of the 3 other timestamps \(-25 % at t = 1\.30, 25 % at t = 0\.150, 0 % at t = 0\.00600\)/,
    );
  });
});
