import * as d3 from 'd3';
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
  width?: number;
  height?: number;
}

/** Lines with markers, axes, labels and a legend, as an SVG string. Non-finite points are skipped. */
export function lineChart(series: readonly Series[], opts: LineChartOptions = {}): string {
  const width = opts.width ?? 560;
  const height = opts.height ?? 340;
  const legendWidth = 215;
  const m = { top: opts.title ? 32 : 12, right: legendWidth, bottom: 42, left: 62 };
  const ok = (s: Series, i: number) =>
    Number.isFinite(s.x[i]) && Number.isFinite(s.y[i]) && (!opts.logY || s.y[i] > 0);
  const pts = series.flatMap((s) =>
    s.x
      .map((_, i) => i)
      .filter((i) => ok(s, i))
      .map((i) => [s.x[i], s.y[i]] as const),
  );
  if (pts.length === 0) throw new RangeError('lineChart: no finite points to draw');
  const [x0, x1] = d3.extent(pts, (p) => p[0]) as [number, number];
  const [y0, y1] = d3.extent(pts, (p) => p[1]) as [number, number];
  const xs = (opts.logX ? d3.scaleLog() : d3.scaleLinear()).domain([x0, x1]).range([m.left, width - m.right]);
  const ys = (opts.logY ? d3.scaleLog() : d3.scaleLinear())
    .domain([y0, y1])
    .range([height - m.bottom, m.top])
    .nice();
  const { svg, render } = svgCanvas(width, height);
  svg
    .append('g')
    .attr('transform', `translate(0,${height - m.bottom})`)
    .call(d3.axisBottom(xs).ticks(6, opts.logX ? '~g' : undefined));
  svg
    .append('g')
    .attr('transform', `translate(${m.left},0)`)
    .call(d3.axisLeft(ys).ticks(6, opts.logY ? '~e' : undefined));
  if (opts.title)
    svg
      .append('text')
      .attr('x', m.left)
      .attr('y', 18)
      .attr('font-size', 13)
      .attr('font-weight', 'bold')
      .text(opts.title);
  if (opts.xLabel) {
    svg
      .append('text')
      .attr('x', (m.left + width - m.right) / 2)
      .attr('y', height - 8)
      .attr('text-anchor', 'middle')
      .text(opts.xLabel);
  }
  if (opts.yLabel) {
    svg
      .append('text')
      .attr('transform', `translate(14,${(m.top + height - m.bottom) / 2}) rotate(-90)`)
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
    const ly = m.top + 8 + k * 16;
    const lx = width - m.right + 12;
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
