import * as tf from '@tensorflow/tfjs';
import { edmPrecond } from '../diffusion/precond';
import { defaultSchedule, timeGrid } from '../diffusion/schedules';
import { dynamicThreshold } from '../diffusion/solvers/dynamicThreshold';
import { solverByName } from '../diffusion/solvers/registry';
import { createFeatureNet } from '../eval/featureNet';
import { addScale } from '../models/addScale';
import { gaussianDenoiser } from '../models/gaussian';
import { groupNorm } from '../models/groupNorm';
import { silu } from '../models/silu';
import { createUNet, type UNetConfig, unetRawNet } from '../models/unet';
import { type SfdConfig, sfdDefaults } from '../sfd/config';
import { sanitizeGrads } from '../sfd/gradientCleaning';
import { sfdIteration } from '../sfd/iteration';
import { Adam } from '../train/adam';
import { edmLoss } from '../train/edmLoss';
import { namedGrads } from '../train/namedGrads';
import { makeRng } from '../util/rng';

/**
 * Numerics of the WebGPU backend against tfjs's reference `cpu` backend: every op the UNet, the samplers
 * and the SFD trainer use (output and gradient), then whole computations (an EDM training step, an SFD
 * iteration, the samplers, the feature network). Shared by the tests (lavapipe) and the GPU bundle's check
 * (NVIDIA). Each check builds its inputs from seeded plain arrays on the backend it runs on and returns
 * plain arrays, so no tensor crosses between backends.
 */
export interface NumericsCheck {
  name: string;
  /** Largest relative difference allowed (float32: a few ulps for single ops, more for long chains). */
  tol: number;
  run: () => Promise<Float32Array[]>;
}

export function seededNormal(n: number, seed: number): Float32Array {
  const rng = makeRng(seed);
  return Float32Array.from({ length: n }, () => rng.normal());
}

/** Reads tensors back and disposes them. */
export async function readAll(...ts: tf.Tensor[]): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (const t of ts) out.push(Float32Array.from(await t.data()));
  tf.dispose(ts);
  return out;
}

/** Largest |a − b| relative to max(1, max |a|); NaN against a number is an infinite difference. */
export function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let scale = 1;
  let d = 0;
  for (let i = 0; i < a.length; i++) {
    if (Number.isNaN(a[i]) !== Number.isNaN(b[i])) return Number.POSITIVE_INFINITY;
    scale = Math.max(scale, Math.abs(a[i]));
    d = Math.max(d, Math.abs(a[i] - b[i]));
  }
  return d / scale;
}

const U = (xs: tf.Tensor[], i: number) => xs[i] as tf.Tensor4D;

/** An op on seeded inputs: its output and, through a seeded upstream gradient, its gradient wrt each input. */
function opCheck(
  name: string,
  shapes: number[][],
  f: (xs: tf.Tensor[]) => tf.Tensor,
  seed: number,
  grad = true,
): NumericsCheck {
  return {
    name,
    tol: 2e-5,
    run: async () => {
      const xs = shapes.map((s, i) =>
        tf.tensor(
          seededNormal(
            s.reduce((a, b) => a * b, 1),
            seed + i,
          ),
          s,
        ),
      );
      const y = f(xs);
      const outs = [y];
      if (grad) {
        const dy = tf.tensor(seededNormal(y.size, seed + 100), y.shape);
        outs.push(...tf.grads((...a: tf.Tensor[]) => f(a).mul(dy).sum())(xs));
        dy.dispose();
      }
      const v = await readAll(...outs);
      tf.dispose(xs);
      return v;
    },
  };
}

