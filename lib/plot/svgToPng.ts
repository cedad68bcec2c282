import { existsSync } from 'node:fs';
import { Resvg } from '@resvg/resvg-js';

const FONT_DIR = '/usr/share/fonts/truetype/dejavu';
export const FONT_FILES = [`${FONT_DIR}/DejaVuSans.ttf`, `${FONT_DIR}/DejaVuSans-Bold.ttf`];

/**
 * Rasterises an SVG with resvg using explicit font files: without fonts resvg silently drops all text,
 * so a missing font is an error here, not a blank label.
 */
export function svgToPng(svg: string, zoom = 2): Uint8Array {
  const missing = FONT_FILES.filter((f) => !existsSync(f));
  if (missing.length) {
    throw new Error(
      `svgToPng: font files missing (${missing.join(', ')}); install Debian's fonts-dejavu-core`,
    );
  }
  const r = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: zoom },
    background: 'white',
    font: { loadSystemFonts: false, fontFiles: FONT_FILES, defaultFontFamily: 'DejaVu Sans' },
  });
  return new Uint8Array(r.render().asPng());
}
