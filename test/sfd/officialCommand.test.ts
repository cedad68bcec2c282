import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { distillConfigFromArgs } from '../../lib/cli/distill';
import { defaultSchedule } from '../../lib/diffusion/schedules';
import { type SfdConfig, sfdDefaults, stage2Defaults } from '../../lib/sfd/config';
import {
  OFFICIAL_DATASETS,
  officialCommand,
  officialCommandLines,
  officialKimg,
} from '../../lib/sfd/officialCommand';
import { stage2Config } from '../../lib/sfd/stage2';

/** The official train.py's option declarations, written down by hand (facts, no code). */
interface OptionDecl {
  type: 'int' | 'float' | 'bool' | 'str' | 'choice' | 'flag';
  choices?: string[];
  min?: number;
  max?: number;
  minOpen?: boolean;
  required: boolean;
}
const DECLS: Record<string, OptionDecl> = JSON.parse(
  readFileSync(join('test', 'fixtures', 'official-sfd-train-options.json'), 'utf8'),
).options;

const BOOL = /^(true|false|1|0|yes|no|y|n|t|f|on|off)$/i;
const INT = /^[+-]?\d+$/;
const FLOAT = /^[+-]?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?$/i;

/**
 * Parses `python train.py --a=b …` as click would against the declarations: an unknown option, a value of
 * the wrong type, one out of range, a bad choice, a repeated or a missing required option all throw.
 */
function parseTrainCommand(cmd: string): Record<string, string> {
  const [py, script, ...tokens] = cmd.trim().split(/\s+/);
  if (py !== 'python' || script !== 'train.py') throw new Error(`not a train.py command: ${cmd}`);
  const got: Record<string, string> = {};
  for (const t of tokens) {
    const m = /^--([^=]+)(?:=(.*))?$/.exec(t);
    if (!m) throw new Error(`not an option: ${t}`);
    const [, name, value] = m;
    const d = DECLS[name];
    if (!d) throw new Error(`no such option: --${name}`);
    if (name in got) throw new Error(`--${name} given twice`);
    if (d.type === 'flag') {
      if (value !== undefined) throw new Error(`--${name} is a flag, got a value '${value}'`);
      got[name] = 'true';
      continue;
    }
    if (value === undefined) throw new Error(`--${name} needs a value`);
    const bad = (why: string) => new Error(`--${name}=${value}: ${why}`);
    if (d.type === 'bool' && !BOOL.test(value)) throw bad('not a boolean');
    if (d.type === 'choice' && !d.choices?.includes(value)) throw bad(`not one of ${d.choices?.join(', ')}`);
    if (d.type === 'int' || d.type === 'float') {
      if (!(d.type === 'int' ? INT : FLOAT).test(value))
        throw bad(`not ${d.type === 'int' ? 'an int' : 'a float'}`);
      const x = Number(value);
      if (d.min !== undefined && (x < d.min || (d.minOpen && x === d.min))) throw bad(`below ${d.min}`);
      if (d.max !== undefined && x > d.max) throw bad(`above ${d.max}`);
    }
    got[name] = value;
  }
  for (const [name, d] of Object.entries(DECLS))
    if (d.required && !(name in got)) throw new Error(`missing required --${name}`);
  return got;
}

/**
 * Parses, and checks what the official code asserts at run time: --max_order for the multistep teachers
 * (solvers.py:326, 429), --guidance_type for the latent teachers (training_loop.py:89, 96, 101), and
 * --model_path in stage 2 (training_loop.py:48).
 */
function assertRuns(cmd: string): Record<string, string> {
  const o = parseTrainCommand(cmd);
  const order = Number(o.max_order);
  if (o.sampler_tea === 'dpmpp' || o.sampler_tea === undefined) assert.ok(order >= 1 && order <= 3, cmd);
  if (o.sampler_tea === 'ipndm') assert.ok(order >= 1 && order <= 4, cmd);
  const guidance: Record<string, string> = { lsun_bedroom_ldm: 'uncond', ffhq_ldm: 'uncond', ms_coco: 'cfg' };
  assert.equal(o.guidance_type, guidance[o.dataset_name], cmd);
  if (/^(true|1|yes|y|t|on)$/i.test(o.is_second_stage ?? '')) assert.ok(o.model_path, cmd);
  return o;
}

/** The config `sfd distill <flags>` resolves to. */
const cfgOf = (flags: Record<string, string | boolean>): SfdConfig =>
  distillConfigFromArgs(flags as Parameters<typeof distillConfigFromArgs>[0]);

