import type { LineChartOptions, Series } from './lineChart';
import { PALETTE } from './svgCanvas';

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
  const axis = (label: string | undefined, log: boolean | undefined) => ({
    title: { text: label ?? '' },
    type: log ? 'log' : 'linear',
  });
  return {
    data,
    layout: {
      title: { text: opts.title ?? '' },
      xaxis: axis(opts.xLabel, opts.logX),
      yaxis: axis(opts.yLabel, opts.logY),
      hovermode: 'closest',
      margin: { t: opts.title ? 40 : 16, r: 16, b: 48, l: 60 },
    },
  };
}
