import * as tf from '@tensorflow/tfjs';
import { silu } from '../models/silu';
import { makeRng } from '../util/rng';

/** Architecture of AMED's predictor (official `AMED_predictor`, training/networks.py); plain data, saved on the card. */
export interface AmedPredictorConfig {
  /** Feature values per sample: 49 for MNIST (a 7×7 map), the point's dimension for the 2-D toys. */
  featureDim: number;
  /** Hidden width of the feature encoder (official hidden_dim 128). */
  hidden: number;
  /** Width the feature is squeezed to before the heads (official bottleneck_output_dim 4). */
  bottleneck: number;
  /** Channels of each noise level's sinusoidal embedding (official noise_channels 8). */
  timeChannels: number;
  /** a_n ∈ [1 − scaleTime, 1 + scaleTime] scales the intermediate call's noise level (0: a_n = 1, no head). */
  scaleTime: number;
  /** c_n ∈ [1 − scaleDir, 1 + scaleDir] scales the second sub-step (0: c_n = 1, no head). */
  scaleDir: number;
}

export const amedPredictorDefaults: Omit<AmedPredictorConfig, 'featureDim'> = {
  hidden: 128,
  bottleneck: 4,
  timeChannels: 8,
  scaleTime: 0.2,
  scaleDir: 0.01,
};

/** One step's factors, one value per sample: r ∈ (0, 1) places s_n = σ_{n+1}^r σ_n^{1−r}; a_n, c_n scale. */
export interface AmedFactors {
  r: tf.Tensor1D;
  scaleTime: tf.Tensor1D;
  scaleDir: tf.Tensor1D;
}

/** The factors for the step σ_n → σ_{n+1} from each sample's feature ([B, featureDim]); the caller owns them. */
export type AmedPredict = (feature: tf.Tensor2D, t: number, tNext: number) => AmedFactors;

export interface AmedPredictor {
  config: AmedPredictorConfig;
  weights: Map<string, tf.Variable>;
  predict: AmedPredict;
  params: number;
  dispose(): void;
}

/** The same factors for every sample and step (r = 0.5, a = c = 1 makes the plugin plain iPNDM on a finer grid). */
export function constantFactors(r: number, scaleTime = 1, scaleDir = 1): AmedPredict {
  return (feature) => {
    const b = feature.shape[0];
    return { r: tf.fill([b], r), scaleTime: tf.fill([b], scaleTime), scaleDir: tf.fill([b], scaleDir) };
  };
}

export function checkAmedPredictorConfig(c: AmedPredictorConfig): void {
  for (const k of ['featureDim', 'hidden', 'bottleneck', 'timeChannels'] as const)
    if (!Number.isInteger(c[k]) || c[k] < 1)
      throw new RangeError(`AMED predictor: ${k} must be a positive integer, got ${c[k]}`);
  if (c.timeChannels % 2 !== 0 || c.timeChannels < 4)
    throw new RangeError(`AMED predictor: timeChannels must be even and ≥ 4, got ${c.timeChannels}`);
  for (const k of ['scaleTime', 'scaleDir'] as const)
    if (!(c[k] >= 0 && c[k] < 1)) throw new RangeError(`AMED predictor: ${k} must be in [0, 1), got ${c[k]}`);
}

/**
 * The official predictor: each noise level → sinusoid [sin, cos] at frequencies 10000^(−i/(C/2−1)) → one
 * shared Linear + SiLU; the feature → Linear(hidden) + SiLU → Linear(bottleneck); both joined, then one
 * Linear head per output through a sigmoid (r in (0, 1); a, c mapped into [1 − scale, 1 + scale]). Weights
 * from a plain-JS seeded source as the official init: Xavier-uniform time layer, N(0, 1/fan_in) elsewhere,
 * zero biases.
 */
export function createAmedPredictor(config: AmedPredictorConfig, seed = 0): AmedPredictor {
  checkAmedPredictorConfig(config);
  const { featureDim, hidden, bottleneck, timeChannels, scaleTime, scaleDir } = config;
  const rng = makeRng(seed);
  const weights = new Map<string, tf.Variable>();
  const dense = (name: string, ci: number, co: number, init: 'xavier' | 'normal') => {
    const a = Math.sqrt(6 / (ci + co));
    const s = Math.sqrt(1 / ci);
    const w = Float32Array.from({ length: ci * co }, () =>
      init === 'xavier' ? a * (2 * rng.uniform() - 1) : s * rng.normal(),
    );
    weights.set(
      `${name}.w`,
      tf.tidy(() => tf.variable(tf.tensor2d(w, [ci, co]))),
    );
    weights.set(
      `${name}.b`,
      tf.tidy(() => tf.variable(tf.zeros([co]))),
    );
  };
  const joined = bottleneck + 2 * timeChannels;
  dense('time', timeChannels, timeChannels, 'xavier');
  dense('enc.0', featureDim, hidden, 'normal');
  dense('enc.1', hidden, bottleneck, 'normal');
  dense('head.r', joined, 1, 'normal');
  if (scaleTime > 0) dense('head.time', joined, 1, 'normal');
  if (scaleDir > 0) dense('head.dir', joined, 1, 'normal');

  const W = (name: string) => weights.get(name) as tf.Variable;
  const linear = (name: string, x: tf.Tensor) =>
    tf.fused.matMul({ a: x as tf.Tensor2D, b: W(`${name}.w`) as tf.Tensor2D, bias: W(`${name}.b`) });
  const half = timeChannels / 2;
  const freqs = Array.from({ length: half }, (_, i) => (1 / 10000) ** (i / (half - 1)));
  const embed = (t: number, b: number) =>
    silu(
      linear(
        'time',
        tf.tensor2d([[...freqs.map((f) => Math.sin(t * f)), ...freqs.map((f) => Math.cos(t * f))]]),
      ),
    ).tile([b, 1]);
  const inRange = (z: tf.Tensor, scale: number) =>
    tf
      .sigmoid(z)
      .mul(2 * scale)
      .add(1 - scale);

  const predict: AmedPredict = (feature, t, tNext) =>
    tf.tidy(() => {
      const [b, dim] = feature.shape;
      if (dim !== featureDim)
        throw new RangeError(`AMED predictor: ${dim} feature values, expected ${featureDim}`);
      const h = linear('enc.1', silu(linear('enc.0', feature)));
      const z = tf.concat([h, embed(t, b), embed(tNext, b)], 1);
      const head = (name: string, scale: number) =>
        (scale > 0 ? inRange(linear(name, z), scale) : tf.ones([b, 1])).reshape([b]) as tf.Tensor1D;
      return {
        r: tf.sigmoid(linear('head.r', z)).reshape([b]) as tf.Tensor1D,
        scaleTime: head('head.time', scaleTime),
        scaleDir: head('head.dir', scaleDir),
      };
    });

  const params = [...weights.values()].reduce((a, v) => a + v.size, 0);
  return { config, weights, predict, params, dispose: () => tf.dispose([...weights.values()]) };
}
