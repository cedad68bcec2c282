/**
 * Text widths in DejaVu Sans (the font every figure is drawn and rasterised with), so that charts can lay out
 * titles and legends without a browser. Advance widths in font units (2048 per em), read from Debian's
 * DejaVuSans.ttf / DejaVuSans-Bold.ttf (version 2.37) for printable ASCII and the symbols figures use;
 * kerning is ignored (it only narrows text), and an unknown character counts as a wide one (an 'M').
 */
const UNITS = 2048;

// code points 32..126
const ASCII_REGULAR = [
  651, 821, 942, 1716, 1303, 1946, 1597, 563, 799, 799, 1024, 1716, 651, 739, 651, 690, 1303, 1303, 1303,
  1303, 1303, 1303, 1303, 1303, 1303, 1303, 690, 690, 1716, 1716, 1716, 1087, 2048, 1401, 1405, 1430, 1577,
  1294, 1178, 1587, 1540, 604, 604, 1343, 1141, 1767, 1532, 1612, 1235, 1612, 1423, 1300, 1251, 1499, 1401,
  2025, 1403, 1251, 1403, 799, 690, 799, 1716, 1024, 1024, 1255, 1300, 1126, 1300, 1260, 721, 1300, 1298, 569,
  569, 1186, 569, 1995, 1298, 1253, 1300, 1300, 842, 1067, 803, 1298, 1212, 1675, 1212, 1212, 1075, 1303, 690,
  1303, 1716,
];
const ASCII_BOLD = [
  713, 934, 1067, 1716, 1425, 2052, 1786, 627, 936, 936, 1071, 1716, 778, 850, 778, 748, 1425, 1425, 1425,
  1425, 1425, 1425, 1425, 1425, 1425, 1425, 819, 819, 1716, 1716, 1716, 1188, 2048, 1585, 1561, 1503, 1700,
  1399, 1399, 1681, 1714, 762, 762, 1587, 1305, 2038, 1714, 1741, 1501, 1741, 1577, 1475, 1397, 1663, 1585,
  2259, 1579, 1483, 1485, 936, 748, 936, 1716, 1024, 1024, 1382, 1466, 1214, 1466, 1389, 891, 1466, 1458, 702,
  702, 1362, 702, 2134, 1458, 1407, 1466, 1466, 1010, 1219, 979, 1458, 1335, 1892, 1321, 1335, 1192, 1458,
  748, 1458, 1716,
];

/** Other characters, as [characters, regular widths, bold widths]. */
const EXTRA: [string, number[], number[]][] = [
  ['–—‘’“”…·', [1024, 2048, 651, 651, 1061, 1061, 2048, 651], [1024, 2048, 778, 778, 1346, 1346, 2048, 778]],
  ['×−±≤≥→←≈', Array(8).fill(1716), Array(8).fill(1716)],
  ['°µ√∞∑', [1024, 1303, 1305, 1706, 1380], [1024, 1507, 1366, 1706, 1470]],
  [
    'αβγδεζηθικλμνξπρστυφχψω',
    [
      1350, 1307, 1212, 1253, 1107, 1114, 1298, 1253, 693, 1207, 1212, 1303, 1144, 1142, 1233, 1300, 1298,
      1233, 1185, 1351, 1183, 1351, 1715,
    ],
    [
      1407, 1466, 1395, 1407, 1140, 1210, 1458, 1407, 798, 1455, 1296, 1507, 1395, 1210, 1620, 1466, 1595,
      1307, 1383, 1602, 1321, 1626, 1780,
    ],
  ],
  ['ΓΔΛΠΣΦΩ', [1141, 1401, 1401, 1540, 1294, 1612, 1565], [1305, 1585, 1585, 1714, 1399, 1741, 1741]],
  ['⁰¹²³⁴⁵⁶⁷⁸⁹₀₁₂₃₄₅₆₇₈₉', Array(20).fill(821), Array(20).fill(897)],
  ['⁻', [1081], [1081]],
  ['éèüöäàç', [1260, 1260, 1298, 1253, 1255, 1255, 1126], [1389, 1389, 1458, 1407, 1382, 1382, 1214]],
];

