import * as tf from '@tensorflow/tfjs';
import type { Conditioning } from '../diffusion/denoiser';
import type { RawNet } from '../diffusion/precond';
import { addScale } from './addScale';
import { groupNorm } from './groupNorm';
import { silu } from './silu';

/** Architecture of the EDM-style (DDPM++-like) UNet; plain data, saved beside the weights. */
export interface UNetConfig {
  /** Image side (square, divisible by 2^(levels−1)). */
  resolution: number;
  /** Image channels (1 for MNIST, 3 for colour). */
  inChannels: number;
  /** Channels at each resolution level, highest resolution first. */
  channels: number[];
  /** Residual blocks per level on the way down (the way up has one more, for the extra skip). */
  blocksPerLevel: number;
  /** Self-attention in the middle of the lowest resolution. */
  attention: boolean;
  /** GroupNorm groups (each level's channels must be divisible by it). */
  groups: number;
  /** Width of the sinusoidal noise-level embedding. */
  embedDim: number;
  /**
   * A learned per-pixel bias added after the input convolution. Convolutions are translation
   * equivariant, so without it the network knows where it is only from the zero padding at the borders;
   * centred data such as MNIST (whose high-σ denoiser output is the position-dependent mean image) needs it.
   */
  positional?: boolean;
  /** A second conditioning input (SFD-v's step condition): its per-block projections start at zero. */
  stepCondition: boolean;
}

export const unetDefaults: UNetConfig = {
  resolution: 32,
  inChannels: 3,
  channels: [32, 64, 64],
  blocksPerLevel: 1,
  attention: true,
  groups: 8,
  embedDim: 32,
  stepCondition: false,
};

export interface UNet {
  config: UNetConfig;
  /** Every trainable weight by a stable name (for saving, loading and optimisers). */
  weights: Map<string, tf.Variable>;
  /** F(c_in·x, c_noise, cond): NHWC in, same shape out; c_noise may be one number or one per sample. */
  net: (xIn: tf.Tensor, cNoise: number | tf.Tensor1D, cond?: Conditioning) => tf.Tensor4D;
  params: number;
  dispose(): void;
}

/**
 * True for the weights of the step-condition path (the `step.*` embedding MLP and each block's `*.step`
 * projection): a student's own weights, absent from its teacher.
 */
export function isStepConditionWeight(name: string): boolean {
  return name.startsWith('step.') || name.includes('.step.');
}

