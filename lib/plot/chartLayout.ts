import * as d3 from 'd3';
import { logTicks } from './logTicks';
import { fitText, textWidth } from './textWidth';

/** Where a chart's legend goes: right of the plot when that leaves it room, else in rows under it. */
export interface LegendLayout {
  place: 'right' | 'below';
  /** Columns of a legend below the plot. */
  columns: number;
  rows: number;
  /** Width of one entry (swatch and label). */
  entryWidth: number;
}

/** Every chart's plot area keeps at least this fraction of the figure's width, whatever its legend. */
export const MIN_PLOT_FRACTION = 0.6;
export const LEGEND_ROW = 16;
const LABEL_FONT = { size: 11 };
export const TITLE_FONT = { size: 13, bold: true };

/**
 * Lays out a legend of `names` with `swatch` px before each label: right of a plot that would span
 * [left, width] when the plot keeps ≥ MIN_PLOT_FRACTION of the width and the entries fit its height,
 * else under it in as many columns as fit.
 */
export function legendLayout(
  names: readonly string[],
  width: number,
  left: number,
  plotHeight: number,
  swatch = 24,
): LegendLayout {
  const label = Math.max(0, ...names.map((n) => textWidth(n, LABEL_FONT)));
  const entryWidth = swatch + label;
  const rightWidth = 12 + entryWidth + 10;
  if ((width - rightWidth - left) / width >= MIN_PLOT_FRACTION && names.length * LEGEND_ROW <= plotHeight)
    return { place: 'right', columns: 1, rows: names.length, entryWidth };
  const gap = 18;
  const columns = Math.max(
    1,
    Math.min(names.length, Math.floor((width - left - 8 + gap) / (entryWidth + gap))),
  );
  return { place: 'below', columns, rows: Math.ceil(names.length / columns), entryWidth: entryWidth + gap };
}

/**
 * A chart title fitted into [x, width − 8]: wrapped onto two balanced lines or shrunk, never cut. Draws it
 * (when `svg` is given) with its first baseline at y = 18 and returns the y below it where the plot may start.
 */
export function drawTitle(
  svg: d3.Selection<SVGSVGElement, unknown, null, undefined> | null,
  title: string,
  x: number,
  width: number,
): number {
  const fit = fitText(title, width - x - 8, TITLE_FONT, { maxLines: 2, minSize: 10 });
  const lineHeight = Math.round(fit.size * 1.25);
  if (svg) {
    const text = svg
      .append('text')
      .attr('class', 'title')
      .attr('x', x)
      .attr('y', 18)
      .attr('font-size', fit.size)
      .attr('font-weight', 'bold');
    fit.lines.forEach((line, i) => {
      text
        .append('tspan')
        .attr('x', x)
        .attr('dy', i === 0 ? 0 : lineHeight)
        .text(line);
    });
  }
  return 18 + (fit.lines.length - 1) * lineHeight + 14;
}

/** A d3 log axis labelled as a paper's (1, 2, 5, 10 or 10⁻³…10³) with short unlabelled minor ticks. */
export function drawLogAxis(
  g: d3.Selection<SVGGElement, unknown, null, undefined>,
  scale: d3.ScaleLogarithmic<number, number>,
  orient: 'bottom' | 'left',
  maxLabels: number,
): void {
  const [lo, hi] = scale.domain();
  const t = logTicks(lo, hi, maxLabels);
  const make = orient === 'bottom' ? d3.axisBottom : d3.axisLeft;
  g.append('g').call(
    make(scale)
      .tickValues(t.major)
      .tickFormat((v) => t.label(Number(v))),
  );
  if (t.minor.length)
    g.append('g')
      .call(
        make(scale)
          .tickValues(t.minor)
          .tickSize(3)
          .tickFormat(() => ''),
      )
      .call((a) => a.select('.domain').remove())
      .call((a) => a.selectAll('text').remove());
}
