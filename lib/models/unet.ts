import * as tf from '@tensorflow/tfjs';
import type { Conditioning } from '../diffusion/denoiser';
import type { RawNet } from '../diffusion/precond';
import {
  downsample,
  positionalEmbedding,
  type ResidualBlock,
  residualBlock,
  selfAttention,
  stepEmbedding,
  timeEmbedding,
  UNetWeights,
  upsample,
} from './unetBlocks';

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

export { isStepConditionWeight } from './unetBlocks';

/** One resolution level of the UNet: its residual blocks, then the resampling to the next level (if any). */
interface Level {
  blocks: ResidualBlock[];
  resample: ((h: tf.Tensor) => tf.Tensor) | null;
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

  // --- the architecture: each part declares its weights (in the order the forward pass uses them, which
  // the seeded init and the weight files follow) and returns its forward pass
  const w = new UNetWeights(seed, cfg.groups);
  const emb = 4 * cfg.channels[0];
  const block = (name: string, ci: number, co: number) =>
    residualBlock(w, name, ci, co, emb, cfg.stepCondition);
  const time = timeEmbedding(w, cfg.embedDim, emb);
  const step = cfg.stepCondition ? stepEmbedding(w, cfg.embedDim, emb) : null;
  w.conv('in', 3, cfg.inChannels, cfg.channels[0]);
  const position = cfg.positional ? positionalEmbedding(w, 'in.pos', cfg.resolution, cfg.channels[0]) : null;
  // down: blocksPerLevel blocks per level, each output (and each downsampling's) kept for a skip connection
  const skips: number[] = [cfg.channels[0]];
  let ch = cfg.channels[0];
  const down: Level[] = cfg.channels.map((co, l) => {
    const blocks: ResidualBlock[] = [];
    for (let i = 0; i < cfg.blocksPerLevel; i++) {
      blocks.push(block(`down${l}.${i}`, ch, co));
      ch = co;
      skips.push(ch);
    }
    const resample = l < levels - 1 ? downsample(w, `down${l}.pool`, ch) : null;
    if (resample) skips.push(ch);
    return { blocks, resample };
  });
  const mid0 = block('mid.0', ch, ch);
  const attention = cfg.attention ? selfAttention(w, 'mid.attn', ch) : null;
  const mid1 = block('mid.1', ch, ch);
  // up, lowest resolution first: blocksPerLevel + 1 blocks per level, each taking one skip connection
  const up: Level[] = [];
  for (let l = levels - 1; l >= 0; l--) {
    const co = cfg.channels[l];
    const blocks: ResidualBlock[] = [];
    for (let i = 0; i <= cfg.blocksPerLevel; i++) {
      blocks.push(block(`up${l}.${i}`, ch + (skips.pop() as number), co));
      ch = co;
    }
    up.push({ blocks, resample: l > 0 ? upsample(w, `up${l}.up`, ch) : null });
  }
  w.norm('out.n', ch);
  w.conv('out', 3, ch, cfg.inChannels, true);

  // --- forward pass
  const net: UNet['net'] = (xIn, cNoise, cond) =>
    tf.tidy(() => {
      const x = xIn as tf.Tensor4D;
      const [b, hh, ww, cc] = x.shape;
      if (hh !== cfg.resolution || ww !== cfg.resolution || cc !== cfg.inChannels) {
        throw new RangeError(
          `UNet expects [batch, ${cfg.resolution}, ${cfg.resolution}, ${cfg.inChannels}], got [${x.shape}]`,
        );
      }
      const e = time(cNoise, b);
      const s = step ? step(cond, b) : null;
      let h: tf.Tensor = w.conv2d('in', x);
      if (position) h = position(h);
      const stack: tf.Tensor[] = [h];
      for (const level of down) {
        for (const blk of level.blocks) {
          h = blk(h, e, s);
          stack.push(h);
        }
        if (level.resample) {
          h = level.resample(h);
          stack.push(h);
        }
      }
      h = mid0(h, e, s);
      if (attention) h = attention(h);
      h = mid1(h, e, s);
      for (const level of up) {
        for (const blk of level.blocks) h = blk(tf.concat([h, stack.pop() as tf.Tensor], 3), e, s);
        if (level.resample) h = level.resample(h);
      }
      return w.conv2d('out', w.normalize('out.n', h, 'silu'));
    });

  const weights = w.map;
  const params = [...weights.values()].reduce((a, v) => a + v.size, 0);
  return { config: cfg, weights, net, params, dispose: () => tf.dispose([...weights.values()]) };
}

/** The UNet as the raw network of edmPrecond. */
export function unetRawNet(u: UNet): RawNet {
  return (xIn, cNoise, cond) => u.net(xIn, cNoise, cond);
}
