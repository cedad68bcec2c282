import { join } from 'node:path';
import { figurePath } from '../runtime/paths';
import { writeFileAtomic as writeAtomic } from '../util/atomicWrite';
import { displayFigure, displayPlotly, svgSize } from './display';
import { type ChartSpec, lineChart } from './lineChart';
import { linePlotly, type PlotlyFigure } from './linePlotly';
import { svgToPng } from './svgToPng';

export interface Figure {
  name: string;
  svg: string;
  png: Uint8Array;
  /** Files written under figures/. */
  files: string[];
}

/** What the gallery (figures/index.html) knows of a figure, kept beside it as <name>.json. */
export interface FigureMeta {
  name: string;
  caption: string;
  /** A drawn chart (SVG + PNG) or a raster image such as a sample grid (PNG only). */
  kind: 'vector' | 'raster';
  /** The interactive version, where one exists. */
  plotly?: PlotlyFigure;
}

function checkName(name: string): void {
  if (!/^[\w.-]+$/.test(name)) throw new RangeError(`figure name '${name}' must be a plain file name`);
}

/** Writes a figure's files into dir: <name>.svg (vector only), <name>.png and <name>.json (its FigureMeta). */
export function writeFigureFiles(dir: string, meta: FigureMeta, png: Uint8Array, svg?: string): string[] {
  checkName(meta.name);
  if ((meta.kind === 'vector') !== (svg !== undefined))
    throw new RangeError(`figure '${meta.name}': a vector figure has an SVG, a raster one has none`);
  const files: string[] = [];
  const write = (ext: string, body: string | Uint8Array) => {
    const f = join(dir, `${meta.name}.${ext}`);
    writeAtomic(f, body);
    files.push(f);
  };
  if (svg !== undefined) write('svg', svg);
  write('png', png);
  write('json', `${JSON.stringify(meta)}\n`);
  return files;
}

const figuresDir = () => figurePath('');

/** Renders an SVG to PNG and writes figures/<name>.svg, .png and .json (caption, optional Plotly twin). */
export function saveFigure(name: string, svg: string, caption = name, plotly?: PlotlyFigure): Figure {
  checkName(name);
  const png = svgToPng(svg);
  const files = writeFigureFiles(figuresDir(), { name, caption, kind: 'vector', plotly }, png, svg);
  return { name, svg, png, files };
}

/** A raster figure (a sample grid): figures/<name>.png and .json. */
export function saveRasterFigure(name: string, png: Uint8Array, caption = name): string[] {
  return writeFigureFiles(figuresDir(), { name, caption, kind: 'raster' }, png);
}

/** Saves a figure and shows it inline (SVG + PNG + alt text) when running in a notebook. */
export function showFigure(name: string, svg: string, alt = name): Figure {
  const fig = saveFigure(name, svg, alt);
  displayFigure({ svg: fig.svg, png: fig.png, alt });
  return fig;
}

/**
 * A line chart saved as SVG + PNG with its Plotly twin, shown inline as ONE output: the interactive chart,
 * with the PNG (at the SVG's size) as the fallback where Plotly does not render (GitHub, nbconvert,
 * untrusted notebooks in the classic Notebook).
 */
export function showChart(name: string, chart: ChartSpec, alt = name): Figure {
  const plotly = linePlotly(chart.series, chart.opts);
  const fig = saveFigure(name, lineChart(chart.series, chart.opts), alt, plotly);
  displayPlotly(plotly, { png: fig.png, alt, size: svgSize(fig.svg) ?? undefined });
  return fig;
}
