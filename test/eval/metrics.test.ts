import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { FeatureStats, frechetDistance, type GaussianStats } from '../../lib/eval/fid';
import { prdc } from '../../lib/eval/prdc';
import { makeRng } from '../../lib/util/rng';
import { assertClose } from '../helpers';

/** n rows of correlated d-dim features: z·L + shift, with a fixed random mixing L. */
function features(n: number, d: number, seed: number, shift = 0, scale = 1): Float64Array {
  const rng = makeRng(seed);
  const mix = Float64Array.from({ length: d * d }, () => rng.normal() / Math.sqrt(d));
  const out = new Float64Array(n * d);
  const z = new Float64Array(d);
  for (let r = 0; r < n; r++) {
    for (let i = 0; i < d; i++) z[i] = rng.normal();
    for (let j = 0; j < d; j++) {
      let s = 0;
      for (let i = 0; i < d; i++) s += z[i] * mix[i * d + j];
      out[r * d + j] = scale * (s + z[j]) + shift;
    }
  }
  return out;
}

const stats = (x: Float64Array, d: number) => new FeatureStats(d).add(x).summary();

describe('FID', () => {
  it('streams the same mean and unbiased covariance as a two-pass computation', () => {
    const d = 5;
    const n = 40;
    const x = features(n, d, 1, 0.3);
    const s = new FeatureStats(d);
    s.add(x.subarray(0, 13 * d)).add(x.subarray(13 * d));
    const mu = Array.from(
      { length: d },
      (_, j) => x.filter((_, k) => k % d === j).reduce((a, b) => a + b) / n,
    );
    const cov: number[] = [];
    for (let i = 0; i < d; i++)
      for (let j = 0; j < d; j++) {
        let c = 0;
        for (let r = 0; r < n; r++) c += (x[r * d + i] - mu[i]) * (x[r * d + j] - mu[j]);
        cov.push(c / (n - 1));
      }
    assertClose(Array.from(s.mean()), mu, 1e-12, 1e-14, 'mean');
    assertClose(Array.from(s.covariance()), cov, 1e-10, 1e-12, 'covariance');
  });

  it('is ~0 between a set and itself', () => {
    const s = stats(features(500, 16, 2), 16);
    const fid = frechetDistance(s, s);
    assert.ok(Math.abs(fid) < 1e-9, `FID(x, x) = ${fid}`);
  });

  it('matches the closed form between two Gaussians', () => {
    // Diagonal covariances: FID = ‖Δμ‖² + Σ(√a − √b)². A rotation of both leaves it unchanged.
    const a = [1, 4, 0.25, 9];
    const b = [2, 1, 1, 0.5];
    const mu1 = [0, 1, 2, 3];
    const mu2 = [1, 1, 0, 3];
    const exact =
      mu1.reduce((s, m, i) => s + (m - mu2[i]) ** 2, 0) +
      a.reduce((s, v, i) => s + (Math.sqrt(v) - Math.sqrt(b[i])) ** 2, 0);
    const d = 4;
    // A fixed orthogonal matrix (Householder reflection) makes the covariances non-diagonal.
    const v = [1, -2, 0.5, 1];
    const vv = v.reduce((s, x) => s + x * x, 0);
    const q = (i: number, j: number) => (i === j ? 1 : 0) - (2 * v[i] * v[j]) / vv;
    const rotate = (diag: number[]) => {
      const m: number[] = [];
      for (let i = 0; i < d; i++)
        for (let j = 0; j < d; j++) m.push(diag.reduce((s, l, k) => s + q(i, k) * l * q(j, k), 0));
      return m;
    };
    const g = (mu: number[], diag: number[]): GaussianStats => ({ n: 0, mu, sigma: rotate(diag) });
    assertClose([frechetDistance(g(mu1, a), g(mu2, b))], [exact], 1e-10, 0, 'FID');
    // Commutes with the argument order.
    assertClose([frechetDistance(g(mu2, b), g(mu1, a))], [exact], 1e-10, 0, 'FID swapped');
  });

  it('clips the negative eigenvalues of rank-deficient covariances instead of failing', () => {
    const d = 8;
    const s1 = stats(features(4, d, 3), d); // 4 samples in 8 dimensions: rank 3
    const s2 = stats(features(5, d, 4), d);
    const fid = frechetDistance(s1, s2);
    assert.ok(Number.isFinite(fid) && fid > 0, `FID ${fid}`);
  });

  it('refuses mismatched dimensions and non-finite features', () => {
    assert.throws(
      () => frechetDistance(stats(features(10, 3, 1), 3), stats(features(10, 4, 1), 4)),
      /dimensions/,
    );
    assert.throws(() => new FeatureStats(2).add([1, Number.NaN]), /non-finite/);
  });
});

