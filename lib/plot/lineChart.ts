import * as d3 from 'd3';
import { drawLogAxis, drawTitle, LEGEND_ROW, legendLayout } from './chartLayout';
import { niceLogDomain } from './logTicks';
import { PALETTE, svgCanvas } from './svgCanvas';

export interface Series {
  name: string;
  x: readonly number[];
  y: readonly number[];
  /** Dashed line (e.g. the "with AFS" variant of a solver). */
  dashed?: boolean;
  color?: string;
}

/** A line chart as data: drawn by `lineChart` (SVG) and `linePlotly` (interactive), shown by `showChart`. */
export interface ChartSpec {
  series: Series[];
  opts: LineChartOptions;
}

export interface LineChartOptions {
  title?: string;
  xLabel?: string;
  yLabel?: string;
  logX?: boolean;
  logY?: boolean;
  /** A fixed linear y range (default: the data's, made nice). */
  yDomain?: [number, number];
  /** No y tick labels (rows of a timeline, where y only separates the series). */
  hideYTicks?: boolean;
  width?: number;
  height?: number;
}

/**
 * Lines with markers, axes, labels and a legend, as an SVG string. Non-finite points (and non-positive ones
 * on a log axis) are skipped. The figure is `width` × `height`, taller by the legend's rows when the legend
 * goes under the plot (a long one: the plot keeps ≥ 60 % of the width); a long title wraps or shrinks.
 */
export function lineChart(series: readonly Series[], opts: LineChartOptions = {}): string {
  const width = opts.width ?? 560;
  const height = opts.height ?? 340;
  const left = 62;
  const bottom = 42;
  const top = opts.title ? drawTitle(null, opts.title, left, width) : 12;
  const legend = legendLayout(
    series.map((s) => s.name),
    width,
    left,
    height - top - bottom,
  );
  const right = legend.place === 'right' ? width - 12 - legend.entryWidth - 10 : width - 16;
  const figureHeight = legend.place === 'below' ? height + legend.rows * LEGEND_ROW + 4 : height;
  const ok = (s: Series, i: number) =>
    Number.isFinite(s.x[i]) &&
    Number.isFinite(s.y[i]) &&
    (!opts.logY || s.y[i] > 0) &&
    (!opts.logX || s.x[i] > 0);
  const pts = series.flatMap((s) =>
    s.x
      .map((_, i) => i)
      .filter((i) => ok(s, i))
      .map((i) => [s.x[i], s.y[i]] as const),
  );
  if (pts.length === 0) throw new RangeError('lineChart: no finite points to draw');
  const [x0, x1] = d3.extent(pts, (p) => p[0]) as [number, number];
  const [y0, y1] = d3.extent(pts, (p) => p[1]) as [number, number];
  const xs = (opts.logX ? d3.scaleLog() : d3.scaleLinear()).domain([x0, x1]).range([left, right]);
  const ys = opts.logY
    ? d3
        .scaleLog()
        .domain(niceLogDomain(y0, y1))
        .range([height - bottom, top])
    : d3
        .scaleLinear()
        .domain(opts.yDomain ?? [y0, y1])
        .range([height - bottom, top])
        .nice();
  const { svg, render } = svgCanvas(width, figureHeight);
  const xAxis = svg
    .append('g')
    .attr('class', 'x-axis')
    .attr('transform', `translate(0,${height - bottom})`);
  const labels = (px: number, per: number) => Math.max(3, Math.min(8, Math.floor(px / per)));
  if (opts.logX)
    drawLogAxis(xAxis, xs as d3.ScaleLogarithmic<number, number>, 'bottom', labels(right - left, 55));
  else xAxis.call(d3.axisBottom(xs).ticks(6));
  const yAxis = svg.append('g').attr('class', 'y-axis').attr('transform', `translate(${left},0)`);
  if (opts.logY)
    drawLogAxis(yAxis, ys as d3.ScaleLogarithmic<number, number>, 'left', labels(height - bottom - top, 32));
  else if (opts.hideYTicks) yAxis.call(d3.axisLeft(ys).tickValues([]));
  else yAxis.call(d3.axisLeft(ys).ticks(6));
  if (opts.title) drawTitle(svg, opts.title, left, width);
  if (opts.xLabel) {
    svg
      .append('text')
      .attr('x', (left + right) / 2)
      .attr('y', height - 8)
      .attr('text-anchor', 'middle')
      .text(opts.xLabel);
  }
  if (opts.yLabel) {
    svg
      .append('text')
      .attr('transform', `translate(14,${(top + height - bottom) / 2}) rotate(-90)`)
      .attr('text-anchor', 'middle')
      .text(opts.yLabel);
  }
  series.forEach((s, k) => {
    const color = s.color ?? PALETTE[k % PALETTE.length];
    const data = s.x.map((_, i) => i).filter((i) => ok(s, i));
    const line = d3
      .line<number>()
      .x((i) => xs(s.x[i]))
      .y((i) => ys(s.y[i]));
    svg
      .append('path')
      .attr('d', line(data))
      .attr('fill', 'none')
      .attr('stroke', color)
      .attr('stroke-width', 1.8)
      .attr('stroke-dasharray', s.dashed ? '5,3' : null);
    for (const i of data)
      svg.append('circle').attr('cx', xs(s.x[i])).attr('cy', ys(s.y[i])).attr('r', 2.5).attr('fill', color);
    const [lx, ly] =
      legend.place === 'right'
        ? [right + 12, top + 8 + k * LEGEND_ROW]
        : [
            left + (k % legend.columns) * legend.entryWidth,
            height + 8 + Math.floor(k / legend.columns) * LEGEND_ROW,
          ];
    svg
      .append('line')
      .attr('x1', lx)
      .attr('x2', lx + 18)
      .attr('y1', ly)
      .attr('y2', ly)
      .attr('stroke', color)
      .attr('stroke-width', 2)
      .attr('stroke-dasharray', s.dashed ? '5,3' : null);
    svg
      .append('text')
      .attr('x', lx + 24)
      .attr('y', ly + 4)
      .text(s.name);
  });
  return render();
}
