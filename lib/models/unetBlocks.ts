import * as tf from '@tensorflow/tfjs';
import type { Conditioning } from '../diffusion/denoiser';
import { addScale } from './addScale';
import { groupNorm } from './groupNorm';
import { silu } from './silu';

/**
 * True for the weights of the step-condition path (the `step.*` embedding MLP and each block's `*.step`
 * projection): a student's own weights, absent from its teacher.
 */
export function isStepConditionWeight(name: string): boolean {
  return name.startsWith('step.') || name.includes('.step.');
}

/**
 * A UNet's weights by name: declared in the order the forward pass uses them (the seeded init draws in that
 * order, and weight files list them in it), then applied by name as layers. He-normal weights, zero biases,
 * GroupNorm scales one.
 */
export class UNetWeights {
  readonly map = new Map<string, tf.Variable>();
  // The step-condition weights draw from their own seed stream, so a student with stepCondition gets
  // exactly the teacher's other weights from the same seed (and, with zero projections, its outputs).
  private nextSeed: number;
  private nextStepSeed: number;

  constructor(
    seed: number,
    private readonly groups: number,
  ) {
    this.nextSeed = seed;
    this.nextStepSeed = seed + 1_000_003;
  }

  private he(name: string, shape: number[], fanIn: number): void {
    const s = isStepConditionWeight(name) ? ++this.nextStepSeed : ++this.nextSeed;
    // inside tidy: a Variable shares its initial tensor's data, which would otherwise stay alive
    this.map.set(
      name,
      tf.tidy(() => tf.variable(tf.randomNormal(shape, 0, Math.sqrt(2 / fanIn), 'float32', s))),
    );
  }

  zeros(name: string, shape: number[]): void {
    this.map.set(
      name,
      tf.tidy(() => tf.variable(tf.zeros(shape))),
    );
  }

  private ones(name: string, shape: number[]): void {
    this.map.set(
      name,
      tf.tidy(() => tf.variable(tf.ones(shape))),
    );
  }

  /** A k×k convolution `name.w` [k, k, ci, co] and its bias `name.b`. */
  conv(name: string, k: number, ci: number, co: number, zeroInit = false): void {
    if (zeroInit) this.zeros(`${name}.w`, [k, k, ci, co]);
    else this.he(`${name}.w`, [k, k, ci, co], k * k * ci);
    this.zeros(`${name}.b`, [co]);
  }

  /** A dense layer `name.w` [ci, co] and its bias `name.b`. */
  dense(name: string, ci: number, co: number, zeroInit = false): void {
    if (zeroInit) this.zeros(`${name}.w`, [ci, co]);
    else this.he(`${name}.w`, [ci, co], ci);
    this.zeros(`${name}.b`, [co]);
  }

  /** A GroupNorm's scale `name.g` and shift `name.b`. */
  norm(name: string, c: number): void {
    this.ones(`${name}.g`, [c]);
    this.zeros(`${name}.b`, [c]);
  }

  get(name: string): tf.Variable {
    return this.map.get(name) as tf.Variable;
  }

  /** The convolution `name` ('same' padding), bias fused. */
  conv2d(name: string, x: tf.Tensor, stride = 1): tf.Tensor4D {
    return tf.fused.conv2d({
      x: x as tf.Tensor4D,
      filter: this.get(`${name}.w`) as tf.Tensor4D,
      strides: stride,
      pad: 'same',
      bias: this.get(`${name}.b`),
    });
  }

  /** The dense layer `name`, bias fused. */
  linear(name: string, x: tf.Tensor): tf.Tensor {
    return tf.fused.matMul({
      a: x as tf.Tensor2D,
      b: this.get(`${name}.w`) as tf.Tensor2D,
      bias: this.get(`${name}.b`),
    });
  }

  /** The GroupNorm `name` of x (plus `shift` [b, c] when given), optionally followed by SiLU (one fused kernel). */
  normalize(name: string, x: tf.Tensor, act: 'none' | 'silu' = 'none', shift?: tf.Tensor): tf.Tensor4D {
    return groupNorm(
      x as tf.Tensor4D,
      this.get(`${name}.g`) as tf.Tensor1D,
      this.get(`${name}.b`) as tf.Tensor1D,
      this.groups,
      1e-5,
      act,
      shift as tf.Tensor2D | undefined,
    );
  }
}

/** A residual block's forward pass: features, the noise embedding, the step embedding (null without). */
export type ResidualBlock = (x: tf.Tensor, e: tf.Tensor, s: tf.Tensor | null) => tf.Tensor;

/**
 * A residual block from ci to co channels: GroupNorm–SiLU–conv, plus a per-channel bias projected from the
 * noise embedding (and from the step embedding, through a zero-initialised projection), GroupNorm–SiLU–conv;
 * added to its input (through a 1×1 convolution where the channels change) and scaled by 1/√2.
 */
export function residualBlock(
  w: UNetWeights,
  name: string,
  ci: number,
  co: number,
  embDim: number,
  stepCondition: boolean,
): ResidualBlock {
  w.norm(`${name}.n0`, ci);
  w.conv(`${name}.c0`, 3, ci, co);
  w.dense(`${name}.emb`, embDim, co);
  if (stepCondition) w.dense(`${name}.step`, embDim, co, true);
  w.norm(`${name}.n1`, co);
  w.conv(`${name}.c1`, 3, co, co);
  const projectSkip = ci !== co;
  if (projectSkip) w.conv(`${name}.skip`, 1, ci, co);
  return (x, e, s) => {
    let h: tf.Tensor = w.conv2d(`${name}.c0`, w.normalize(`${name}.n0`, x, 'silu'));
    let bias: tf.Tensor = w.linear(`${name}.emb`, e);
    if (s) bias = bias.add(w.linear(`${name}.step`, s));
    // h + bias is only normalised: the norm adds the per-image bias itself (no pass, no tensor)
    h = w.conv2d(`${name}.c1`, w.normalize(`${name}.n1`, h, 'silu', bias));
    const skip = projectSkip ? w.conv2d(`${name}.skip`, x) : x;
    return addScale(h, skip, Math.SQRT1_2);
  };
}

