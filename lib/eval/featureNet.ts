import * as tf from '@tensorflow/tfjs';
import { makeRng } from '../util/rng';

/**
 * The frozen MNIST feature network: a small CNN classifier whose penultimate layer (128-d) is the
 * feature space of FID and PRDC, and whose convolution activations feed the LPIPS-style distance.
 * conv3×3 1→32 · conv3×3/2 32→64 · conv3×3/2 64→64 (ReLU each) · dense 3136→128 (ReLU) · dense 128→10.
 */
export const FEATURE_DIM = 128;
const CONVS = [
  { name: 'c1', ci: 1, co: 32, stride: 1 },
  { name: 'c2', ci: 32, co: 64, stride: 2 },
  { name: 'c3', ci: 64, co: 64, stride: 2 },
] as const;
const FLAT = 7 * 7 * 64;

export interface FeatureNet {
  weights: Map<string, tf.Variable>;
  /** ReLU activations of the three convolutions, the 128-d feature layer and the logits, for [B,28,28,1] in [−1, 1]. */
  activations(x: tf.Tensor4D): { convs: tf.Tensor4D[]; features: tf.Tensor2D; logits: tf.Tensor2D };
  features(x: tf.Tensor4D): tf.Tensor2D;
  logits(x: tf.Tensor4D): tf.Tensor2D;
  dispose(): void;
}

/** He-normal initial weights from a seed (plain-JS source, identical on every backend). */
export function createFeatureNet(seed = 0): FeatureNet {
  const rng = makeRng(seed);
  const weights = new Map<string, tf.Variable>();
  const he = (name: string, shape: number[], fanIn: number) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const s = Math.sqrt(2 / fanIn);
    const values = Float32Array.from({ length: n }, () => s * rng.normal());
    weights.set(
      name,
      tf.tidy(() => tf.variable(tf.tensor(values, shape))),
    );
  };
  const zeros = (name: string, shape: number[]) =>
    weights.set(
      name,
      tf.tidy(() => tf.variable(tf.zeros(shape))),
    );
  for (const c of CONVS) {
    he(`${c.name}.w`, [3, 3, c.ci, c.co], 9 * c.ci);
    zeros(`${c.name}.b`, [c.co]);
  }
  he('fc1.w', [FLAT, FEATURE_DIM], FLAT);
  zeros('fc1.b', [FEATURE_DIM]);
  he('fc2.w', [FEATURE_DIM, 10], FEATURE_DIM);
  zeros('fc2.b', [10]);
  const w = (k: string) => weights.get(k) as tf.Variable;

  const activations = (x: tf.Tensor4D) => {
    if (x.rank !== 4 || x.shape[1] !== 28 || x.shape[2] !== 28 || x.shape[3] !== 1)
      throw new Error(`feature network expects [B,28,28,1] images, got [${x.shape}]`);
    const convs: tf.Tensor4D[] = [];
    let h: tf.Tensor4D = x;
    for (const c of CONVS) {
      h = tf.relu(
        tf.conv2d(h, w(`${c.name}.w`) as tf.Tensor4D, c.stride, 'same').add(w(`${c.name}.b`)),
      ) as tf.Tensor4D;
      convs.push(h);
    }
    const features = tf.relu(h.reshape([-1, FLAT]).matMul(w('fc1.w')).add(w('fc1.b'))) as tf.Tensor2D;
    const logits = features.matMul(w('fc2.w')).add(w('fc2.b')) as tf.Tensor2D;
    return { convs, features, logits };
  };
  return {
    weights,
    activations,
    features: (x) => tf.tidy(() => activations(x).features),
    logits: (x) => tf.tidy(() => activations(x).logits),
    dispose: () => tf.dispose([...weights.values()]),
  };
}
