import { PNG } from 'pngjs';

/**
 * A PNG of images laid out in a grid (NHWC pixels in [−1, 1]; 1 or 3 channels), each pixel repeated
 * `scale` times, with a 1-pixel gap.
 */
export function imageGridPng(
  pixels: Float32Array,
  n: number,
  shape: [number, number, number],
  cols = Math.ceil(Math.sqrt(n)),
  scale = 2,
): Uint8Array {
  const [h, w, c] = shape;
  if (c !== 1 && c !== 3) throw new RangeError(`imageGridPng: 1 or 3 channels, got ${c}`);
  if (pixels.length < n * h * w * c)
    throw new RangeError(`imageGridPng: ${pixels.length} values for ${n} images`);
  const rowsN = Math.ceil(n / cols);
  const cw = w * scale + 1;
  const ch = h * scale + 1;
  const png = new PNG({ width: cols * cw + 1, height: rowsN * ch + 1 });
  png.data.fill(255);
  const byte = (v: number) => Math.round((Math.min(1, Math.max(-1, v)) + 1) * 127.5);
  for (let k = 0; k < n; k++) {
    const ox = (k % cols) * cw + 1;
    const oy = Math.floor(k / cols) * ch + 1;
    for (let y = 0; y < h * scale; y++)
      for (let x = 0; x < w * scale; x++) {
        const src = ((k * h + Math.floor(y / scale)) * w + Math.floor(x / scale)) * c;
        const dst = ((oy + y) * png.width + ox + x) * 4;
        for (let j = 0; j < 3; j++) png.data[dst + j] = byte(pixels[src + (c === 3 ? j : 0)]);
        png.data[dst + 3] = 255;
      }
  }
  return new Uint8Array(PNG.sync.write(png));
}