/**
 * Single-head self-attention over the pixels of ch-channel features (GroupNorm, one qkv projection, a
 * zero-initialised output projection), added to its input and scaled by 1/√2.
 */
export function selfAttention(w: UNetWeights, name: string, ch: number): (x: tf.Tensor) => tf.Tensor {
  w.norm(`${name}.n`, ch);
  w.dense(`${name}.qkv`, ch, 3 * ch);
  w.dense(`${name}.out`, ch, ch, true);
  return (x) => {
    const [b, h, wd, c] = x.shape;
    const qkv = w
      .linear(`${name}.qkv`, w.normalize(`${name}.n`, x).reshape([b * h * wd, c]))
      .reshape([b, h * wd, 3 * c]);
    const [q, k, v] = tf.split(qkv, 3, 2);
    const att = tf.softmax(tf.matMul(q, k, false, true).mul(1 / Math.sqrt(c)), -1);
    const o = w.linear(`${name}.out`, tf.matMul(att, v).reshape([b * h * wd, c]));
    return addScale(x, o.reshape(x.shape), Math.SQRT1_2);
  };
}

/** The sinusoidal embedding of one value per sample: [cos, sin] of c at dim/2 geometric frequencies. */
export function sinusoid(c: tf.Tensor1D, dim: number): tf.Tensor {
  const half = dim / 2;
  const freqs = tf.tensor1d(Array.from({ length: half }, (_, i) => (1 / 10000) ** (i / half)));
  const args = c.reshape([-1, 1]).mul(freqs.reshape([1, half]));
  return tf.concat([tf.cos(args), tf.sin(args)], 1);
}

/** A sinusoid followed by a two-layer SiLU MLP (`name.0`, `name.1`) to embDim. */
function embeddingMlp(
  w: UNetWeights,
  name: string,
  sinusoidDim: number,
  embDim: number,
): (c: tf.Tensor1D) => tf.Tensor {
  w.dense(`${name}.0`, sinusoidDim, embDim);
  w.dense(`${name}.1`, embDim, embDim);
  return (c) => silu(w.linear(`${name}.1`, silu(w.linear(`${name}.0`, sinusoid(c, sinusoidDim)))));
}

/** The noise-level embedding (`map.*`): c_noise, one number or one per sample, to [batch, embDim]. */
export function timeEmbedding(
  w: UNetWeights,
  sinusoidDim: number,
  embDim: number,
): (cNoise: number | tf.Tensor1D, batch: number) => tf.Tensor {
  const mlp = embeddingMlp(w, 'map', sinusoidDim, embDim);
  return (cNoise, batch) => {
    const c = typeof cNoise === 'number' ? tf.fill([batch], cNoise) : cNoise;
    if (c.shape[0] !== batch)
      throw new RangeError(`UNet: ${c.shape[0]} noise levels for a batch of ${batch}`);
    return mlp(c as tf.Tensor1D);
  };
}

/**
 * The step-condition embedding (`step.*`, SFD-v): step-cond embeds N as the official code does; tnext-cond
 * embeds t_next as the noise level is embedded (ln t / 4), through the same path.
 */
export function stepEmbedding(
  w: UNetWeights,
  sinusoidDim: number,
  embDim: number,
): (cond: Conditioning | undefined, batch: number) => tf.Tensor {
  const mlp = embeddingMlp(w, 'step', sinusoidDim, embDim);
  return (cond, batch) => {
    const value = cond?.step ?? (cond?.tNext !== undefined ? Math.log(cond.tNext) / 4 : undefined);
    if (value === undefined)
      throw new RangeError(
        'UNet built with stepCondition needs cond.step (SFD-v: N, the number of student timestamps) or cond.tNext',
      );
    return mlp(tf.fill([batch], value) as tf.Tensor1D);
  };
}

/** A learned per-pixel bias (zero-initialised) added to [resolution, resolution, channels] features. */
export function positionalEmbedding(
  w: UNetWeights,
  name: string,
  resolution: number,
  channels: number,
): (h: tf.Tensor) => tf.Tensor {
  w.zeros(name, [resolution, resolution, channels]);
  return (h) => h.add(w.get(name));
}

/** A stride-2 3×3 convolution: halves the resolution. */
export function downsample(w: UNetWeights, name: string, ch: number): (h: tf.Tensor) => tf.Tensor {
  w.conv(name, 3, ch, ch);
  return (h) => w.conv2d(name, h, 2);
}

/** A nearest-neighbour 2× upsampling followed by a 3×3 convolution. */
export function upsample(w: UNetWeights, name: string, ch: number): (h: tf.Tensor) => tf.Tensor {
  w.conv(name, 3, ch, ch);
  return (h) => {
    const [, hs, ws] = h.shape;
    return w.conv2d(
      name,
      tf.image.resizeNearestNeighbor(h as tf.Tensor4D, [2 * (hs as number), 2 * (ws as number)]),
    );
  };
}
