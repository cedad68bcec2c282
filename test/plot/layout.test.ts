import { strict as assert } from 'node:assert';
import { Resvg } from '@resvg/resvg-js';
import { MIN_PLOT_FRACTION } from '../../lib/plot/chartLayout';
import { plotlyMimeBundle, svgSize } from '../../lib/plot/display';
import { type LineChartOptions, lineChart, type Series } from '../../lib/plot/lineChart';
import { linePlotly } from '../../lib/plot/linePlotly';
import { logTicks, niceLogDomain } from '../../lib/plot/logTicks';
import { scatterChart } from '../../lib/plot/scatterChart';
import { FONT_FILES } from '../../lib/plot/svgToPng';
import { fitText, textWidth } from '../../lib/plot/textWidth';

/** What a tick label on a log axis may read: 0.01, 2, 500 or 10⁻³, 10⁶. */
const LOG_LABEL = /^(\d+(\.\d+)?|10[⁰¹²³⁴⁵⁶⁷⁸⁹⁻]+)$/;

/** The extent resvg (the renderer of every PNG) gives the given elements of an SVG, with DejaVu Sans. */
function inkBox(svg: string, elements: string): { x: number; width: number } {
  const root = /^<svg[^>]*>/.exec(svg)?.[0] as string;
  const r = new Resvg(`${root}${elements}</svg>`, {
    font: { loadSystemFonts: false, fontFiles: FONT_FILES, defaultFontFamily: 'DejaVu Sans' },
  });
  const box = r.getBBox();
  assert.ok(box, 'nothing drawn');
  return { x: box.x, width: box.width };
}

const titleOf = (svg: string) => /<text[^>]*class="title"[^>]*>.*?<\/text>/.exec(svg)?.[0] ?? '';
const tspans = (el: string) => [...el.matchAll(/<tspan[^>]*>([^<]*)<\/tspan>/g)].map((m) => m[1]);

/** The exported timestamp-transfer figure (notebook 01): a long title, five series, two log axes. */
const l2: { series: Series[]; opts: LineChartOptions } = {
  series: ['undistilled', 'tuned at t=26.0', 'tuned at t=6.79', 'tuned at t=1.29', 'tuned at t=0.145'].map(
    (name, k) => ({
      name,
      x: [25.96, 6.788, 1.289, 0.1454, 0.006],
      y: [14.79, 3.27 - k * 0.5, 5.47 - k * 0.7, 5.58, 5.92 - k],
      dashed: k === 0,
    }),
  ),
  opts: {
    title: 'Teacher–student L2 distance, NFE 4 (one student per tuned timestamp)',
    xLabel: 'timestamp t (student grid)',
    yLabel: 'mean L2 distance',
    logX: true,
    logY: true,
  },
};

/** x range of the bottom axis (its domain path "M x0,6 V0 H x1 V6"): the plot area's width. */
function plotSpan(svg: string): [number, number] {
  const axis = /class="x-axis".*?<path d="M([\d.]+),[\d.]+V[\d.]+H([\d.]+)V/.exec(svg);
  assert.ok(axis, 'no x axis');
  return [Number(axis[1]), Number(axis[2])];
}

/** Tick label texts of one axis group of a chart (the <g> holding class="x-axis", to its matching </g>). */
function tickLabels(svg: string, axis: 'x-axis' | 'y-axis'): string[] {
  const start = svg.lastIndexOf('<g', svg.indexOf(`class="${axis}"`));
  let depth = 0;
  let end = start;
  for (const m of svg.slice(start).matchAll(/<g[\s>]|<\/g>/g)) {
    depth += m[0] === '</g>' ? -1 : 1;
    if (depth === 0) {
      end = start + (m.index ?? 0);
      break;
    }
  }
  const group = svg.slice(start, end);
  return [...group.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]).filter(Boolean);
}