/** A stage-1 SFD-v student's card, as stage 2 reads it. */
const sfdvCard = {
  stage: 1 as const,
  config: { ...sfdDefaults, nfes: [2, 3, 4, 5], condition: 'step' as const },
  sampling: { nfes: [2, 3, 4, 5], afs: true, schedule: defaultSchedule, condition: 'step' as const },
};
const stage2Cfg = () => stage2Config(sfdvCard, 'students/v', { ...sfdDefaults, ...stage2Defaults });

describe('official sfd-main/train.py command', () => {
  describe('the train.py parser of this test', () => {
    const ok = 'python train.py --dataset_name=cifar10 --total_kimg=10 --batch=16 --lr=5e-5 --afs=True';

    it('accepts a well-formed command', () => {
      assert.deepEqual(parseTrainCommand(`${ok} --nosubdir`), {
        dataset_name: 'cifar10',
        total_kimg: '10',
        batch: '16',
        lr: '5e-5',
        afs: 'True',
        nosubdir: 'true',
      });
    });

    it('rejects what the old translation printed, and every other kind of mistake', () => {
      for (const [cmd, re] of [
        [`${ok} --batch=8`, /--batch given twice/],
        ['python train.py --dataset_name=cifar10 --total_kimg=9.6', /--total_kimg=9\.6: not an int/],
        ['python train.py --dataset_name=cifar10 --total_kimg=0', /below 1/],
        [`${ok} --k=4`, /no such option: --k/],
        [`${ok} --m=3`, /no such option: --m/],
        [`${ok} --M=-1`, /--M=-1: below 0/],
        ['python train.py --dataset_name=cifar10 --lr=0', /--lr=0: below 0/],
        [`${ok} --use_step_condition=maybe`, /not a boolean/],
        [`${ok} --sampler_tea=dpmpp-3m`, /not one of dpm, dpmpp/],
        [`${ok} --schedule_type=time-uniform`, /not one of polynomial/],
        ['python train.py --dataset_name=mnist', /not one of cifar10/],
        ['python train.py --total_kimg=10', /missing required --dataset_name/],
        [`${ok} --num_steps`, /needs a value/],
        [`${ok} --nosubdir=True`, /is a flag/],
      ] as [string, RegExp][])
        assert.throws(() => parseTrainCommand(cmd), re, cmd);
    });
  });

  it('prints commands train.py accepts for every kind of run and data set', () => {
    const runs: [string, SfdConfig, 1 | 2][] = [
      ['default SFD', cfgOf({}), 1],
      ['NFE 3, K 3', cfgOf({ nfe: '3', k: '3' }), 1],
      ['SFD-v 2,3,4,5', cfgOf({ variable: '2,3,4,5' }), 1],
      ['SFD-v 2,3', cfgOf({ variable: '2,3' }), 1],
      ['SFD-v without AFS', cfgOf({ variable: '2,3,4,5', 'no-afs': true }), 1],
      ['SFD-v K 3', cfgOf({ variable: '2,3,4,5', k: '3' }), 1],
      ['heun', cfgOf({ 'teacher-solver': 'heun' }), 1],
      ['ipndm', cfgOf({ 'teacher-solver': 'ipndm', 'no-threshold': true }), 1],
      ['stage 2', stage2Cfg(), 2],
    ];
    for (const dataset of OFFICIAL_DATASETS)
      for (const [what, cfg, stage] of runs) {
        const o = officialCommand(cfg, { dataset, stage, paper: true, stage1Dir: 'students/v' });
        const lines = officialCommandLines(o);
        const commands = lines.filter((l) => l.startsWith('python '));
        for (const c of commands) assertRuns(c);
        // every other line is a note
        assert.ok(
          lines.every((l) => l.startsWith('python ') || l.startsWith('# ')),
          `${what}, ${dataset}`,
        );
        assert.equal(parseTrainCommand(o.command).dataset_name, dataset);
        assert.equal(commands.length, dataset === 'cifar10' ? 2 : 1, `${what}, ${dataset}: the paper recipe`);
      }
  });

  it('translates the settings: NFE and K to num_steps and M, SFD-v to use_step_condition', () => {
    let o = assertRuns(officialCommand(cfgOf({ iterations: '600', batch: '16' })).command);
    assert.deepEqual(
      [o.num_steps, o.M, o.sampler_tea, o.max_order, o.afs, o.total_kimg, o.batch],
      ['4', '3', 'dpmpp', '3', 'True', '10', '16'],
    );
    assert.equal(o.use_step_condition, undefined);
    o = assertRuns(officialCommand(cfgOf({ nfe: '3', k: '3' })).command);
    assert.deepEqual([o.num_steps, o.M], ['5', '2']);
    o = assertRuns(officialCommand(cfgOf({ nfe: '3', 'no-afs': true })).command);
    assert.deepEqual([o.num_steps, o.afs], ['4', 'False']);
    o = assertRuns(officialCommand(cfgOf({ variable: '2,3,4,5' })).command);
    assert.deepEqual([o.num_steps, o.M, o.use_step_condition], ['4', '3', 'True']);
  });

  it('notes the whole-kimg rounding and what it changes', () => {
    const o = officialCommand(cfgOf({ iterations: '600', batch: '16' }));
    assert.ok(
      o.notes.some((n) =>
        n.includes('600 iterations × batch 16 = 9.6 kimg → 10 kimg = 625 iterations, 25 more'),
      ),
      o.notes.join('\n'),
    );
    assert.deepEqual(officialKimg(600, 16), {
      kimg: 10,
      iterations: 625,
      perIteration: 16,
      note: 'total_kimg is a whole number ≥ 1 (train.py:20), so 600 iterations × batch 16 = 9.6 kimg → 10 kimg = 625 iterations, 25 more',
    });
    // a whole kimg changes nothing: no note
    assert.deepEqual(officialKimg(625, 16), { kimg: 10, iterations: 625, perIteration: 16 });
    assert.ok(
      !officialCommand(cfgOf({ iterations: '625', batch: '16' })).notes.some((n) => n.includes('kimg')),
    );
    // under 1 kimg rounds up to train.py's minimum
    assert.match(
      officialKimg(10, 2).note ?? '',
      /10 iterations × batch 2 = 0\.02 kimg → 1 kimg = 500 iterations, 490 more/,
    );
    // ms_coco accumulates 128 // batch rounds per iteration (training_loop.py:227)
    assert.match(
      officialKimg(600, 16, 'ms_coco').note ?? '',
      /9\.6 kimg → 10 kimg = 79 iterations of 8 × 16 = 128 trajectories .*, 521 fewer$/,
    );
    assert.match(
      officialKimg(625, 16, 'ms_coco').note ?? '',
      /^625 iterations × batch 16 = 10 kimg = 79 iterations/,
    );
    const big = officialCommand({ ...cfgOf({}), batch: 256 }, { dataset: 'ms_coco' });
    assert.ok(big.unmatched.some((u) => u.startsWith('batch 256 with ms_coco')));
  });

  it('flags the SFD-v settings the official loop does not honour (num_steps 4…7, M = 3)', () => {
    const flagged = (flags: Record<string, string | boolean>) => officialCommand(cfgOf(flags)).unmatched;
    const sfdv = (u: string[]) => u.filter((x) => /NFE list|^K = |step-conditioned student for NFE/.test(x));
    assert.deepEqual(sfdv(flagged({ variable: '2,3,4,5' })), []);
    assert.deepEqual(sfdv(flagged({ variable: '5,4,3,2' })), []);
    assert.deepEqual(sfdv(flagged({ variable: '2,3' })), [
      'NFE list 2,3 (the official loop always draws num_steps 4…7: NFE 2, 3, 4, 5 with AFS)',
    ]);
    assert.deepEqual(sfdv(flagged({ variable: '2,3,4,5', 'no-afs': true })), [
      'NFE list 2,3,4,5 without AFS (the official loop draws num_steps 4…7 whatever --afs says: NFE 3, 4, 5, 6 without AFS)',
    ]);
    // without AFS, NFE 3…6 is num_steps 4…7: what the official loop draws
    assert.deepEqual(sfdv(flagged({ variable: '3,4,5,6', 'no-afs': true })), []);
    assert.deepEqual(sfdv(flagged({ variable: '2,3,4,5', k: '3' })), [
      'K = 3 with a step-conditioned student (the official loop sets M = 3, K = 4, for every drawn num_steps)',
    ]);
    assert.deepEqual(sfdv(flagged({ nfe: '3', cond: 'step' })), [
      'a step-conditioned student for NFE 3 alone (official --use_step_condition draws NFE 2, 3, 4, 5 every iteration)',
    ]);
    const notes = officialCommand(cfgOf({ variable: '2,3,4,5' })).notes;
    assert.ok(
      notes.some((n) => /ignores --num_steps and --M: .* 4…7 .* M = 3 \(training_loop\.py:239-241\)/.test(n)),
    );
  });

  it('stage 2 prints a placeholder for the official stage-1 snapshot, never our directory', () => {
    const o = officialCommand(stage2Cfg(), { stage: 2, stage1Dir: 'students/v' });
    const p = assertRuns(o.command);
    assert.deepEqual(
      [p.is_second_stage, p.model_path, p.num_steps, p.M, p.sampler_tea],
      ['True', 'STAGE1_SNAPSHOT.pkl', '3', '2', 'euler'],
    );
    assert.ok(!o.command.includes('students/v'));
    assert.ok(
      o.notes.some(
        (n) =>
          n.includes("must be the official stage-1 run's network-snapshot-*.pkl") &&
          n.includes('ours at students/v is a tfjs model the official code cannot load'),
      ),
      o.notes.join('\n'),
    );
    // L1 + LPIPS is the official stage-2 loss for EDM models only (loss.py:87)
    assert.ok(!o.unmatched.some((u) => u.startsWith('loss ')));
    const ldm = officialCommand(stage2Cfg(), { stage: 2, dataset: 'lsun_bedroom_ldm' });
    assert.ok(ldm.unmatched.some((u) => u.startsWith('loss l1+lpips (official for lsun_bedroom_ldm: L1')));
  });

  it('--dataset picks dataset_name and says which pre-trained model it loads', () => {
    const loads = (dataset: string) => officialCommand(cfgOf({}), { dataset }).notes.join('\n');
    assert.match(loads('cifar10'), /--dataset_name=cifar10 loads EDM's edm-cifar10-32x32-uncond-vp\.pkl/);
    assert.match(loads('imagenet64'), /edm-imagenet-64x64-cond-adm\.pkl/);
    assert.match(loads('lsun_bedroom_ldm'), /lsun_bedrooms\.zip/);
    assert.match(loads('ms_coco'), /Stable Diffusion v1\.5/);
    assert.match(loads('ms_coco'), /--guidance_type=cfg: the ms_coco teacher requires it/);
    assert.throws(
      () => officialCommand(cfgOf({}), { dataset: 'mnist' }),
      /^RangeError: --dataset must be one of cifar10, ffhq, afhqv2, imagenet64, ms_coco, lsun_bedroom_ldm, ffhq_ldm, got 'mnist'$/,
    );
  });

  it('--paper adds the CIFAR-10 recipe of the official launch.sh, and says where there is none', () => {
    const recipe = (cfg: SfdConfig, stage: 1 | 2 = 1, dataset = 'cifar10') =>
      officialCommand(cfg, { paper: true, stage, dataset }).paper;
    let r = recipe(cfgOf({}));
    let p = assertRuns(r?.command ?? '');
    assert.deepEqual(
      [p.total_kimg, p.batch, p.lr, p.num_steps, p.M, p.sampler_tea, p.max_order, p.use_step_condition],
      ['200', '128', '5e-5', '4', '3', 'dpmpp', '3', 'False'],
    );
    assert.match(r?.label ?? '', /^paper recipe, CIFAR-10 SFD, NFE 2; sfd-main\/launch\.sh:8-11:$/);
    r = recipe(cfgOf({ nfe: '3' }));
    assert.equal(assertRuns(r?.command ?? '').num_steps, '5');
    assert.match(r?.label ?? '', /given there for NFE 2 \(num_steps=4\): num_steps=5 here/);
    p = assertRuns(recipe(cfgOf({ variable: '2,3,4,5' }))?.command ?? '');
    assert.deepEqual([p.total_kimg, p.use_step_condition], ['800', 'True']);
    p = assertRuns(recipe(stage2Cfg(), 2)?.command ?? '');
    assert.deepEqual(
      [p.total_kimg, p.lr, p.num_steps, p.M, p.sampler_tea, p.model_path],
      ['2000', '5e-4', '3', '2', 'euler', 'STAGE1_SNAPSHOT.pkl'],
    );
    r = recipe(cfgOf({}), 1, 'imagenet64');
    assert.equal(r?.command, undefined);
    assert.match(r?.label ?? '', /^paper recipe for imagenet64: not in the official repository/);
    const lines = officialCommandLines(officialCommand(cfgOf({}), { paper: true }));
    assert.match(lines[0], /^python train\.py /);
    assert.match(lines[lines.length - 2], /^# paper recipe, CIFAR-10 SFD/);
    assert.match(lines[lines.length - 1], /^python train\.py --dataset_name=cifar10 --total_kimg=200 /);
  });
});

describe('teacher solvers the official code does not have', () => {
  it('are refused in one line naming the official choices', () => {
    for (const s of ['unipc', 'deis'])
      assert.throws(
        () => officialCommand({ ...sfdDefaults, teacherSolver: s, teacherThreshold: false }),
        new RegExp(`^RangeError: the official sfd-main has no ${s} teacher \\(--sampler_tea: .*dpmpp`),
      );
  });
});