// batch 2 wherever a kernel could mix up samples (tfjs's cpu upsampling gradient once did)
export const OP_CHECKS: NumericsCheck[] = [
  opCheck(
    'fused conv2d 3×3, stride 1, same, bias',
    [[2, 6, 6, 4], [3, 3, 4, 8], [8]],
    (x) => tf.fused.conv2d({ x: U(x, 0), filter: U(x, 1), strides: 1, pad: 'same', bias: x[2] }),
    1,
  ),
  opCheck(
    'fused conv2d 3×3, stride 2 (down-sampling)',
    [[2, 6, 6, 4], [3, 3, 4, 4], [4]],
    (x) => tf.fused.conv2d({ x: U(x, 0), filter: U(x, 1), strides: 2, pad: 'same', bias: x[2] }),
    2,
  ),
  opCheck(
    'conv2d 1×1 (skip connection)',
    [[2, 4, 4, 8], [1, 1, 8, 4], [4]],
    (x) => tf.fused.conv2d({ x: U(x, 0), filter: U(x, 1), strides: 1, pad: 'same', bias: x[2] }),
    3,
  ),
  opCheck(
    'resizeNearestNeighbor ×2 (up-sampling), batch 2',
    [[2, 3, 3, 4]],
    (x) => tf.image.resizeNearestNeighbor(U(x, 0), [6, 6]),
    4,
  ),
  opCheck(
    'fused matMul with bias (linear layers)',
    [[5, 6], [6, 7], [7]],
    (x) => tf.fused.matMul({ a: x[0] as tf.Tensor2D, b: x[1] as tf.Tensor2D, bias: x[2] }),
    5,
  ),
  opCheck(
    'attention: q·kᵀ/√c, softmax, ·v',
    [
      [2, 9, 4],
      [2, 9, 4],
      [2, 9, 4],
    ],
    ([q, k, v]) => tf.matMul(tf.softmax(tf.matMul(q, k, false, true).mul(0.5), -1), v),
    6,
  ),
  opCheck(
    'group norm + SiLU (lib/models/groupNorm)',
    [[2, 4, 4, 8], [8], [8]],
    (x) => groupNorm(U(x, 0), x[1] as tf.Tensor1D, x[2] as tf.Tensor1D, 4, 1e-5, 'silu'),
    7,
  ),
  opCheck('SiLU', [[2, 3, 3, 4]], (x) => silu(x[0]), 8),
  opCheck(
    'addScale (residual sum × 1/√2)',
    [
      [2, 3, 3, 4],
      [2, 3, 3, 4],
    ],
    (x) => addScale(x[0], x[1], Math.SQRT1_2),
    9,
  ),
  opCheck(
    'sinusoidal embedding: sin, cos, concat',
    [
      [3, 1],
      [1, 4],
    ],
    ([c, f]) => {
      const a = c.mul(f);
      return tf.concat([tf.cos(a), tf.sin(a)], 1);
    },
    10,
  ),
  opCheck(
    'broadcast add of the embedding bias, reshape, transpose, split',
    [
      [2, 3, 3, 6],
      [2, 6],
    ],
    ([h, b]) => {
      const s = h.add(b.reshape([2, 1, 1, 6]));
      const [p, q] = tf.split(s.transpose([0, 3, 1, 2]), 2, 1);
      return p.mul(q).sub(p);
    },
    11,
  ),
  opCheck(
    'EDM preconditioning arithmetic: mul, div, sqrt, rsqrt, square, mean',
    [
      [2, 3, 3, 1],
      [2, 3, 3, 1],
    ],
    ([x, y]) =>
      x
        .mul(1 / Math.sqrt(1.44 + 0.25))
        .add(y.square().add(1).rsqrt())
        .sub(x.square().mean()),
    12,
  ),
  opCheck(
    'L1 and L2 losses (abs, square, sum, sqrt)',
    [
      [2, 3, 3, 1],
      [2, 3, 3, 1],
    ],
    ([a, b]) =>
      tf.stack([a.sub(b).abs().mean(), a.sub(b).reshape([2, -1]).square().sum(1).add(1e-3).sqrt().mean()]),
    13,
  ),
  opCheck(
    'dynamic thresholding (topk quantile, clip)',
    [[2, 6, 6, 1]],
    (x) => dynamicThreshold(x[0].mul(3)),
    14,
    false,
  ),
  {
    name: 'sanitizing gradients (isNaN, isInf, where, sign)',
    tol: 0,
    run: async () => {
      const data = Float32Array.from([
        1,
        Number.NaN,
        -2,
        Number.POSITIVE_INFINITY,
        Number.NEGATIVE_INFINITY,
        3,
      ]);
      const clean = sanitizeGrads(new Map([['w', tf.tensor1d(data)]]));
      return readAll(clean.grads.get('w') as tf.Tensor, clean.replaced.cast('float32'));
    },
  },
];

