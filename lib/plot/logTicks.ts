import * as d3 from 'd3';

const SUPERSCRIPT = '⁰¹²³⁴⁵⁶⁷⁸⁹';

/** 10 to an integer power as a label: 10⁻³, 10⁰, 10⁶. */
export function powerOfTen(exponent: number): string {
  const digits = [...String(Math.abs(exponent))].map((d) => SUPERSCRIPT[Number(d)]).join('');
  return `10${exponent < 0 ? '⁻' : ''}${digits}`;
}

/** A number as plain decimals (0.002, 20, 1500), never in e-notation, without float noise. */
export function plainNumber(v: number): string {
  const s = String(Number(v.toPrecision(6)));
  if (!/e/i.test(s)) return s;
  // toFixed writes small numbers out in full (up to 100 digits), large ones too below 1e21
  return Number(v.toPrecision(6))
    .toFixed(Math.max(0, -Math.floor(Math.log10(Math.abs(v))) + 5))
    .replace(/(\.\d*?)0+$/, '$1')
    .replace(/\.$/, '');
}

export interface LogTicks {
  /** Labelled ticks. */
  major: number[];
  /** Unlabelled ticks between them (shorter marks). */
  minor: number[];
  /** Label of a major tick. */
  label(v: number): string;
}

/** Plain decimals are used for labels from 0.001 to 10000; beyond, powers of ten. */
const PLAIN = [1e-3, 1e4];
const MANTISSAS = [[1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 2, 3, 5], [1, 2, 5], [1]];

/**
 * Ticks of a log axis over [lo, hi] read like a paper's: 1, 2, 5, 10, 20, 50, 100 — or, over many decades or
 * beyond 0.001…10000, 10⁻³, 10⁰, 10³ — never "2e+1". The densest of the mantissa sets {1…9}, {1, 2, 3, 5},
 * {1, 2, 5}, {1} with at most `maxLabels` labels is labelled (every k-th decade if even {1} has too many);
 * the other 1…9 × 10ᵏ are minor ticks. A domain too narrow for three labelled ticks gets linear ones.
 */
export function logTicks(lo: number, hi: number, maxLabels = 6): LogTicks {
  if (!(lo > 0 && hi > 0)) throw new RangeError(`logTicks: the domain [${lo}, ${hi}] must be positive`);
  if (lo > hi) [lo, hi] = [hi, lo];
  const eps = 1e-9;
  const inside = (v: number) => v >= lo * (1 - eps) && v <= hi * (1 + eps);
  const k0 = Math.floor(Math.log10(lo));
  const k1 = Math.ceil(Math.log10(hi));
  const value = (m: number, k: number) => Number((m * 10 ** k).toPrecision(12));
  const all: number[] = [];
  for (let k = k0; k <= k1; k++) for (let m = 1; m <= 9; m++) if (inside(value(m, k))) all.push(value(m, k));
  const plain = (vs: number[]) => vs.every((v) => v >= PLAIN[0] * (1 - eps) && v <= PLAIN[1] * (1 + eps));
  const mantissa = (v: number) => Math.round(v / 10 ** Math.floor(Math.log10(v) + eps));
  let major: number[] = [];
  for (const set of MANTISSAS) {
    major = all.filter((v) => set.includes(mantissa(v)));
    // beyond plain decimals only whole decades have a short label
    if (set.length > 1 && !plain(major)) continue;
    if (major.length <= maxLabels) break;
  }
  if (major.length > maxLabels) {
    const stride = Math.ceil(major.length / maxLabels);
    const e = (v: number) => Math.round(Math.log10(v));
    major = major.filter((v) => e(v) % stride === 0);
  }
  const minorOf = (majors: number[]) => all.filter((v) => !majors.includes(v));
  if ((major.length < 3 && all.length < 3) || major.length === 0) {
    // a fraction of a decade: linear steps (14, 16, 18, …) read better than one or two log ticks
    for (let count = Math.min(maxLabels, 5); count >= 1; count--) {
      const linear = d3.ticks(lo, hi, count).filter((v) => v > 0);
      if (linear.length >= 2 && linear.length <= Math.max(maxLabels, 2))
        return { major: linear, minor: [], label: plainNumber };
    }
  }
  const usePlain = plain(major);
  return {
    major,
    minor: minorOf(major),
    label: (v) => (usePlain ? plainNumber(v) : powerOfTen(Math.round(Math.log10(v)))),
  };
}

/**
 * A log domain widened to the nearest 1, 2 or 5 × 10ᵏ on each side (d3's nice() goes to whole decades, which
 * can leave most of an axis empty).
 */
export function niceLogDomain(lo: number, hi: number): [number, number] {
  if (!(lo > 0 && hi > 0)) throw new RangeError(`niceLogDomain: the domain [${lo}, ${hi}] must be positive`);
  if (lo > hi) [lo, hi] = [hi, lo];
  const steps = (v: number) => {
    const k = Math.floor(Math.log10(v));
    return [1, 2, 5, 10].map((m) => Number((m * 10 ** k).toPrecision(12)));
  };
  const eps = 1e-9;
  const down = steps(lo).filter((s) => s <= lo * (1 + eps));
  const up = steps(hi).filter((s) => s >= hi * (1 - eps));
  return [down[down.length - 1], up[0]];
}
