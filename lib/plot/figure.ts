import { figurePath } from '../runtime/paths';
import { writeFileAtomic as writeAtomic } from '../util/atomicWrite';
import { displayFigure } from './display';
import { svgToPng } from './svgToPng';

export interface Figure {
  name: string;
  svg: string;
  png: Uint8Array;
  /** Files written under figures/. */
  files: string[];
}

/** Renders an SVG to PNG and writes both as figures/<name>.svg and .png. */
export function saveFigure(name: string, svg: string): Figure {
  if (!/^[\w.-]+$/.test(name)) throw new RangeError(`figure name '${name}' must be a plain file name`);
  const png = svgToPng(svg);
  const files = [figurePath(`${name}.svg`), figurePath(`${name}.png`)];
  writeAtomic(files[0], svg);
  writeAtomic(files[1], png);
  return { name, svg, png, files };
}

/** Saves a figure and shows it inline (SVG + PNG + alt text) when running in a notebook. */
export function showFigure(name: string, svg: string, alt = name): Figure {
  const fig = saveFigure(name, svg);
  displayFigure({ svg: fig.svg, png: fig.png, alt });
  return fig;
}
