import { strict as assert } from 'node:assert';
import { existsSync, readFileSync } from 'node:fs';
import { displayBundle } from '../../lib/plot/display';
import { saveFigure } from '../../lib/plot/figure';
import { lineChart } from '../../lib/plot/lineChart';
import { scatterChart } from '../../lib/plot/scatterChart';
import { svgToPng } from '../../lib/plot/svgToPng';

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47];
const pngSize = (png: Uint8Array) => {
  const v = new DataView(png.buffer, png.byteOffset);
  return [v.getUint32(16), v.getUint32(20)];
};

describe('figures', () => {
  const svg = lineChart(
    [
      { name: 'euler', x: [2, 3, 4], y: [0.5, 0.2, 0.1] },
      { name: 'heun +AFS', x: [3, 5], y: [0.3, Number.NaN], dashed: true },
    ],
    { title: 'err vs NFE', xLabel: 'NFE', yLabel: 'error', logY: true, width: 500, height: 300 },
  );

  it('lineChart draws one path per series, labels and legend, skipping non-finite points', () => {
    assert.match(svg, /^<svg /);
    assert.equal((svg.match(/<path d="M/g) ?? []).length >= 2, true);
    for (const text of ['err vs NFE', 'NFE', 'error', 'euler', 'heun +AFS'])
      assert.ok(svg.includes(`>${text}<`), `missing label ${text}`);
    assert.equal((svg.match(/<circle /g) ?? []).length, 4); // 3 + 1 finite markers
    assert.throws(() => lineChart([{ name: 'x', x: [1], y: [Number.NaN] }]), /no finite points/);
  });

  it('svgToPng renders at 2× with the text drawn (fonts loaded: more ink than without labels)', () => {
    const png = svgToPng(svg);
    assert.deepEqual(Array.from(png.slice(0, 4)), PNG_MAGIC);
    assert.deepEqual(pngSize(png), [1000, 600]);
    const bare = svgToPng(svg.replace(/<text[^>]*>[^<]*<\/text>/g, ''));
    assert.ok(png.length > bare.length * 1.05, `text adds no ink: ${png.length} vs ${bare.length} bytes`);
  });

  it('scatterChart keeps points inside the domain only', () => {
    const s = scatterChart(
      [
        {
          name: 'pts',
          points: [
            [0, 0],
            [0.5, 0.5],
            [9, 9],
          ],
        },
      ],
      { domain: [-1, 1] },
    );
    assert.equal((s.match(/<circle /g) ?? []).length, 2 + 1); // two points + legend dot
  });

  it('saveFigure writes SVG and PNG (under FAST to .cache/figures-fast, never over figures/)', () => {
    const fig = saveFigure('test_figure', svg);
    for (const f of fig.files) assert.ok(existsSync(f), f);
    assert.equal(readFileSync(fig.files[0], 'utf8'), svg);
    assert.throws(() => saveFigure('../escape', svg), /plain file name/);
  });

  it('display is a no-op outside a notebook kernel', () => {
    assert.equal(displayBundle({ 'text/plain': 'x' }), false);
  });
});