/** Builds a UNet with seeded He-normal weights (biases zero; the output conv and step-condition projections zero). */
export function createUNet(overrides: Partial<UNetConfig> = {}, seed = 0): UNet {
  const cfg = { ...unetDefaults, ...overrides };
  const levels = cfg.channels.length;
  if (cfg.resolution % 2 ** (levels - 1) !== 0) {
    throw new RangeError(`UNet: resolution ${cfg.resolution} is not divisible by 2^${levels - 1}`);
  }
  for (const c of cfg.channels)
    if (c % cfg.groups !== 0)
      throw new RangeError(`UNet: ${c} channels not divisible by ${cfg.groups} groups`);
  const weights = new Map<string, tf.Variable>();
  // The step-condition weights draw from their own seed stream, so a student with stepCondition gets
  // exactly the teacher's other weights from the same seed (and, with zero projections, its outputs).
  let nextSeed = seed;
  let nextStepSeed = seed + 1_000_003;
  const he = (name: string, shape: number[], fanIn: number) => {
    const s = isStepConditionWeight(name) ? ++nextStepSeed : ++nextSeed;
    // inside tidy: a Variable shares its initial tensor's data, which would otherwise stay alive
    weights.set(
      name,
      tf.tidy(() => tf.variable(tf.randomNormal(shape, 0, Math.sqrt(2 / fanIn), 'float32', s))),
    );
  };
  const zeros = (name: string, shape: number[]) =>
    weights.set(
      name,
      tf.tidy(() => tf.variable(tf.zeros(shape))),
    );
  const ones = (name: string, shape: number[]) =>
    weights.set(
      name,
      tf.tidy(() => tf.variable(tf.ones(shape))),
    );
  const conv = (name: string, k: number, ci: number, co: number, zeroInit = false) => {
    if (zeroInit) zeros(`${name}.w`, [k, k, ci, co]);
    else he(`${name}.w`, [k, k, ci, co], k * k * ci);
    zeros(`${name}.b`, [co]);
  };
  const dense = (name: string, ci: number, co: number, zeroInit = false) => {
    if (zeroInit) zeros(`${name}.w`, [ci, co]);
    else he(`${name}.w`, [ci, co], ci);
    zeros(`${name}.b`, [co]);
  };
  const norm = (name: string, c: number) => {
    ones(`${name}.g`, [c]);
    zeros(`${name}.b`, [c]);
  };
  const emb = 4 * cfg.channels[0];
  const resBlock = (name: string, ci: number, co: number) => {
    norm(`${name}.n0`, ci);
    conv(`${name}.c0`, 3, ci, co);
    dense(`${name}.emb`, emb, co);
    if (cfg.stepCondition) dense(`${name}.step`, emb, co, true);
    norm(`${name}.n1`, co);
    conv(`${name}.c1`, 3, co, co);
    if (ci !== co) conv(`${name}.skip`, 1, ci, co);
  };

  // --- parameters, in the order the forward pass uses them
  dense('map.0', cfg.embedDim, emb);
  dense('map.1', emb, emb);
  if (cfg.stepCondition) {
    dense('step.0', cfg.embedDim, emb);
    dense('step.1', emb, emb);
  }
  conv('in', 3, cfg.inChannels, cfg.channels[0]);
  if (cfg.positional) zeros('in.pos', [cfg.resolution, cfg.resolution, cfg.channels[0]]);
  const skips: number[] = [cfg.channels[0]];
  let ch = cfg.channels[0];
  cfg.channels.forEach((co, l) => {
    for (let i = 0; i < cfg.blocksPerLevel; i++) {
      resBlock(`down${l}.${i}`, ch, co);
      ch = co;
      skips.push(ch);
    }
    if (l < levels - 1) {
      conv(`down${l}.pool`, 3, ch, ch);
      skips.push(ch);
    }
  });
  resBlock('mid.0', ch, ch);
  if (cfg.attention) {
    norm('mid.attn.n', ch);
    dense('mid.attn.qkv', ch, 3 * ch);
    dense('mid.attn.out', ch, ch, true);
  }
  resBlock('mid.1', ch, ch);
  const upSkips = [...skips];
  for (let l = levels - 1; l >= 0; l--) {
    const co = cfg.channels[l];
    for (let i = 0; i <= cfg.blocksPerLevel; i++) {
      resBlock(`up${l}.${i}`, ch + (upSkips.pop() as number), co);
      ch = co;
    }
    if (l > 0) conv(`up${l}.up`, 3, ch, ch);
  }
  norm('out.n', ch);
  conv('out', 3, ch, cfg.inChannels, true);

  // --- forward pass
  const W = (name: string) => weights.get(name) as tf.Variable;
  const conv2d = (name: string, x: tf.Tensor, stride = 1) =>
    tf.fused.conv2d({
      x: x as tf.Tensor4D,
      filter: W(`${name}.w`) as tf.Tensor4D,
      strides: stride,
      pad: 'same',
      bias: W(`${name}.b`),
    });
  const linear = (name: string, x: tf.Tensor) =>
    tf.fused.matMul({ a: x as tf.Tensor2D, b: W(`${name}.w`) as tf.Tensor2D, bias: W(`${name}.b`) });
  const normalize = (name: string, x: tf.Tensor, act: 'none' | 'silu' = 'none') =>
    groupNorm(
      x as tf.Tensor4D,
      W(`${name}.g`) as tf.Tensor1D,
      W(`${name}.b`) as tf.Tensor1D,
      cfg.groups,
      1e-5,
      act,
    );
  const sinusoid = (c: tf.Tensor1D) => {
    const half = cfg.embedDim / 2;
    const freqs = tf.tensor1d(Array.from({ length: half }, (_, i) => (1 / 10000) ** (i / half)));
    const args = c.reshape([-1, 1]).mul(freqs.reshape([1, half]));
    return tf.concat([tf.cos(args), tf.sin(args)], 1);
  };
  const block = (name: string, x: tf.Tensor, e: tf.Tensor, s: tf.Tensor | null) => {
    let h = conv2d(`${name}.c0`, normalize(`${name}.n0`, x, 'silu'));
    let bias = linear(`${name}.emb`, e);
    if (s) bias = bias.add(linear(`${name}.step`, s));
    h = h.add(bias.reshape([bias.shape[0], 1, 1, bias.shape[1] as number]));
    h = conv2d(`${name}.c1`, normalize(`${name}.n1`, h, 'silu'));
    const skip = weights.has(`${name}.skip.w`) ? conv2d(`${name}.skip`, x) : x;
    return addScale(h, skip, Math.SQRT1_2);
  };
  const attention = (x: tf.Tensor) => {
    const [b, h, w, c] = x.shape;
    const qkv = linear('mid.attn.qkv', normalize('mid.attn.n', x).reshape([b * h * w, c])).reshape([
      b,
      h * w,
      3 * c,
    ]);
    const [q, k, v] = tf.split(qkv, 3, 2);
    const att = tf.softmax(tf.matMul(q, k, false, true).mul(1 / Math.sqrt(c)), -1);
    const o = linear('mid.attn.out', tf.matMul(att, v).reshape([b * h * w, c]));
    return addScale(x, o.reshape(x.shape), Math.SQRT1_2);
  };

  const net: UNet['net'] = (xIn, cNoise, cond) =>
    tf.tidy(() => {
      const x = xIn as tf.Tensor4D;
      const [b, hh, ww, cc] = x.shape;
      if (hh !== cfg.resolution || ww !== cfg.resolution || cc !== cfg.inChannels) {
        throw new RangeError(
          `UNet expects [batch, ${cfg.resolution}, ${cfg.resolution}, ${cfg.inChannels}], got [${x.shape}]`,
        );
      }
      const c = typeof cNoise === 'number' ? tf.fill([b], cNoise) : cNoise;
      if (c.shape[0] !== b) throw new RangeError(`UNet: ${c.shape[0]} noise levels for a batch of ${b}`);
      const e = silu(linear('map.1', silu(linear('map.0', sinusoid(c as tf.Tensor1D)))));
      let s: tf.Tensor | null = null;
      if (cfg.stepCondition) {
        // step-cond embeds N as the official code does; tnext-cond embeds t_next as the noise level is
        // embedded (ln t / 4), through the same path
        const value = cond?.step ?? (cond?.tNext !== undefined ? Math.log(cond.tNext) / 4 : undefined);
        if (value === undefined)
          throw new RangeError(
            'UNet built with stepCondition needs cond.step (SFD-v: N, the number of student timestamps) or cond.tNext',
          );
        s = silu(linear('step.1', silu(linear('step.0', sinusoid(tf.fill([b], value) as tf.Tensor1D)))));
      }
      let h: tf.Tensor = conv2d('in', x);
      if (cfg.positional) h = h.add(W('in.pos'));
      const stack: tf.Tensor[] = [h];
      cfg.channels.forEach((_, l) => {
        for (let i = 0; i < cfg.blocksPerLevel; i++) {
          h = block(`down${l}.${i}`, h, e, s);
          stack.push(h);
        }
        if (l < levels - 1) {
          h = conv2d(`down${l}.pool`, h, 2);
          stack.push(h);
        }
      });
      h = block('mid.0', h, e, s);
      if (cfg.attention) h = attention(h);
      h = block('mid.1', h, e, s);
      for (let l = levels - 1; l >= 0; l--) {
        for (let i = 0; i <= cfg.blocksPerLevel; i++)
          h = block(`up${l}.${i}`, tf.concat([h, stack.pop() as tf.Tensor], 3), e, s);
        if (l > 0) {
          const [, hs, ws] = h.shape;
          h = conv2d(
            `up${l}.up`,
            tf.image.resizeNearestNeighbor(h as tf.Tensor4D, [2 * (hs as number), 2 * (ws as number)]),
          );
        }
      }
      return conv2d('out', normalize('out.n', h, 'silu'));
    });

  const params = [...weights.values()].reduce((a, v) => a + v.size, 0);
  return { config: cfg, weights, net, params, dispose: () => tf.dispose([...weights.values()]) };
}

/** The UNet as the raw network of edmPrecond. */
export function unetRawNet(u: UNet): RawNet {
  return (xIn, cNoise, cond) => u.net(xIn, cNoise, cond);
}
