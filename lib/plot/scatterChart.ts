import * as d3 from 'd3';
import { PALETTE, svgCanvas } from './svgCanvas';

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

/** 2-D points (several layers) and optional trajectories on equal axes, as an SVG string. */
export function scatterChart(layers: readonly PointLayer[], opts: ScatterOptions = {}): string {
  const size = opts.size ?? 360;
  const legend = 130;
  const m = { top: opts.title ? 30 : 10, right: 10 + legend, bottom: 30, left: 40 };
  const all = layers
    .flatMap((l) => [...l.points, ...(l.paths ?? []).flat()])
    .filter((p) => Number.isFinite(p[0]) && Number.isFinite(p[1]));
  const lim = d3.max(all, (p) => Math.max(Math.abs(p[0]), Math.abs(p[1]))) ?? 1;
  const [lo, hi] = opts.domain ?? [-lim * 1.05, lim * 1.05];
  const plot = size - m.top - m.bottom;
  const xs = d3
    .scaleLinear()
    .domain([lo, hi])
    .range([m.left, m.left + plot]);
  const ys = d3
    .scaleLinear()
    .domain([lo, hi])
    .range([m.top + plot, m.top]);
  const { svg, render } = svgCanvas(m.left + plot + m.right, size);
  svg
    .append('g')
    .attr('transform', `translate(0,${m.top + plot})`)
    .call(d3.axisBottom(xs).ticks(5));
  svg.append('g').attr('transform', `translate(${m.left},0)`).call(d3.axisLeft(ys).ticks(5));
  if (opts.title)
    svg
      .append('text')
      .attr('x', m.left)
      .attr('y', 18)
      .attr('font-size', 13)
      .attr('font-weight', 'bold')
      .text(opts.title);
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
    const ly = m.top + 8 + k * 16;
    const lx = m.left + plot + 16;
    svg.append('circle').attr('cx', lx).attr('cy', ly).attr('r', 4).attr('fill', color);
    svg
      .append('text')
      .attr('x', lx + 10)
      .attr('y', ly + 4)
      .text(l.name);
  });
  return render();
}
