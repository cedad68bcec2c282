import { strict as assert } from 'node:assert';
import { pdDefaults } from '../../lib/baselines/progressiveDistillation';
import { PD_HELP, pdCommand, pdConfigFromArgs } from '../../lib/cli/distillPd';

describe('sfd distill --method pd (flags)', () => {
  it('maps every flag onto the config, defaults elsewhere', () => {
    const c = pdConfigFromArgs(
      '--method pd --start-steps 128 --final-steps 1 --iterations-per-round 40 --batch 32 --lr 1e-4 --grad-clip 0 --weighting edm --seed 3 --checkpoint-every 10'.split(
        ' ',
      ),
    );
    assert.deepEqual(c, {
      ...pdDefaults,
      startSteps: 128,
      finalSteps: 1,
      iterationsPerRound: 40,
      batch: 32,
      lr: 1e-4,
      gradClip: 0,
      weighting: 'edm',
      seed: 3,
      checkpointEvery: 10,
    });
    assert.deepEqual(pdConfigFromArgs([]), pdDefaults);
    for (const flag of [
      '--start-steps',
      '--final-steps',
      '--iterations-per-round',
      '--eval-every',
      '--resume',
    ])
      assert.ok(PD_HELP.includes(flag), flag);
  });

  it('refuses bad flags and impossible runs in one line, before loading anything', async () => {
    const bad: [string, RegExp][] = [
      ['--out x --start-steps 48', /start steps 48 cannot be halved down to 2/],
      ['--out x --final-steps 2 --start-steps 2', /start steps 2 must exceed final steps 2/],
      ['--out x --batch 0', /--batch must be a positive integer, got '0'/],
      ['--out x --iterations-per-round -3', /--iterations-per-round must be a positive integer, got '-3'/],
      ['--out x --grad-clip -1', /--grad-clip must be ≥ 0/],
      ['--out x --weighting snr', /--weighting must be one of truncated-snr, edm, got 'snr'/],
      ['--out x --method cd', /--method must be pd for this command, got 'cd'/],
      ['--out x --nfe 2', /Unknown option '--nfe'/],
      ['--start-steps 64', /PD needs --out DIR/],
    ];
    for (const [args, re] of bad)
      await assert.rejects(
        pdCommand(args.split(' ')),
        (e: Error) => re.test(e.message) && !e.message.includes('\n'),
      );
  });
});
