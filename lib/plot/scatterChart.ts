import * as d3 from 'd3';
import { drawTitle, LEGEND_ROW, MIN_PLOT_FRACTION } from './chartLayout';
import { PALETTE, svgCanvas } from './svgCanvas';
import { textWidth } from './textWidth';

export interface PointLayer {
  name: string;
  points: readonly (readonly number[])[];
  color?: string;
  radius?: number;
  opacity?: number;
  /** Polylines in the layer's colour (e.g. its trajectories), drawn under every layer's points. */
  paths?: readonly (readonly (readonly number[])[])[];
}

export interface ScatterOptions {
  title?: string;
  size?: number;
  /** Polylines drawn under the points (e.g. sampling trajectories), in data coordinates. */
  paths?: readonly (readonly (readonly number[])[])[];
  /** Square data window [lo, hi] on both axes (default: fit the points). */
  domain?: [number, number];
}

/**
 * 2-D points (several layers) and optional trajectories on equal axes, as an SVG string: a square plot of
 * side `size` − 40 (− 20 more with a title), its legend beside it (or under it when long), a long title
 * wrapped or shrunk to fit.
 */
export function scatterChart(layers: readonly PointLayer[], opts: ScatterOptions = {}): string {
  const size = opts.size ?? 360;
  const left = 40;
  const bottom = 30;
  // the square plot's side, as if the title took one line; a longer title makes the figure taller
  const plot = size - (opts.title ? 30 : 10) - bottom;
  // legend: right of the plot while the plot keeps MIN_PLOT_FRACTION of the width, else in rows under it
  const entry = 26 + Math.max(0, ...layers.map((l) => textWidth(l.name, { size: 11 })));
  const rightLegend = 16 + entry;
  const legendRight =
    plot / (left + plot + rightLegend) >= MIN_PLOT_FRACTION && layers.length * LEGEND_ROW <= plot;
  const width = left + plot + (legendRight ? rightLegend : 10);
  const top = opts.title ? Math.max(30, drawTitle(null, opts.title, left, width)) : 10;
  const columns = legendRight ? 1 : Math.max(1, Math.floor((plot + 18) / (entry + 18)));
  const rows = Math.ceil(layers.length / columns);
  const height = top + plot + bottom + (legendRight ? 0 : rows * LEGEND_ROW + 4);
  const m = { top, bottom, left };
  const all = layers
    .flatMap((l) => [...l.points, ...(l.paths ?? []).flat()])
    .filter((p) => Number.isFinite(p[0]) && Number.isFinite(p[1]));
  const lim = d3.max(all, (p) => Math.max(Math.abs(p[0]), Math.abs(p[1]))) ?? 1;
  const [lo, hi] = opts.domain ?? [-lim * 1.05, lim * 1.05];
  const xs = d3
    .scaleLinear()
    .domain([lo, hi])
    .range([m.left, m.left + plot]);
  const ys = d3
    .scaleLinear()
    .domain([lo, hi])
    .range([m.top + plot, m.top]);
  const { svg, render } = svgCanvas(width, height);
  svg
    .append('g')
    .attr('class', 'x-axis')
    .attr('transform', `translate(0,${m.top + plot})`)
    .call(d3.axisBottom(xs).ticks(5));
  svg
    .append('g')
    .attr('class', 'y-axis')
    .attr('transform', `translate(${m.left},0)`)
    .call(d3.axisLeft(ys).ticks(5));
  if (opts.title) drawTitle(svg, opts.title, left, width);
  const inside = (p: readonly number[]) => p[0] >= lo && p[0] <= hi && p[1] >= lo && p[1] <= hi;
  // points outside the window leave a gap in their path (not a chord across it)
  const line = d3
    .line<readonly number[]>()
    .defined(inside)
    .x((p) => xs(p[0]))
    .y((p) => ys(p[1]));
  for (const path of opts.paths ?? []) {
    svg
      .append('path')
      .attr('d', line(path))
      .attr('fill', 'none')
      .attr('stroke', '#999')
      .attr('stroke-width', 0.6)
      .attr('opacity', 0.6);
  }
  layers.forEach((l, k) => {
    for (const path of l.paths ?? [])
      svg
        .append('path')
        .attr('d', line(path))
        .attr('fill', 'none')
        .attr('stroke', l.color ?? PALETTE[k % PALETTE.length])
        .attr('stroke-width', 1)
        .attr('opacity', 0.8);
  });
  layers.forEach((l, k) => {
    const color = l.color ?? PALETTE[k % PALETTE.length];
    for (const p of l.points.filter(inside)) {
      svg
        .append('circle')
        .attr('cx', xs(p[0]))
        .attr('cy', ys(p[1]))
        .attr('r', l.radius ?? 1.6)
        .attr('fill', color)
        .attr('opacity', l.opacity ?? 0.7);
    }
    const [lx, ly] = legendRight
      ? [m.left + plot + 16, m.top + 8 + k * LEGEND_ROW]
      : [
          m.left + 4 + (k % columns) * (entry + 18),
          m.top + plot + bottom + 8 + Math.floor(k / columns) * LEGEND_ROW,
        ];
    svg.append('circle').attr('cx', lx).attr('cy', ly).attr('r', 4).attr('fill', color);
    svg
      .append('text')
      .attr('x', lx + 10)
      .attr('y', ly + 4)
      .text(l.name);
  });
  return render();
}