/** A small UNet with every block kind: residual blocks, down- and up-sampling, mid attention, step condition. */
export const smallUNet: Partial<UNetConfig> = {
  resolution: 8,
  inChannels: 1,
  channels: [8, 16],
  groups: 4,
  embedDim: 8,
  attention: true,
  stepCondition: true,
};

/** One EDM training step of the small UNet: [loss], then every gradient, then every weight after Adam. */
export const EDM_STEP_CHECK: NumericsCheck = {
  name: 'EDM training step of a small UNet (loss, gradients, Adam update)',
  tol: 1e-4,
  run: async () => {
    const b = 2;
    const u = createUNet(smallUNet, 3);
    const adam = new Adam(u.weights);
    const x = tf.tensor4d(
      seededNormal(b * 64, 1).map((v) => 0.5 * Math.tanh(v)),
      [b, 8, 8, 1],
    );
    const n = tf.tensor4d(seededNormal(b * 64, 2), [b, 8, 8, 1]);
    const g = namedGrads(u.weights, () => ({
      loss: edmLoss((xin, cn) => u.net(xin, cn, { step: 2 }), x, Float32Array.from([0.3, 2.5]), n),
    }));
    const grads = await readAll(...[...g.grads.values()].map((t) => t.clone()));
    adam.apply(g.grads, 1e-3);
    const loss = await readAll(g.loss);
    const after = await readAll(...[...u.weights.values()].map((w) => w.clone()));
    tf.dispose([x, n, ...g.grads.values()]);
    adam.dispose();
    u.dispose();
    return [...loss, ...grads, ...after];
  },
};

/**
 * One SFD iteration (DPM-Solver++(3M) teacher with thresholding, K = 4, AFS, NFE 2) of a small random
 * teacher and its student copy: [step losses, [updates, teacher calls, replaced gradients], student out.w].
 */
export const SFD_ITERATION_CHECK: NumericsCheck = {
  name: 'SFD iteration (DPM-Solver++(3M) teacher, K = 4, AFS, NFE 2)',
  tol: 1e-4,
  run: async () => {
    const cfg: SfdConfig = { ...sfdDefaults, nfes: [2], batch: 2 };
    const small = { ...smallUNet, stepCondition: false };
    const teacherNet = createUNet(small, 5);
    tf.tidy(() => {
      const w = teacherNet.weights.get('out.w') as tf.Variable;
      w.assign(tf.tensor(seededNormal(w.size, 6), w.shape).mul(0.05));
    });
    const student = createUNet(small, 5);
    const teacher = edmPrecond(unetRawNet(teacherNet));
    const denoise = edmPrecond(unetRawNet(student));
    const adam = new Adam(student.weights);
    const ctx = {
      cfg,
      teacher: () => teacher,
      student: { denoise, weights: student.weights },
      adam,
      shape: [8, 8, 1],
    };
    const it = await sfdIteration(ctx, 0, 1e-3);
    const [w] = await readAll((student.weights.get('out.w') as tf.Variable).clone());
    adam.dispose();
    teacherNet.dispose();
    student.dispose();
    return [
      Float32Array.from(it.stepLosses),
      Float32Array.from([it.updates, it.teacherCalls, it.nonFiniteGrads]),
      w,
    ];
  },
};

