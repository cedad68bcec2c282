import { strict as assert } from 'node:assert';
import { loadAddon } from '../../lib/runtime/native/addon';
import { makeRng } from '../../lib/util/rng';

// The native products split over OpenMP's threads (native/sfd_native.c, gemm()): by rows of C, by columns,
// or by blocks of K summed afterwards, and a batch over its entries. These shapes are above the 1 MFLOP
// threshold and reach each split on 2 to 8 threads; each is checked against a product in double precision.

function rand(n: number, seed: number): Float32Array {
  const rng = makeRng(seed);
  return Float32Array.from({ length: n }, () => rng.normal());
}

/** C = alpha·op(A)·op(B) + beta·C0 in double, row-major with leading dimensions. */
function reference(
  g: { ta: boolean; tb: boolean; m: number; n: number; k: number; lda: number; ldb: number; ldc: number },
  alpha: number,
  a: Float32Array,
  b: Float32Array,
  beta: number,
  c0: Float32Array,
): Float64Array {
  const c = Float64Array.from(c0);
  for (let i = 0; i < g.m; i++)
    for (let j = 0; j < g.n; j++) {
      let s = 0;
      for (let p = 0; p < g.k; p++)
        s += (g.ta ? a[p * g.lda + i] : a[i * g.lda + p]) * (g.tb ? b[j * g.ldb + p] : b[p * g.ldb + j]);
      c[i * g.ldc + j] = alpha * s + beta * c0[i * g.ldc + j];
    }
  return c;
}

/** Float32 sums of k products drift like √k: the tolerance grows with it (a lost block of K is off by O(1)). */
function assertNear(got: Float32Array, want: Float64Array, what: string, k: number): void {
  const tol = 2e-5 * Math.max(1, Math.sqrt(k / 100));
  let worst = 0;
  for (let i = 0; i < want.length; i++)
    worst = Math.max(worst, Math.abs(got[i] - want[i]) / (1 + Math.abs(want[i])));
  assert.ok(worst < tol, `${what}: largest relative error ${worst}`);
}

describe('native products split over threads', () => {
  const { addon, reason } = loadAddon();
  before(function () {
    if (!addon) {
      if (process.env.SFD_REQUIRE_NATIVE === '1') throw new Error(`native addon required: ${reason}`);
      console.log(`    (skipped: ${reason})`);
      this.skip();
    }
  });

  const cases = [
    { what: 'by rows', m: 300, n: 20, k: 200 },
    { what: 'by columns', m: 4, n: 700, k: 300 },
    { what: 'by blocks of K', m: 9, n: 12, k: 9000 },
    { what: 'on one thread (small)', m: 5, n: 6, k: 7 },
  ];
  for (const c of cases)
    for (const [ta, tb] of [
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ])
      it(`sgemm ${c.what}, transposes ${+ta}${+tb}, leading dimensions wider than the matrices, beta ≠ 0`, () => {
        const pad = 3;
        const g = {
          ta,
          tb,
          ...c,
          lda: (ta ? c.m : c.k) + pad,
          ldb: (tb ? c.k : c.n) + pad,
          ldc: c.n + pad,
        };
        const a = rand((ta ? c.k : c.m) * g.lda, 1);
        const b = rand((tb ? c.n : c.k) * g.ldb, 2);
        const c0 = rand(c.m * g.ldc, 3);
        const out = Float32Array.from(c0);
        addon?.sgemm(+ta, +tb, c.m, c.n, c.k, 0.5, a, g.lda, b, g.ldb, 0.25, out, g.ldc);
        const want = reference(g, 0.5, a, b, 0.25, c0);
        // the padding columns of C are left as they were
        for (let i = 0; i < c.m; i++)
          for (let j = c.n; j < g.ldc; j++) want[i * g.ldc + j] = c0[i * g.ldc + j];
        assertNear(out, want, `${c.what} ${+ta}${+tb}`, c.k);
      });

  it('sgemm by blocks of K with beta = 0 overwrites C (NaN before it included)', () => {
    const g = { ta: false, tb: false, m: 8, n: 8, k: 20000, lda: 20000, ldb: 8, ldc: 8 };
    const a = rand(g.m * g.k, 4);
    const b = rand(g.k * g.n, 5);
    const out = new Float32Array(64).fill(Number.NaN);
    addon?.sgemm(0, 0, g.m, g.n, g.k, 1, a, g.lda, b, g.ldb, 0, out, g.ldc);
    assertNear(out, reference(g, 1, a, b, 0, new Float32Array(64)), 'beta 0', g.k);
  });

  for (const [label, batch, m, n, k, broadcastA, broadcastB] of [
    ['split over the batch', 16, 49, 49, 64, false, false],
    ['one operand broadcast', 12, 40, 30, 50, true, false],
    ['the other broadcast, below the threshold', 3, 4, 5, 6, false, true],
  ] as const)
    it(`sgemmBatch: ${label}`, () => {
      for (const [ta, tb] of [
        [false, true],
        [true, false],
      ]) {
        const sizeA = m * k;
        const sizeB = k * n;
        const a = rand(broadcastA ? sizeA : batch * sizeA, 6);
        const b = rand(broadcastB ? sizeB : batch * sizeB, 7);
        const out = new Float32Array(batch * m * n).fill(Number.NaN);
        addon?.sgemmBatch(
          +ta,
          +tb,
          m,
          n,
          k,
          batch,
          a,
          broadcastA ? 0 : sizeA,
          b,
          broadcastB ? 0 : sizeB,
          out,
        );
        for (let i = 0; i < batch; i++) {
          const ai = a.subarray(broadcastA ? 0 : i * sizeA);
          const bi = b.subarray(broadcastB ? 0 : i * sizeB);
          const g = { ta, tb, m, n, k, lda: ta ? m : k, ldb: tb ? k : n, ldc: n };
          const want = reference(g, 1, ai, bi, 0, new Float32Array(m * n));
          assertNear(out.subarray(i * m * n, (i + 1) * m * n), want, `${label} entry ${i} ${+ta}${+tb}`, k);
        }
      }
    });

  it('sgemmBatch refuses buffers too small for its sizes', () => {
    const small = new Float32Array(10);
    assert.throws(
      () => addon?.sgemmBatch(0, 0, 4, 4, 4, 2, small, 16, small, 16, new Float32Array(32)),
      /sgemmBatch: sizes do not fit the buffers/,
    );
  });
});
