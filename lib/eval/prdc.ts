/**
 * Precision and recall (Kynkäänniemi et al. 2019) and density and coverage (Naeem et al. 2020) with
 * k-nearest-neighbour balls, as in the reference implementation (strict `<` against the k-th neighbour
 * distance, Euclidean distances in float64). Distances are streamed row by row, so memory stays O(n + m)
 * however large the sets are.
 */
export interface Prdc {
  precision: number;
  recall: number;
  density: number;
  coverage: number;
}

/** Rows of a flat feature array. */
export interface FeatureSet {
  data: ArrayLike<number>;
  dim: number;
}

function rows(s: FeatureSet): number {
  if (s.data.length % s.dim !== 0)
    throw new RangeError(`feature set of ${s.data.length} values is not n×${s.dim}`);
  return s.data.length / s.dim;
}

function toF64(s: FeatureSet): Float64Array {
  return s.data instanceof Float64Array ? s.data : Float64Array.from(s.data);
}

/** Squared distances from row i of a to every row of b. */
function distancesTo(
  a: Float64Array,
  i: number,
  b: Float64Array,
  nb: number,
  d: number,
  out: Float64Array,
): void {
  const off = i * d;
  for (let j = 0; j < nb; j++) {
    let s = 0;
    const bo = j * d;
    for (let c = 0; c < d; c++) {
      const t = a[off + c] - b[bo + c];
      s += t * t;
    }
    out[j] = s;
  }
}

/** The k-th smallest value of `v` among indices ≠ `skip` (small k: insertion into a sorted buffer). */
function kthSmallest(v: Float64Array, k: number, skip: number): number {
  const best = new Float64Array(k).fill(Number.POSITIVE_INFINITY);
  for (let j = 0; j < v.length; j++) {
    if (j === skip) continue;
    const x = v[j];
    if (x >= best[k - 1]) continue;
    let p = k - 1;
    while (p > 0 && best[p - 1] > x) {
      best[p] = best[p - 1];
      p--;
    }
    best[p] = x;
  }
  return best[k - 1];
}

/** Distance from each row to its k-th nearest other row of the same set (squared). */
function knnRadii(x: Float64Array, n: number, d: number, k: number): Float64Array {
  const r = new Float64Array(n);
  const buf = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    distancesTo(x, i, x, n, d, buf);
    r[i] = kthSmallest(buf, k, i);
  }
  return r;
}

export function prdc(real: FeatureSet, fake: FeatureSet, k = 5): Prdc {
  const d = real.dim;
  if (fake.dim !== d) throw new RangeError(`prdc: feature dimensions differ (${d} vs ${fake.dim})`);
  const n = rows(real);
  const m = rows(fake);
  if (n <= k || m <= k)
    throw new RangeError(`prdc: need more than k=${k} samples in each set (have ${n}, ${m})`);
  const r = toF64(real);
  const f = toF64(fake);
  const realR = knnRadii(r, n, d, k);
  const fakeR = knnRadii(f, m, d, k);
  let precise = 0;
  let dense = 0;
  const recalled = new Uint8Array(n);
  const covered = new Uint8Array(n);
  const buf = new Float64Array(n);
  for (let j = 0; j < m; j++) {
    distancesTo(f, j, r, n, d, buf);
    let inAny = false;
    for (let i = 0; i < n; i++) {
      const dist = buf[i];
      // Inside real i's ball: counts for precision and density, and covers real i (its nearest
      // fake is then within its ball too).
      if (dist < realR[i]) {
        inAny = true;
        dense++;
        covered[i] = 1;
      }
      if (dist < fakeR[j]) recalled[i] = 1;
    }
    if (inAny) precise++;
  }
  const sum = (a: Uint8Array) => a.reduce((s, v) => s + v, 0);
  return {
    precision: precise / m,
    recall: sum(recalled) / n,
    density: dense / (k * m),
    coverage: sum(covered) / n,
  };
}