const tables = [false, true].map((bold) => {
  const m = new Map<string, number>();
  (bold ? ASCII_BOLD : ASCII_REGULAR).forEach((w, i) => {
    m.set(String.fromCharCode(32 + i), w);
  });
  for (const [chars, regular, boldW] of EXTRA)
    [...chars].forEach((c, i) => {
      m.set(c, (bold ? boldW : regular)[i]);
    });
  return m;
});

export interface FontSpec {
  /** Font size in px. */
  size: number;
  bold?: boolean;
}

/** The width in px of one line of text in DejaVu Sans at the given size. */
export function textWidth(text: string, font: FontSpec): number {
  const t = tables[font.bold ? 1 : 0];
  const wide = t.get('M') as number;
  let units = 0;
  for (const c of text) units += t.get(c) ?? wide;
  return (units * font.size) / UNITS;
}

/** Greedy word wrap of `text` into lines no wider than `maxWidth` (a word wider than that is split). */
function greedy(words: string[], maxWidth: number, font: FontSpec): string[] {
  const lines: string[] = [];
  let line = '';
  for (let word of words) {
    const joined = line ? `${line} ${word}` : word;
    if (textWidth(joined, font) <= maxWidth) {
      line = joined;
      continue;
    }
    if (line) lines.push(line);
    // a single word too long for a line is cut where it overflows
    while (textWidth(word, font) > maxWidth && word.length > 1) {
      let k = word.length - 1;
      while (k > 1 && textWidth(word.slice(0, k), font) > maxWidth) k--;
      lines.push(word.slice(0, k));
      word = word.slice(k);
    }
    line = word;
  }
  if (line) lines.push(line);
  return lines;
}

export interface FittedText {
  lines: string[];
  /** The font size the lines fit at (≤ the requested size). */
  size: number;
}

/**
 * Fits a title into `maxWidth`: one line at `font.size` if it fits; else wrapped into at most `maxLines`
 * balanced lines; else the font shrinks (down to `minSize`) until it does; at `minSize` as many lines as it
 * takes. Every returned line is at most `maxWidth` wide, so nothing is ever cut.
 */
export function fitText(
  text: string,
  maxWidth: number,
  font: FontSpec,
  opts: { maxLines?: number; minSize?: number } = {},
): FittedText {
  const maxLines = opts.maxLines ?? 2;
  const minSize = Math.min(opts.minSize ?? 10, font.size);
  const words = text.split(/\s+/).filter(Boolean);
  const at = (size: number, width: number) => greedy(words, width, { ...font, size });
  let size = font.size;
  let lines = at(size, maxWidth);
  while (lines.length > maxLines && size > minSize) {
    size = Math.max(minSize, size - 0.5);
    lines = at(size, maxWidth);
  }
  if (lines.length === 2 && lines.join(' ') === words.join(' ')) {
    // two lines: the most even split, preferring a break after punctuation ("…, 312 s, | ETA …" rather
    // than "…, 312 | s, ETA …") or before a parenthesis
    const f = { ...font, size };
    let best: { score: number; lines: string[] } | null = null;
    for (let i = 1; i < words.length; i++) {
      const pair = [words.slice(0, i).join(' '), words.slice(i).join(' ')];
      const [a, b] = pair.map((l) => textWidth(l, f));
      if (Math.max(a, b) > maxWidth) continue;
      const natural = /[,:;.)]$/.test(words[i - 1]) || words[i].startsWith('(');
      const score = Math.max(a, b) - (natural ? 0.2 * maxWidth : 0);
      if (!best || score < best.score) best = { score, lines: pair };
    }
    if (best) return { lines: best.lines, size };
  }
  if (lines.length > 1) {
    // balance: the narrowest width that still needs no more lines (so the last line is not a stub)
    let [lo, hi] = [maxWidth / lines.length, maxWidth];
    while (hi - lo > 1) {
      const mid = (lo + hi) / 2;
      if (at(size, mid).length <= lines.length) hi = mid;
      else lo = mid;
    }
    lines = at(size, hi);
  }
  return { lines, size };
}