/** Every solver's endpoints on the exact Gaussian teacher from the same noise (8 steps of the EDM grid). */
export const SAMPLER_CHECK: NumericsCheck = {
  name: 'the samplers on the exact Gaussian teacher (Euler, Heun, DPM-2, iPNDM, DPM-Solver++(3M))',
  tol: 1e-5,
  run: async () => {
    const z = seededNormal(64, 7).map((v) => 80 * v);
    const out: Float32Array[] = [];
    for (const name of ['euler', 'heun', 'dpm2', 'ipndm', 'dpmpp-3m']) {
      const x = tf.tensor2d(z, [64, 1]);
      const r = solverByName(name).solve(
        gaussianDenoiser({ mean: 0.2, std: 0.7 }),
        x,
        timeGrid(9, defaultSchedule),
        {
          keep: [],
        },
      );
      out.push(...(await readAll(r.x)));
      tf.dispose([x, ...r.trajectory]);
    }
    return out;
  },
};

/** The feature network's features and logits (FID, PRDC) on seeded images. */
export const FEATURE_NET_CHECK: NumericsCheck = {
  name: 'the feature network (FID/PRDC features and logits)',
  tol: 1e-4,
  run: async () => {
    const net = createFeatureNet(0);
    const x = tf.tensor4d(
      seededNormal(3 * 784, 8).map((v) => Math.tanh(v)),
      [3, 28, 28, 1],
    );
    const a = net.activations(x);
    const v = await readAll(a.features, a.logits);
    tf.dispose([x, ...a.convs]);
    net.dispose();
    return v;
  },
};

export const NUMERICS_CHECKS: NumericsCheck[] = [
  ...OP_CHECKS,
  EDM_STEP_CHECK,
  SFD_ITERATION_CHECK,
  SAMPLER_CHECK,
  FEATURE_NET_CHECK,
];

export interface NumericsRow {
  check: string;
  /** Largest relative difference over every array the check returns. */
  maxRelDiff: number;
  tol: number;
  ok: boolean;
  /** Each backend's wall seconds (webgpu's includes shader compilation). */
  cpuSeconds: number;
  webgpuSeconds: number;
}

/** Runs a check on `cpu`, then on `webgpu` (which must be loadable), and restores the backend in use. */
export async function onCpuAndWebgpu<T>(
  f: () => Promise<T>,
): Promise<{ cpu: T; gpu: T; seconds: [number, number] }> {
  const prev = tf.getBackend();
  try {
    await tf.setBackend('cpu');
    let t0 = performance.now();
    const cpu = await f();
    const s0 = (performance.now() - t0) / 1000;
    await tf.setBackend('webgpu');
    // small inputs would otherwise run on tfjs's cpu kernels ("CPU forwarding"): test the shaders
    tf.env().set('WEBGPU_CPU_FORWARD', false);
    t0 = performance.now();
    const gpu = await f();
    return { cpu, gpu, seconds: [s0, (performance.now() - t0) / 1000] };
  } finally {
    await tf.setBackend(prev);
  }
}

/** Compares one run of a check on both backends (`onCpuAndWebgpu(c.run)`). */
export function compareResults(
  c: NumericsCheck,
  r: { cpu: Float32Array[]; gpu: Float32Array[]; seconds: [number, number] },
): NumericsRow {
  let d = r.cpu.length === r.gpu.length ? 0 : Number.POSITIVE_INFINITY;
  for (const [i, a] of r.cpu.entries()) d = Math.max(d, maxRelDiff(a, r.gpu[i] ?? []));
  return {
    check: c.name,
    maxRelDiff: d,
    tol: c.tol,
    ok: d <= c.tol,
    cpuSeconds: r.seconds[0],
    webgpuSeconds: r.seconds[1],
  };
}

export async function compareCheck(c: NumericsCheck): Promise<NumericsRow> {
  return compareResults(c, await onCpuAndWebgpu(c.run));
}
