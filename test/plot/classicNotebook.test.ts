/// <reference lib="dom" />
import { strict as assert } from 'node:assert';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeBundle, plotlyMimeBundle, svgSize } from '../../lib/plot/display';
import { lineChart, type Series } from '../../lib/plot/lineChart';
import { linePlotly } from '../../lib/plot/linePlotly';
import { svgToPng } from '../../lib/plot/svgToPng';
import { repoRoot } from '../../lib/runtime/paths';
import { CHROMIUM, freePort, hasNotebook, PYTHON } from '../browserHelpers';

/**
 * The classic Notebook (Debian's jupyter-notebook, what `npm run notebook` starts) with the renderer that
 * scripts/plotly-nbextension.js installs, in headless Chromium: a real server on 127.0.0.1 over a temporary
 * Jupyter data dir and notebook folder (the repo's notebooks are never opened, so never autosaved).
 */
const { install } = require('../../scripts/plotly-nbextension.js') as {
  install(dataDir: string): { ext: string; kernels: string[] };
};

const MIME = 'application/vnd.plotly.v1+json';
const LOG_LABEL = /^(\d+(\.\d+)?|10[⁰¹²³⁴⁵⁶⁷⁸⁹⁻]+)$/;

const series: Series[] = [
  { name: 'SFD', x: [1, 2, 3, 4], y: [30, 12, 9, 7] },
  { name: 'teacher (DPM-Solver++(3M))', x: [2, 3, 4], y: [80, 40, 20], dashed: true },
];
const opts = { title: 'FID against NFE', xLabel: 'NFE', yLabel: 'FID', logY: true, width: 500, height: 300 };

/** A notebook whose one code cell shows a chart output exactly as showChart sends it. */
function notebook(source: string, withOutput: boolean) {
  const svg = lineChart(series, opts);
  const b = plotlyMimeBundle(linePlotly(series, opts), {
    png: svgToPng(svg),
    alt: 'FID',
    size: svgSize(svg) ?? undefined,
  });
  const outputs = withOutput
    ? [{ output_type: 'display_data', data: encodeBundle(b.data), metadata: b.metadata }]
    : [];
  return {
    cells: [{ cell_type: 'code', execution_count: null, metadata: {}, source, outputs }],
    metadata: { kernelspec: { display_name: 'TypeScript', language: 'typescript', name: 'tslab' } },
    nbformat: 4,
    nbformat_minor: 4,
  };
}

