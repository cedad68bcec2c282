/** Attributes that hold coordinates or lengths (the ones d3 writes with float noise). */
const GEOMETRY =
  /\s(d|x|y|x1|x2|y1|y2|cx|cy|r|rx|ry|dx|dy|width|height|transform|points|viewBox|stroke-width)="([^"]*)"/g;
const DECIMAL = /-?\d*\.\d+(?:e[-+]?\d+)?/gi;

/**
 * Rounds the decimals in an SVG's geometry attributes (not its text) to `digits` places, 0.01 px by default:
 * a figure regenerated on another CPU then differs only where a value really moved, not in float32 noise.
 */
export function roundSvgGeometry(svg: string, digits = 2): string {
  const fmt = (s: string) => {
    const r = Number(Number(s).toFixed(digits));
    return String(Object.is(r, -0) ? 0 : r);
  };
  return svg.replace(GEOMETRY, (_, attr: string, v: string) => ` ${attr}="${v.replace(DECIMAL, fmt)}"`);
}
