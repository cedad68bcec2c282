/// <reference lib="dom" />
import { strict as assert } from 'node:assert';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PNG } from 'pngjs';
import { writeFigureFiles } from '../../lib/plot/figure';
import { galleryEntries, writeGallery } from '../../lib/plot/gallery';
import { lineChart, type Series } from '../../lib/plot/lineChart';
import { linePlotly } from '../../lib/plot/linePlotly';
import { roundSvgGeometry } from '../../lib/plot/svgRound';
import { svgToPng } from '../../lib/plot/svgToPng';
import { repoRoot } from '../../lib/runtime/paths';
import { CHROMIUM } from '../browserHelpers';

const plotlyBundle = require.resolve('plotly.js-dist-min/plotly.min.js');

/** A figures folder like a notebook run's: two live charts, a static chart, a sample grid, a stray image. */
function fixture(): { dir: string; notebooks: string } {
  const root = mkdtempSync(join(tmpdir(), 'sfd-gallery-'));
  const dir = join(root, 'figures');
  const notebooks = join(root, 'notebooks');
  for (const d of [dir, notebooks]) mkdirSync(d);
  writeFileSync(join(notebooks, '01-demo.ipynb'), '{}');
  writeFileSync(join(notebooks, '02-other-thing.ipynb'), '{}');
  const series: Series[] = [
    { name: 'SFD', x: [1, 2, 3], y: [30, 12, 9] },
    { name: 'teacher', x: [2, 3, 4], y: [80, 40, 20], dashed: true },
  ];
  const chart = (name: string, caption: string, live: boolean) => {
    const opts = { title: caption, xLabel: 'NFE', yLabel: 'FID', logY: true };
    const svg = lineChart(series, opts);
    writeFigureFiles(
      dir,
      { name, caption, kind: 'vector', plotly: live ? linePlotly(series, opts) : undefined },
      svgToPng(svg, 1),
      svg,
    );
  };
  chart('demo_fid_vs_nfe', 'FID against NFE', true);
  chart('other-thing_curves', 'FID against iterations', true);
  chart('demo_static', 'a static chart: FID < 5 & "ρ" = 7', false);
  const grid = new PNG({ width: 8, height: 8 });
  grid.data.fill(128);
  writeFigureFiles(dir, { name: 'demo_samples', caption: 'samples', kind: 'raster' }, PNG.sync.write(grid));
  writeFileSync(join(dir, 'teacher-grid.png'), PNG.sync.write(grid)); // made by a script: no metadata
  writeFileSync(join(dir, 'odd #1.svg'), lineChart(series)); // a script's SVG, no PNG, an odd name
  return { dir, notebooks };
}

describe('figure gallery', () => {
  it('rounds SVG geometry to 0.01 px and leaves text alone', () => {
    const svg =
      '<svg viewBox="0 0 10.123456 5"><path d="M1.234567,2.0000001L-0.0000004,3.999999e-1"></path>' +
      '<text x="3.14159" transform="translate(1.005,2.333333)">t = 0.006123</text></svg>';
    assert.equal(
      roundSvgGeometry(svg),
      '<svg viewBox="0 0 10.12 5"><path d="M1.23,2L0,0.4"></path>' +
        '<text x="3.14" transform="translate(1,2.33)">t = 0.006123</text></svg>',
    );
    // the charts the library draws are rounded already
    const drawn = lineChart([{ name: 'a', x: [1, 2, 3], y: [0.1234567, 7.654321, 3.3333333] }]);
    assert.equal(drawn, roundSvgGeometry(drawn));
    assert.doesNotMatch(drawn.replace(/>[^<]*</g, '><'), /\d\.\d{3,}/);
  });

  it('groups every figure by notebook, with captions, live charts and offline Plotly', () => {
    const { dir, notebooks } = fixture();
    const { path, entries } = writeGallery(dir, { notebooksDir: notebooks, plotlyBundle, subtitle: 'test' });
    assert.deepEqual(
      entries.map((e) => [e.name, e.notebook, e.kind, Boolean(e.plotly)]),
      [
        ['demo_fid_vs_nfe', '01-demo.ipynb', 'vector', true],
        ['demo_samples', '01-demo.ipynb', 'raster', false],
        ['demo_static', '01-demo.ipynb', 'vector', false],
        ['other-thing_curves', '02-other-thing.ipynb', 'vector', true],
        ['odd #1', null, 'vector', false],
        ['teacher-grid', null, 'raster', false],
      ],
    );
    const html = readFileSync(path, 'utf8');
    assert.ok(existsSync(join(dir, 'vendor', 'plotly.min.js')));
    assert.match(html, /<script src="vendor\/plotly\.min\.js"><\/script>/);
    assert.equal((html.match(/class="live-chart"/g) ?? []).length, 2);
    assert.match(html, /<img src="demo_static\.svg"/);
    assert.match(html, /<img src="demo_samples\.png"/);
    assert.match(html, /href="\.\.\/notebooks\/01-demo\.ipynb"/);
    assert.match(html, /<h2>Other figures<\/h2>/);
    // captions are escaped; odd file names are percent-encoded; only files that exist are linked
    assert.match(html, /a static chart: FID &lt; 5 &amp; &quot;ρ&quot; = 7/);
    assert.match(html, /<img src="odd%20%231\.svg"/);
    assert.doesNotMatch(html, /odd%20%231\.png/);
    // nothing is fetched from the network: every src/href is relative or a fragment
    for (const m of html.matchAll(/(?:src|href)="([^"]*)"/g)) assert.doesNotMatch(m[1], /^[a-z]+:|^\/\//i);
  });

  it('refuses metadata whose figure file is missing, naming it', () => {
    const { dir, notebooks } = fixture();
    rmSync(join(dir, 'demo_static.svg'));
    assert.throws(
      () => galleryEntries(dir, notebooks),
      /demo_static\.json describes a figure whose file demo_static\.svg is missing/,
    );
  });
});