describe('figures read like a paper’s', () => {
  describe('text widths (DejaVu Sans)', () => {
    it('match what resvg draws, within 3 %', () => {
      const svg =
        '<svg xmlns="http://www.w3.org/2000/svg" width="900" height="40" font-family="DejaVu Sans">';
      for (const [text, size, bold] of [
        [l2.opts.title as string, 13, true],
        ['tuned at t=0.145', 11, false],
        ['DPM-Solver++(3M) +AFS, ρ = 7 → σ²', 11, false],
      ] as const) {
        const ink = inkBox(
          `${svg}</svg>`,
          `<text x="0" y="30" font-size="${size}"${bold ? ' font-weight="bold"' : ''}>${text}</text>`,
        );
        const est = textWidth(text, { size, bold });
        assert.ok(
          Math.abs(ink.width - est) / est < 0.03,
          `${text}: resvg ${ink.width} px, estimated ${est} px`,
        );
      }
    });

    it('fitText wraps into balanced lines, then shrinks, and never cuts a word', () => {
      const title = l2.opts.title as string;
      const font = { size: 13, bold: true };
      assert.deepEqual(fitText('short', 200, font), { lines: ['short'], size: 13 });
      const two = fitText(title, 480, font);
      assert.equal(two.lines.length, 2);
      assert.equal(two.lines.join(' '), title);
      const [a, b] = two.lines.map((l) => textWidth(l, font));
      assert.ok(Math.min(a, b) / Math.max(a, b) > 0.6, `unbalanced lines: ${a} and ${b} px`);
      const long = `${title} ${title} ${title}`;
      const fit = fitText(long, 300, font);
      assert.ok(fit.size < 13 && fit.size >= 10);
      assert.equal(fit.lines.join(' '), long);
      for (const l of fit.lines) assert.ok(textWidth(l, { ...font, size: fit.size }) <= 300);
    });
  });

  describe('titles', () => {
    it("the exported timestamp-transfer figure's title is whole and fits the figure (measured by resvg)", () => {
      const svg = lineChart(l2.series, l2.opts);
      const { width } = svgSize(svg) as { width: number };
      const title = titleOf(svg);
      assert.equal(tspans(title).join(' '), l2.opts.title);
      const ink = inkBox(svg, title);
      assert.ok(
        ink.x >= 0 && ink.x + ink.width <= width,
        `title spans ${ink.x}…${ink.x + ink.width} of ${width} px`,
      );
    });

    it('any title fits: very long ones shrink and wrap, in line charts and scatter charts', () => {
      const long = Array.from({ length: 12 }, (_, i) => `word${i} of a needlessly verbose caption`).join(
        ', ',
      );
      const charts = [
        lineChart(l2.series, { ...l2.opts, title: long, width: 420 }),
        scatterChart([{ name: 'points', points: [[0, 0]] }], { title: long }),
        scatterChart([{ name: 'points', points: [[0, 0]] }], { title: l2.opts.title }),
      ];
      for (const svg of charts) {
        const { width } = svgSize(svg) as { width: number };
        const title = titleOf(svg);
        assert.equal(tspans(title).join(' ').length > 0, true);
        const ink = inkBox(svg, title);
        assert.ok(
          ink.x >= 0 && ink.x + ink.width <= width,
          `title spans to ${ink.x + ink.width} of ${width} px`,
        );
      }
      assert.equal(tspans(titleOf(charts[0])).join(' '), long, 'no word lost');
    });

    it('the Plotly twin wraps its title too', () => {
      const fig = linePlotly(l2.series, l2.opts);
      const text = (fig.layout.title as { text: string }).text;
      assert.equal(text.split('<br>').length, 2);
      assert.equal(text.split('<br>').join(' '), l2.opts.title);
    });
  });

  describe('log axes', () => {
    const domains: [number, number][] = [
      [0.006, 25.96],
      [1, 100],
      [0.1, 20],
      [3, 30],
      [14, 30],
      [1e-6, 1e3],
      [2e5, 4e5],
      [1e-12, 1e12],
      [0.5, 0.9],
    ];

    it('label ticks 1, 2, 5, 10, … or 10ⁿ — never e-notation', () => {
      for (const [lo, hi] of domains) {
        for (const maxLabels of [3, 6, 8]) {
          const t = logTicks(lo, hi, maxLabels);
          const labels = t.major.map(t.label);
          assert.ok(
            labels.length >= 1 && labels.length <= Math.max(maxLabels, 2),
            `[${lo}, ${hi}]: ${labels}`,
          );
          for (const l of labels) {
            assert.match(l, LOG_LABEL, `[${lo}, ${hi}] labelled '${l}'`);
            assert.doesNotMatch(l, /e/i);
          }
          for (const v of [...t.major, ...t.minor]) assert.ok(v >= lo * 0.999 && v <= hi * 1.001);
        }
      }
      const label = (lo: number, hi: number, n: number) => {
        const t = logTicks(lo, hi, n);
        return t.major.map(t.label);
      };
      assert.deepEqual(label(1, 100, 7), ['1', '2', '5', '10', '20', '50', '100']);
      assert.deepEqual(label(0.006, 25.96, 6), ['0.01', '0.1', '1', '10']);
      assert.deepEqual(
        label(1e-6, 1e3, 6),
        ['10⁻⁶', '10⁻⁵', '10⁻⁴', '10⁻³', '10⁻²', '10⁻¹', '10⁰', '10¹', '10²', '10³'].filter(
          (_, i) => i % 2 === 0,
        ),
      );
      assert.deepEqual(label(14, 30, 6), ['15', '20', '25', '30']);
      assert.deepEqual(niceLogDomain(0.13, 14.8), [0.1, 20]);
      assert.deepEqual(niceLogDomain(17, 240), [10, 500]);
    });

    it('the SVG and its Plotly twin carry the same labels, none in e-notation', () => {
      for (const [lo, hi] of domains) {
        const series = [{ name: 's', x: [lo, Math.sqrt(lo * hi), hi], y: [hi, Math.sqrt(lo * hi), lo] }];
        const opts = { logX: true, logY: true };
        const svg = lineChart(series, opts);
        for (const axis of ['x-axis', 'y-axis'] as const) {
          const labels = tickLabels(svg, axis);
          assert.ok(labels.length >= 1, `[${lo}, ${hi}] ${axis}: no labels`);
          for (const l of labels) assert.match(l, LOG_LABEL, `[${lo}, ${hi}] ${axis} labelled '${l}'`);
        }
        const layout = linePlotly(series, opts).layout as Record<string, { ticktext?: string[] }>;
        for (const axis of ['xaxis', 'yaxis']) {
          const text = layout[axis].ticktext ?? [];
          assert.ok(text.length >= 1);
          for (const l of text) assert.match(l, LOG_LABEL, `Plotly [${lo}, ${hi}] ${axis} labelled '${l}'`);
        }
      }
      const svg = lineChart(l2.series, l2.opts);
      assert.deepEqual(tickLabels(svg, 'x-axis'), ['0.01', '0.1', '1', '10']);
      assert.doesNotMatch(svg, />\d+e[+-]\d+</);
    });
  });

  describe('legends', () => {
    const longLegend: Series[] = [
      'sfd-nfe2, NFE 2',
      'sfd-two-stage-nfe1, NFE 1',
      'DPM-Solver++(3M) with the analytical first step, NFE 5',
      'sfd-v, NFE 4',
    ].map((name, k) => ({ name, x: [1, 2, 3], y: [3 + k, 2 + k, 1 + k] }));

    it('a long legend goes under the plot, which keeps ≥ 60 % of the figure width', () => {
      for (const width of [420, 560, 780]) {
        const svg = lineChart(longLegend, { title: 'FID', width, height: 300 });
        const size = svgSize(svg) as { width: number; height: number };
        const [x0, x1] = plotSpan(svg);
        assert.ok((x1 - x0) / size.width >= MIN_PLOT_FRACTION, `plot ${x1 - x0} of ${size.width} px`);
        // every legend label is whole and inside the figure
        for (const s of longLegend) {
          const m = new RegExp(
            `<text[^>]*x="([\\d.]+)"[^>]*>${s.name.replace(/[()+]/g, '\\$&')}</text>`,
          ).exec(svg);
          assert.ok(m, `legend entry ${s.name}`);
          assert.ok(Number(m[1]) + textWidth(s.name, { size: 11 }) <= size.width, `${s.name} overflows`);
        }
        assert.ok(size.height > 300, 'the figure grows by the legend rows');
      }
    });

    it('a short legend stays beside the plot', () => {
      const svg = lineChart(longLegend.slice(0, 1), { width: 560, height: 300 });
      assert.deepEqual(svgSize(svg), { width: 560, height: 300 });
      const [x0, x1] = plotSpan(svg);
      assert.ok((x1 - x0) / 560 >= MIN_PLOT_FRACTION && x1 < 480);
    });

    it('scatter charts too', () => {
      const layers = longLegend.map((s) => ({ name: s.name, points: [[s.x[0], s.y[0]]] }));
      const svg = scatterChart(layers);
      const size = svgSize(svg) as { width: number; height: number };
      const [x0, x1] = plotSpan(svg);
      assert.ok((x1 - x0) / size.width >= MIN_PLOT_FRACTION, `plot ${x1 - x0} of ${size.width} px`);
      const short = scatterChart([{ name: 'exact endpoint', points: [[0, 0]] }]);
      assert.ok((svgSize(short) as { width: number }).width > 400, 'a short legend beside the plot');
    });

    it('the Plotly twin puts its legend under the plot', () => {
      const legend = linePlotly(longLegend).layout.legend as { orientation: string; y: number };
      assert.equal(legend.orientation, 'h');
      assert.ok(legend.y < 0);
    });
  });

  describe('PNG fallbacks', () => {
    it('are shown at the SVG size (their pixels are 2×)', () => {
      const svg = lineChart(l2.series, l2.opts);
      assert.deepEqual(svgSize(svg), { width: 560, height: 340 });
      const b = plotlyMimeBundle(linePlotly(l2.series, l2.opts), {
        png: new Uint8Array([1]),
        alt: 'L2',
        size: svgSize(svg) ?? undefined,
      });
      assert.deepEqual(b.metadata, { 'image/png': { width: 560, height: 340 } });
      assert.deepEqual(Object.keys(b.data), ['application/vnd.plotly.v1+json', 'image/png', 'text/plain']);
      // no script in the bundle: front-ends that cannot draw Plotly show the PNG, not an empty box
      assert.ok(!('application/javascript' in b.data) && !('text/html' in b.data));
      assert.deepEqual(plotlyMimeBundle({ data: [] }, { alt: 'no png' }).metadata, {});
      assert.equal(svgSize('<svg viewBox="0 0 1 1">'), null);
    });
  });
});