describe('live Plotly charts in the classic Notebook (jupyter-notebook + headless Chromium)', function () {
  this.timeout(240_000);
  let server: ChildProcess | undefined;
  let base = '';
  let root = '';
  const env: Record<string, string> = {};

  before(async function () {
    if (!CHROMIUM || !hasNotebook()) {
      console.log('    skipped: needs Chromium and the classic Notebook (scripts/setup.sh installs both)');
      this.skip();
    }
    root = mkdtempSync(join(tmpdir(), 'sfd-classic-nb-'));
    const data = join(root, 'share', 'jupyter');
    const kernel = join(data, 'kernels', 'tslab');
    mkdirSync(kernel, { recursive: true });
    const tslab = join(repoRoot(), 'node_modules', '.bin', 'tslab');
    writeFileSync(
      join(kernel, 'kernel.json'),
      JSON.stringify({
        argv: [tslab, 'kernel', '--config-path', '{connection_file}'],
        display_name: 'TypeScript',
        language: 'typescript',
      }),
    );
    assert.deepEqual(install(data).kernels, ['tslab']);
    const nbDir = join(root, 'notebooks');
    mkdirSync(nbDir);
    // as notebooks/lib is: and node_modules, which the kernel's own modules (tslab's display writer) resolve from
    for (const d of ['lib', 'node_modules']) symlinkSync(join(repoRoot(), d), join(nbDir, d));
    writeFileSync(join(nbDir, 'trusted.ipynb'), JSON.stringify(notebook('// a saved chart', true)));
    // (another source: a signature is a digest of the content, so a copy would be trusted too)
    writeFileSync(
      join(nbDir, 'untrusted.ipynb'),
      JSON.stringify(notebook('// a chart from elsewhere', true)),
    );
    const live = [
      "import { displayPlotly } from './lib/plot/display';",
      "displayPlotly({ data: [{ type: 'scatter', x: [1, 2, 3], y: [1, 4, 9] }], layout: {} }, { alt: 'squares' });",
    ].join('\n');
    writeFileSync(join(nbDir, 'session.ipynb'), JSON.stringify(notebook(live, false)));
    Object.assign(env, {
      JUPYTER_PATH: data,
      JUPYTER_DATA_DIR: join(root, 'data'),
      JUPYTER_CONFIG_DIR: join(root, 'config'),
      JUPYTER_RUNTIME_DIR: join(root, 'runtime'),
    });
    // the signature that makes a notebook trusted lives in JUPYTER_DATA_DIR, as the server's does
    execFileSync(PYTHON, ['-m', 'nbformat.sign', join(nbDir, 'trusted.ipynb')], {
      env: { ...process.env, ...env },
      stdio: 'ignore',
    });
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const args = [
      '-m',
      'notebook',
      '--no-browser',
      '--ip=127.0.0.1',
      `--port=${port}`,
      '--NotebookApp.token=t',
    ];
    args.push(`--notebook-dir=${nbDir}`);
    if (process.getuid?.() === 0) args.push('--allow-root');
    server = spawn(PYTHON, args, { env: { ...process.env, ...env }, stdio: 'ignore', detached: true });
    for (let i = 0; ; i++) {
      try {
        if ((await fetch(`${base}/api/status?token=t`)).ok) break;
      } catch {
        // not listening yet
      }
      if (i > 150) throw new Error('the Notebook server did not start');
      await new Promise((r) => setTimeout(r, 200));
    }
  });

  after(async () => {
    // the server (its process group; on SIGTERM it shuts down the kernels it started), then its files
    const s = server;
    if (s?.pid && s.exitCode === null) {
      const exited = new Promise((r) => s.once('exit', r));
      try {
        process.kill(-s.pid, 'SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      } catch {
        // gone already
      }
    }
    if (root) {
      // the links to the repo's lib/ and node_modules/ first, so that nothing can reach through them
      for (const d of ['lib', 'node_modules']) rmSync(join(root, 'notebooks', d), { force: true });
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('serves the local plotly.js and the renderer, and the kernel spec names its kernel.js', async () => {
    const res = await fetch(`${base}/nbextensions/sfd-plotly/plotly.min.js?token=t`);
    assert.equal(res.status, 200);
    const body = Buffer.from(await res.arrayBuffer());
    assert.equal(body.length, statSync(require.resolve('plotly.js-dist-min/plotly.min.js')).size);
    assert.equal((await fetch(`${base}/nbextensions/sfd-plotly/main.js?token=t`)).status, 200);
    const specs = (await (await fetch(`${base}/api/kernelspecs?token=t`)).json()) as {
      kernelspecs: Record<string, { resources: Record<string, string> }>;
    };
    assert.equal(specs.kernelspecs.tslab.resources['kernel.js'], '/kernelspecs/tslab/kernel.js');
    const kernelJs = await (await fetch(`${base}/kernelspecs/tslab/kernel.js?token=t`)).text();
    assert.match(kernelJs, /nbextensions\/sfd-plotly\/main/);
  });

  /** Opens a notebook; returns what its first cell's outputs show once the renderer has loaded. */
  async function open(name: string, run = false) {
    const puppeteer = await import('puppeteer-core');
    const browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
    });
    try {
      const tab = await browser.newPage();
      await tab.setViewport({ width: 1280, height: 1000 });
      const external: string[] = [];
      const plotlyLoads: number[] = [];
      tab.on('request', (r) => {
        if (!r.url().startsWith(base) && !r.url().startsWith('data:')) external.push(r.url());
      });
      tab.on('response', (r) => {
        if (r.url().includes('/nbextensions/sfd-plotly/plotly.min.js')) plotlyLoads.push(r.status());
      });
      await tab.goto(`${base}/notebooks/${name}?token=t`, { waitUntil: 'load' });
      // the renderer is registered once the local plotly.js has loaded (kernel.js → main.js → plotly)
      await tab.waitForFunction(
        (mime) => {
          const w = window as unknown as { Plotly?: unknown; requirejs?: (m: string) => unknown };
          if (!w.Plotly || !w.requirejs) return false;
          const oa = w.requirejs('notebook/js/outputarea') as { OutputArea: { display_order: string[] } };
          return oa.OutputArea.display_order[0] === mime;
        },
        { timeout: 60_000 },
        MIME,
      );
      if (run) {
        await tab.waitForFunction(
          () => {
            const k = (window as unknown as { Jupyter: { notebook: { kernel?: { info_reply?: unknown } } } })
              .Jupyter.notebook.kernel;
            return !!k?.info_reply;
          },
          { timeout: 120_000 },
        );
        await tab.evaluate(() =>
          (
            window as unknown as { Jupyter: { notebook: { execute_all_cells(): void } } }
          ).Jupyter.notebook.execute_all_cells(),
        );
        await tab
          .waitForSelector('.output_area .sfd-plotly-chart .main-svg', { timeout: 120_000 })
          .catch(async (e) => {
            const out = await tab.evaluate(() => document.querySelector('.output_wrapper')?.textContent);
            throw new Error(`${e}; the cell shows: ${JSON.stringify(out)}`);
          });
      } else await new Promise((r) => setTimeout(r, 1500)); // time to redraw the saved outputs
      await tab
        .waitForFunction(
          () =>
            Array.from(document.querySelectorAll('.sfd-plotly-chart')).every((c) =>
              c.querySelector('.scatterlayer'),
            ),
          { timeout: 20_000 },
        )
        .catch(() => undefined);
      // SFD_SCREENSHOTS=dir keeps a picture of each notebook, to look at
      const shots = process.env.SFD_SCREENSHOTS;
      if (shots) await tab.screenshot({ path: join(shots, `classic-${name.replace('.ipynb', '')}.png`) });
      const shown = await tab.evaluate(() => {
        const out = document.querySelector('.output_wrapper') as HTMLElement;
        const charts = Array.from(out.querySelectorAll<HTMLElement>('.sfd-plotly-chart'));
        return {
          charts: charts.map((c) => ({
            traces: ((c as unknown as { data?: unknown[] }).data ?? []).length,
            drawn: c.querySelectorAll('.scatterlayer .trace').length,
            yticks: Array.from(c.querySelectorAll('.ytick text')).map((t) => t.textContent ?? ''),
            width: c.getBoundingClientRect().width,
          })),
          images: Array.from(out.querySelectorAll<HTMLImageElement>('.output_png img')).map((i) => ({
            width: i.getAttribute('width'),
            shownWidth: i.getBoundingClientRect().width,
            naturalWidth: i.naturalWidth,
          })),
        };
      });
      return { ...shown, external, plotlyLoads };
    } finally {
      await browser.close();
    }
  }

  it("redraws a trusted notebook's saved chart live, with plotly.js from the server", async () => {
    const r = await open('trusted.ipynb');
    assert.deepEqual(r.external, [], 'requests outside the Notebook server');
    assert.deepEqual(r.plotlyLoads, [200]);
    assert.equal(r.charts.length, 1, 'one live chart');
    assert.deepEqual(r.images, [], 'the PNG is replaced');
    const c = r.charts[0];
    assert.equal(c.traces, 2);
    assert.equal(c.drawn, 2);
    assert.ok(c.width > 400, `chart ${c.width} px wide`);
    assert.ok(c.yticks.length >= 2);
    for (const t of c.yticks) assert.match(t, LOG_LABEL);
  });

  it('an untrusted notebook shows the PNG, at its CSS size (half its pixels)', async () => {
    const r = await open('untrusted.ipynb');
    assert.equal(r.charts.length, 0, 'no live chart for an untrusted output');
    assert.equal(r.images.length, 1, 'the PNG fallback');
    const img = r.images[0];
    assert.equal(img.width, String(opts.width));
    assert.equal(img.naturalWidth, 2 * opts.width);
    assert.equal(Math.round(img.shownWidth), opts.width);
  });

  it('a chart the kernel displays in the session is live', async () => {
    const r = await open('session.ipynb', true);
    assert.deepEqual(r.external, [], 'requests outside the Notebook server');
    assert.equal(r.charts.length, 1);
    assert.equal(r.charts[0].drawn, 1);
  });

  it('the installed renderer parses as JavaScript', () => {
    const main = readFileSync(
      join(root, 'share', 'jupyter', 'nbextensions', 'sfd-plotly', 'main.js'),
      'utf8',
    );
    // an AMD module: evaluate it with a define that captures the factory
    let factory: unknown;
    new Function('define', main)((_deps: string[], f: unknown) => {
      factory = f;
    });
    assert.equal(typeof factory, 'function');
  });
});
