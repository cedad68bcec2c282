import type { LineChartOptions, Series } from './lineChart';
import { logTicks, niceLogDomain } from './logTicks';
import { PALETTE } from './svgCanvas';
import { fitText } from './textWidth';

const PLOTLY_TITLE_SIZE = 16;

/** A Plotly figure as plain JSON (what the notebook's MIME bundle and the gallery both carry). */
export interface PlotlyFigure {
  data: Record<string, unknown>[];
  layout: Record<string, unknown>;
}

/**
 * The interactive twin of `lineChart`: the same series, colours, dashes, log axes and labels as a Plotly
 * figure, so a hover shows the values the SVG draws. Non-finite points (and non-positive ones on a log
 * axis) are left out, as the SVG does.
 */
export function linePlotly(series: readonly Series[], opts: LineChartOptions = {}): PlotlyFigure {
  const data = series.map((s, k) => {
    const keep = s.x
      .map((_, i) => i)
      .filter(
        (i) =>
          Number.isFinite(s.x[i]) &&
          Number.isFinite(s.y[i]) &&
          (!opts.logY || s.y[i] > 0) &&
          (!opts.logX || s.x[i] > 0),
      );
    const color = s.color ?? PALETTE[k % PALETTE.length];
    return {
      type: 'scatter',
      mode: 'lines+markers',
      name: s.name,
      x: keep.map((i) => s.x[i]),
      y: keep.map((i) => s.y[i]),
      line: { color, dash: s.dashed ? 'dash' : 'solid', width: 1.8 },
      marker: { color, size: 5 },
    };
  });
  const values = (pick: 'x' | 'y') => data.flatMap((d) => d[pick]);
  const axis = (label: string | undefined, log: boolean | undefined, pick: 'x' | 'y') => {
    const a: Record<string, unknown> = { title: { text: label ?? '' }, type: log ? 'log' : 'linear' };
    const vs = values(pick);
    if (!log || vs.length === 0) return a;
    // the same ticks and labels as the SVG (1, 2, 5, 10 or 10⁻³…), not Plotly's "2" for 20 or "1e+1"
    let [lo, hi] = [Math.min(...vs), Math.max(...vs)];
    if (pick === 'y') {
      [lo, hi] = niceLogDomain(lo, hi);
      a.range = [Math.log10(lo), Math.log10(hi)];
    }
    const t = logTicks(lo, hi, pick === 'x' ? 7 : 6);
    return { ...a, tickmode: 'array', tickvals: t.major, ticktext: t.major.map(t.label) };
  };
  // the title wrapped as the SVG's is (Plotly never wraps one: a long title runs off the chart)
  const title = opts.title
    ? fitText(opts.title, (opts.width ?? 560) - 80, { size: PLOTLY_TITLE_SIZE }, { maxLines: 3, minSize: 12 })
    : null;
  return {
    data,
    layout: {
      title: title
        ? { text: title.lines.join('<br>'), font: { size: title.size }, x: 0.02, xanchor: 'left' }
        : { text: '' },
      font: { family: 'DejaVu Sans, Verdana, sans-serif', size: 12 },
      xaxis: axis(opts.xLabel, opts.logX, 'x'),
      yaxis: {
        ...axis(opts.yLabel, opts.logY, 'y'),
        ...(opts.yDomain && !opts.logY ? { range: opts.yDomain } : {}),
        ...(opts.hideYTicks ? { showticklabels: false } : {}),
      },
      hovermode: 'closest',
      // the legend in rows under the plot, so long series names never squeeze it
      legend: { orientation: 'h', x: 0, xanchor: 'left', y: -0.18, yanchor: 'top' },
      margin: { t: title ? 44 + 20 * (title.lines.length - 1) : 16, r: 16, b: 48, l: 60 },
    },
  };
}