/** Opens a gallery in headless Chromium; returns what rendered, the console errors and screenshots. */
async function openInBrowser(page: string) {
  const puppeteer = await import('puppeteer-core');
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  try {
    const tab = await browser.newPage();
    await tab.setViewport({ width: 1280, height: 900 });
    const errors: string[] = [];
    const external: string[] = [];
    tab.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    tab.on('pageerror', (e) => errors.push(String(e)));
    tab.on('request', (r) => {
      if (!r.url().startsWith('file:') && !r.url().startsWith('data:')) external.push(r.url());
    });
    tab.on('requestfailed', (r) => errors.push(`failed to load ${r.url()}`));
    await tab.goto(pathToFileURL(page).href, { waitUntil: 'load' });
    await tab.waitForFunction(() => document.body.hasAttribute('data-rendered'), { timeout: 60_000 });
    const charts = await tab.evaluate(() =>
      Array.from(document.querySelectorAll<HTMLElement>('.live-chart')).map((el) => ({
        figure: el.dataset.figure,
        traces: ((el as unknown as { data?: unknown[] }).data ?? []).length,
        drawn: el.querySelectorAll('.scatterlayer .trace').length,
        yticks: Array.from(el.querySelectorAll('.ytick text')).map((t) => t.textContent ?? ''),
      })),
    );
    const images = await tab.evaluate(() =>
      Array.from(document.images).map((i) => ({
        src: i.getAttribute('src'),
        ok: i.complete && i.naturalWidth > 0,
      })),
    );
    const panels: PNG[] = [];
    for (const el of await tab.$$('.live-chart'))
      panels.push(PNG.sync.read(Buffer.from(await el.screenshot({ type: 'png' }))));
    const full = PNG.sync.read(Buffer.from(await tab.screenshot({ type: 'png', fullPage: true })));
    return { charts, images, panels, full, errors, external };
  } finally {
    await browser.close();
  }
}

/** Pixels clearly coloured (not white, grey or black): the traces, not the axes and text. */
function colouredPixels(p: PNG): number {
  let n = 0;
  for (let i = 0; i < p.data.length; i += 4) {
    const [r, g, b] = [p.data[i], p.data[i + 1], p.data[i + 2]];
    if (Math.max(r, g, b) - Math.min(r, g, b) > 60) n++;
  }
  return n;
}

function nonWhiteFraction(p: PNG): number {
  let n = 0;
  for (let i = 0; i < p.data.length; i += 4) if (p.data[i] + p.data[i + 1] + p.data[i + 2] < 720) n++;
  return n / (p.width * p.height);
}

describe('figure gallery in a real browser (headless Chromium)', function () {
  this.timeout(180_000);
  before(function () {
    if (!CHROMIUM) {
      console.log(
        "    skipped: no Chromium (/usr/bin/chromium; scripts/setup.sh installs Debian's chromium)",
      );
      this.skip();
    }
  });

  const check = (r: Awaited<ReturnType<typeof openInBrowser>>, liveCharts: number, images: number) => {
    assert.deepEqual(r.errors, [], 'console errors');
    assert.deepEqual(r.external, [], 'requests outside the folder');
    assert.equal(r.charts.length, liveCharts, 'live chart panels');
    for (const c of r.charts) {
      assert.ok(c.traces > 0, `${c.figure}: no traces`);
      assert.equal(c.drawn, c.traces, `${c.figure}: ${c.drawn} of ${c.traces} traces drawn`);
    }
    assert.equal(r.images.length, images, 'static figures');
    for (const i of r.images) assert.ok(i.ok, `${i.src} did not load`);
    assert.equal(r.panels.length, liveCharts);
    for (const [k, p] of r.panels.entries()) assert.ok(colouredPixels(p) > 100, `chart panel ${k} is blank`);
    assert.ok(nonWhiteFraction(r.full) > 0.01, 'the page screenshot is blank');
  };

  it('renders the fixture gallery: every live chart with its traces, every image, no errors', async () => {
    const { dir, notebooks } = fixture();
    const { path } = writeGallery(dir, { notebooksDir: notebooks, plotlyBundle });
    const r = await openInBrowser(path);
    check(r, 2, 4);
    // the log axis reads 10, 20, 50 (or 10²), as the SVG's does: not Plotly's "2" for 20, never "1e+1"
    for (const c of r.charts) {
      assert.ok(c.yticks.length >= 2, `${c.figure}: y ticks ${c.yticks}`);
      for (const t of c.yticks)
        assert.match(t, /^(\d+(\.\d+)?|10[⁰¹²³⁴⁵⁶⁷⁸⁹⁻]+)$/, `${c.figure}: y tick '${t}'`);
    }
  });

  it("renders the committed figures' gallery (figures/), when it has figures with metadata", async function () {
    const figures = join(repoRoot(), 'figures');
    if (!existsSync(figures) || !readdirSync(figures).some((f) => f.endsWith('.json'))) this.skip();
    const copy = join(mkdtempSync(join(tmpdir(), 'sfd-gallery-real-')), 'figures');
    cpSync(figures, copy, {
      recursive: true,
      filter: (src) => !src.includes(`${join('figures', 'vendor')}`),
    });
    const { path, entries } = writeGallery(copy, {
      notebooksDir: join(repoRoot(), 'notebooks'),
      plotlyBundle,
    });
    const live = entries.filter((e) => e.plotly).length;
    check(await openInBrowser(path), live, entries.length - live);
  });
});