describe('precision / recall / density / coverage', () => {
  it('give full precision, recall and coverage for a set against itself, and all zeros for a far-away set', () => {
    const d = 3;
    const r = features(200, d, 5);
    const same = prdc({ data: r, dim: d }, { data: r, dim: d }, 5);
    assert.equal(same.precision, 1);
    assert.equal(same.recall, 1);
    assert.equal(same.coverage, 1);
    const far = prdc({ data: r, dim: d }, { data: features(200, d, 6, 100), dim: d }, 5);
    assert.deepEqual(far, { precision: 0, recall: 0, density: 0, coverage: 0 });
  });

  it('match a hand-worked 1-D example', () => {
    // Real 0,1,2,3,10 with k=1: radii 1,1,1,1,7. Fake 0.5, 2.9, 20: radii (k=1) 2.4, 2.4, 17.1.
    // Precision: 0.5 (in the balls of 0 and 1) and 2.9 (balls of 2 and 3; |2.9−10| = 7.1 > 7) are in,
    // 20 is not → 2/3. Density: 2 + 2 + 0 balls → 4/(k·3).
    // Recall: reals within some fake's ball: 0 (0.5, r 2.4), 1, 2, 3 yes; 10 (|10−20| = 10 < 17.1) yes → 5/5.
    // Coverage: real i's nearest fake inside its radius: 0 (0.5 < 1) yes, 1 (0.5) yes, 2 (0.9) yes, 3 (0.1) yes,
    // 10 (7.1 > 7) no → 4/5.
    const p = prdc({ data: [0, 1, 2, 3, 10], dim: 1 }, { data: [0.5, 2.9, 20], dim: 1 }, 1);
    assertClose([p.precision, p.density, p.recall, p.coverage], [2 / 3, 4 / 3, 1, 4 / 5], 1e-12, 0, 'prdc');
  });

  it('refuses too few samples for k and mismatched dimensions', () => {
    assert.throws(
      () => prdc({ data: [1, 2, 3], dim: 1 }, { data: [1, 2, 3, 4, 5, 6, 7], dim: 1 }, 5),
      /more than k/,
    );
    assert.throws(
      () => prdc({ data: new Float64Array(20), dim: 2 }, { data: new Float64Array(30), dim: 3 }),
      /dimensions/,
    );
  });
});

describe('FID and PRDC against numpy/scipy', function () {
  this.timeout(120_000);
  const python = '/usr/bin/python3';
  const hasScipy = spawnSync(python, ['-c', 'import numpy, scipy.linalg'], { encoding: 'utf8' }).status === 0;

  it('agree with scipy.linalg.sqrtm FID and a numpy PRDC on fixed features', function () {
    if (!hasScipy) this.skip();
    const d = 16;
    const n = 300;
    const m = 250;
    const real = features(n, d, 11);
    const fake = features(m, d, 12, 0.2, 1.3);
    const script = `
import json, sys, numpy as np, scipy.linalg
a = json.load(sys.stdin); d = a['d']
r = np.array(a['real']).reshape(-1, d); f = np.array(a['fake']).reshape(-1, d); k = a['k']
mu1, mu2 = r.mean(0), f.mean(0); s1, s2 = np.cov(r, rowvar=False), np.cov(f, rowvar=False)
cm, _ = scipy.linalg.sqrtm(s1.dot(s2), disp=False)
fid = float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(cm.real))
dist = lambda x, y: np.sqrt(((x[:, None, :] - y[None, :, :]) ** 2).sum(-1))
rr, ff, rf = dist(r, r), dist(f, f), dist(r, f)
rad = lambda dd: np.sort(dd, axis=1)[:, k]
rr_r, ff_r = rad(rr), rad(ff)
out = dict(fid=fid,
  precision=float((rf < rr_r[:, None]).any(0).mean()),
  recall=float((rf < ff_r[None, :]).any(1).mean()),
  density=float((1.0 / k) * (rf < rr_r[:, None]).sum(0).mean()),
  coverage=float((rf.min(1) < rr_r).mean()))
print(json.dumps(out))`;
    const res = spawnSync(python, ['-c', script], {
      input: JSON.stringify({ d, k: 5, real: Array.from(real), fake: Array.from(fake) }),
      encoding: 'utf8',
    });
    assert.equal(res.status, 0, res.stderr);
    const ref = JSON.parse(res.stdout);
    const fid = frechetDistance(stats(real, d), stats(fake, d));
    assertClose([fid], [ref.fid], 1e-8, 0, 'FID vs scipy');
    const p = prdc({ data: real, dim: d }, { data: fake, dim: d }, 5);
    // The oracle compares Euclidean distances, this code squared ones: identical decisions barring exact ties.
    assertClose(
      [p.precision, p.recall, p.density, p.coverage],
      [ref.precision, ref.recall, ref.density, ref.coverage],
      0,
      1e-12,
      'PRDC vs numpy',
    );
    assert.ok(p.precision > 0 && p.precision < 1 && p.coverage > 0 && p.coverage < 1, JSON.stringify(p));
  });
});
