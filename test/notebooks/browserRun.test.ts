/// <reference lib="dom" />
import { strict as assert } from 'node:assert';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'puppeteer-core';
import { repoRoot } from '../../lib/runtime/paths';
import { CHROMIUM, freePort, hasNotebook, PYTHON } from '../browserHelpers';

/**
 * Issue 26, the real thing: the classic Notebook (what `npm run notebook` starts) serves copies of two
 * notebooks, headless Chromium runs all their cells under FAST=1 as a reader would (Cell → Run All), and the
 * page must end with every code cell executed and showing output, no error, every image loaded, every live
 * Plotly chart drawn, and nothing from the outputs on the console.
 *
 * The server runs on 127.0.0.1 with a token over a temporary Jupyter data dir (the tslab kernel with the
 * renderer of scripts/plotly-nbextension.js) and a temporary notebook folder holding copies of the notebooks,
 * their outputs cleared, beside a link lib -> <repo>/lib (as notebooks/lib is): the server autosaves what it
 * opens, so the repo's notebooks are never opened. The kernels inherit the server's environment (FAST=1).
 * The temporary folder is under the repo's .cache/ (ignored by git), not the system's: tslab loads lib/
 * through the link without resolving it, and repoRoot() (lib/runtime/paths.ts), which figures and shipped
 * data are found from, searches up from there for the repo's package.json; the packages the notebooks import
 * resolve from the repo's node_modules/ the same way.
 *
 * NB_BROWSER_DIR=dir runs the notebooks in dir instead of notebooks/ (a scratch copy, to see this test fail);
 * SFD_SCREENSHOTS=dir keeps a picture of each run page.
 */
const { install } = require('../../scripts/plotly-nbextension.js') as {
  install(dataDir: string): { ext: string; kernels: string[] };
};

const NOTEBOOKS = ['00-quickstart.ipynb', '01-sfd-step-by-step.ipynb'];
/** Per notebook, from Run All until every cell is done (the fast profile takes ~15 s and ~25 s headless). */
const RUN_TIMEOUT_MS = 240_000;
const TOKEN = 'sfd-browser-run';
const PLOTLY_MIME = 'application/vnd.plotly.v1+json';

/**
 * Console errors that come from the Notebook's own page, not from any output, and are ignored (each with
 * why); every other console error or page error fails the test.
 */
const IGNORED_CONSOLE: { pattern: RegExp; why: string }[] = [
  {
    // notebook/js/main.js ("HARDCODED WIDGETS HACK") always tries the ipywidgets nbextension, which is not
    // installed: the 404 of that request, on every page, before any cell runs
    pattern:
      /^console: Failed to load resource: .* 404 .*\/nbextensions\/widgets\/notebook\/js\/extension\.js\?/,
    why: "the Notebook's own try of the absent ipywidgets extension",
  },
  {
    // the same request's answer (the 404 page, text/html) refused as a script
    pattern:
      /^console: Refused to execute script from '[^']*\/nbextensions\/widgets\/notebook\/js\/extension\.js\?/,
    why: "the Notebook's own try of the absent ipywidgets extension",
  },
];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A copy of a notebook with its outputs cleared, so that everything the page shows comes from this run. */
function clearedCopy(src: string, dest: string): void {
  const nb = JSON.parse(readFileSync(src, 'utf8')) as {
    cells: { cell_type: string; outputs?: unknown[]; execution_count?: number | null }[];
  };
  for (const c of nb.cells) {
    if (c.cell_type !== 'code') continue;
    c.outputs = [];
    c.execution_count = null;
  }
  writeFileSync(dest, JSON.stringify(nb));
}

/** What the page shows once a notebook has run. */
interface Shown {
  kernelName: string;
  cells: {
    index: number;
    source: string;
    count: unknown;
    reply: string;
    outputs: number;
    plotlyOutputs: number;
    errors: string[];
    text: string;
  }[];
  charts: { traces: number; drawn: number; width: number }[];
  images: { src: string; complete: boolean; naturalWidth: number }[];
  svgs: number[];
}

interface Reply {
  _handle_execute_reply(this: unknown, msg: { content: { status: string } }): unknown;
}

interface Jup {
  Jupyter: {
    notebook: {
      kernel?: { name: string; info_reply?: unknown; is_connected(): boolean };
      kernel_busy: boolean;
      execute_all_cells(): void;
      get_cells(): {
        cell_type: string;
        input_prompt_number: unknown;
        replyStatus?: string;
        element: { hasClass(c: string): boolean };
        get_text(): string;
        output_area: {
          outputs: {
            output_type: string;
            name?: string;
            text?: string | string[];
            data?: Record<string, unknown>;
            ename?: string;
            evalue?: string;
          }[];
        };
      }[];
    };
  };
  requirejs?: (m: string) => unknown;
  Plotly?: unknown;
}

describe('the notebooks run in the classic Notebook in headless Chromium (FAST=1)', function () {
  this.timeout(RUN_TIMEOUT_MS + 120_000);
  let server: ChildProcess | undefined;
  let serverLog = '';
  let browser: Browser | undefined;
  let base = '';
  let root = '';
  const source = process.env.NB_BROWSER_DIR ?? join(repoRoot(), 'notebooks');
  const originals = new Map<string, Buffer>();

  before(async function () {
    if (!CHROMIUM || !hasNotebook()) {
      console.log('    skipped: needs Chromium and the classic Notebook (scripts/setup.sh installs both)');
      this.skip();
    }
    mkdirSync(join(repoRoot(), '.cache'), { recursive: true });
    root = mkdtempSync(join(repoRoot(), '.cache', 'browser-run-'));
    const data = join(root, 'share', 'jupyter');
    const kernel = join(data, 'kernels', 'tslab');
    mkdirSync(kernel, { recursive: true });
    writeFileSync(
      join(kernel, 'kernel.json'),
      JSON.stringify({
        argv: [
          join(repoRoot(), 'node_modules', '.bin', 'tslab'),
          'kernel',
          '--config-path',
          '{connection_file}',
        ],
        display_name: 'TypeScript',
        language: 'typescript',
      }),
    );
    assert.deepEqual(install(data).kernels, ['tslab']);
    const nbDir = join(root, 'notebooks');
    mkdirSync(nbDir);
    // the notebooks import './lib/index' (notebooks/lib links to ../lib)
    symlinkSync(join(repoRoot(), 'lib'), join(nbDir, 'lib'));
    for (const name of NOTEBOOKS) {
      originals.set(name, readFileSync(join(source, name)));
      clearedCopy(join(source, name), join(nbDir, name));
    }
    const env = {
      ...process.env,
      FAST: '1', // the kernels inherit it from the server
      JUPYTER_PATH: data,
      JUPYTER_DATA_DIR: join(root, 'data'),
      JUPYTER_CONFIG_DIR: join(root, 'config'),
      JUPYTER_RUNTIME_DIR: join(root, 'runtime'),
    };
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const args = [
      '-m',
      'notebook',
      '--no-browser',
      '--ip=127.0.0.1',
      `--port=${port}`,
      '--NotebookApp.port_retries=0',
      `--NotebookApp.token=${TOKEN}`,
      `--notebook-dir=${nbDir}`,
    ];
    if (process.getuid?.() === 0) args.push('--allow-root'); // CI runs as root, as notebook.sh allows
    server = spawn(PYTHON, args, { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    server.stdout?.on('data', (d) => (serverLog += d));
    server.stderr?.on('data', (d) => (serverLog += d));
    for (let i = 0; ; i++) {
      try {
        if ((await fetch(`${base}/api/status?token=${TOKEN}`)).ok) break;
      } catch {
        // not listening yet
      }
      if (i > 300 || server.exitCode !== null)
        throw new Error(`the Notebook server did not start:\n${serverLog}`);
      await sleep(200);
    }
    const puppeteer = await import('puppeteer-core');
    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
    });
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    // the server (its process group; on SIGTERM it shuts down the kernels it started), then its files
    const s = server;
    if (s?.pid && s.exitCode === null) {
      const exited = new Promise((r) => s.once('exit', r));
      try {
        process.kill(-s.pid, 'SIGTERM');
        await Promise.race([exited, sleep(10_000)]);
      } catch {
        // gone already
      }
    }
    if (root) {
      // the link to the repo's lib/ first, so that nothing can reach through it
      rmSync(join(root, 'notebooks', 'lib'), { force: true });
      rmSync(root, { recursive: true, force: true });
    }
  });

  /** Opens a copy, runs all its cells, and returns what the page shows, the console errors and the kernel. */
  async function runAll(name: string) {
    const tab: Page = await (browser as Browser).newPage();
    const consoleErrors: string[] = [];
    const ignored: string[] = [];
    const onError = (text: string) => {
      const rule = IGNORED_CONSOLE.find((r) => r.pattern.test(text));
      if (rule) ignored.push(rule.why);
      else consoleErrors.push(text);
    };
    tab.on('console', (m) => {
      if (m.type() === 'error') onError(`console: ${m.text()} (${m.location().url ?? '?'})`);
    });
    tab.on('pageerror', (e) => onError(`page error: ${e instanceof Error ? e.stack || e.message : e}`));
    try {
      await tab.setViewport({ width: 1280, height: 1000 });
      await tab.goto(`${base}/notebooks/${encodeURIComponent(name)}?token=${TOKEN}`, { waitUntil: 'load' });
      // the kernel is up, and the renderer registered (kernel.js → main.js → the local plotly.js)
      await tab.waitForFunction(
        (mime) => {
          const w = window as unknown as Jup;
          const k = w.Jupyter?.notebook?.kernel;
          if (!k?.info_reply || !w.Plotly || !w.requirejs) return false;
          const oa = w.requirejs('notebook/js/outputarea') as { OutputArea: { display_order: string[] } };
          return oa.OutputArea.display_order[0] === mime;
        },
        { timeout: 120_000 },
        PLOTLY_MIME,
      );
      // each cell keeps its execute_reply's status: tslab fails a cell (a type error, a throw) with a reply
      // 'error' and often no error output, only stderr
      await tab.evaluate(() => {
        const w = window as unknown as Jup;
        const proto = (
          (w.requirejs as (m: string) => unknown)('notebook/js/codecell') as {
            CodeCell: { prototype: Reply };
          }
        ).CodeCell.prototype;
        const handle = proto._handle_execute_reply;
        proto._handle_execute_reply = function (this: { replyStatus?: string }, msg) {
          this.replyStatus = msg.content.status;
          return handle.call(this, msg);
        };
      });
      const t0 = Date.now();
      await tab.evaluate(() => (window as unknown as Jup).Jupyter.notebook.execute_all_cells());
      // done: no cell running, the kernel idle, and the outputs unchanged for 2 s (displays a cell sends
      // from a promise it does not await can come after its reply)
      let last = '';
      let stableSince = Date.now();
      for (;;) {
        const state = await tab.evaluate(() => {
          const nb = (window as unknown as Jup).Jupyter.notebook;
          const cells = nb.get_cells().filter((c) => c.cell_type === 'code');
          return {
            running: cells.filter((c) => c.element.hasClass('running') || c.input_prompt_number === '*')
              .length,
            busy: nb.kernel_busy,
            connected: !!nb.kernel?.is_connected(),
            outputs: cells.map((c) => c.output_area.outputs.length).join(','),
          };
        });
        const now = Date.now();
        if (state.outputs !== last || state.running || state.busy) {
          last = state.outputs;
          stableSince = now;
        } else if (now - stableSince >= 2000) break;
        if (now - t0 > RUN_TIMEOUT_MS)
          throw new Error(
            `${name}: still running after ${RUN_TIMEOUT_MS / 1000} s (${JSON.stringify(state)})`,
          );
        await sleep(500);
      }
      const seconds = (Date.now() - t0) / 1000;
      // let plotly.js draw and the images decode (the checks below say what is missing)
      await tab
        .waitForFunction(
          () =>
            Array.from(document.querySelectorAll('.output_area .js-plotly-plot')).every(
              (c) => c.querySelectorAll('.scatterlayer .trace').length > 0,
            ) &&
            Array.from(document.querySelectorAll<HTMLImageElement>('.output_area img')).every(
              (i) => i.complete,
            ),
          { timeout: 20_000 },
        )
        .catch(() => undefined);
      const shown: Shown = await tab.evaluate((mime) => {
        const nb = (window as unknown as Jup).Jupyter.notebook;
        const all = nb.get_cells();
        const cells = all
          .filter((c) => c.cell_type === 'code')
          .map((c) => {
            // (no named functions in here: tsx would wrap them in a helper the page does not have)
            const outs = c.output_area.outputs.map((o) => ({
              ...o,
              text: Array.isArray(o.text) ? o.text.join('') : (o.text ?? ''),
            }));
            const errors = outs.flatMap((o) => {
              if (o.output_type === 'error') return [`error output: ${o.ename}: ${o.evalue}`];
              if (o.output_type === 'stream' && o.name === 'stderr' && /Error/.test(o.text))
                return [`stderr: ${o.text.slice(0, 600)}`];
              if (o.output_type === 'stream' && /UncaughtException:|UnhandledPromiseRejection:/.test(o.text))
                return [`${o.name}: ${o.text.slice(0, 600)}`];
              return [];
            });
            return {
              index: all.indexOf(c),
              source: c.get_text().split('\n')[0].slice(0, 100),
              count: c.input_prompt_number,
              reply: c.replyStatus ?? 'none',
              outputs: outs.length,
              plotlyOutputs: outs.filter((o) => o.data && mime in o.data).length,
              errors,
              text: outs
                .filter((o) => o.output_type === 'stream')
                .map((o) => o.text)
                .join(''),
            };
          });
        return {
          kernelName: nb.kernel?.name ?? '',
          cells,
          charts: Array.from(document.querySelectorAll<HTMLElement>('.output_area .js-plotly-plot')).map(
            (c) => ({
              traces: ((c as unknown as { data?: unknown[] }).data ?? []).length,
              drawn: c.querySelectorAll('.scatterlayer .trace').length,
              width: c.getBoundingClientRect().width,
            }),
          ),
          images: Array.from(document.querySelectorAll<HTMLImageElement>('.output_area img')).map((i) => ({
            src: i.src.slice(0, 60),
            complete: i.complete,
            naturalWidth: i.naturalWidth,
          })),
          svgs: Array.from(document.querySelectorAll('.output_area .output_svg svg')).map(
            (s) => s.getBoundingClientRect().width,
          ),
        };
      }, PLOTLY_MIME);
      const shots = process.env.SFD_SCREENSHOTS;
      if (shots)
        await tab.screenshot({
          path: join(shots, `browser-run-${name.replace('.ipynb', '')}.png`),
          fullPage: true,
        });
      // the kernel as the server sees it, then shut down, so that the next notebook has the CPUs
      const sessions = (await (await fetch(`${base}/api/sessions?token=${TOKEN}`)).json()) as {
        id: string;
        path: string;
        kernel: { name: string; execution_state: string };
      }[];
      const session = sessions.find((s) => s.path === name);
      if (session)
        await fetch(`${base}/api/sessions/${session.id}?token=${TOKEN}`, { method: 'DELETE' }).catch(
          () => undefined,
        );
      return { shown, seconds, consoleErrors, ignored, session };
    } finally {
      await tab.close().catch(() => undefined);
    }
  }

  for (const name of NOTEBOOKS) {
    it(`${name}: Run All leaves every cell executed with output, no error, images loaded, charts drawn`, async () => {
      const { shown, seconds, consoleErrors, ignored, session } = await runAll(name);
      const codeCells = shown.cells;
      const where = (c: Shown['cells'][number]) => `cell #${c.index} (${c.source})`;
      console.log(
        `      ${name}: ${codeCells.length} code cells in ${seconds.toFixed(1)} s; ${shown.charts.length} live ` +
          `charts (traces drawn/data: ${shown.charts.map((c) => `${c.drawn}/${c.traces}`).join(', ')}), ` +
          `${shown.images.length} images, ${shown.svgs.length} SVGs; ${ignored.length} console errors ignored` +
          (ignored.length ? ` (${[...new Set(ignored)].join('; ')})` : ''),
      );
      // the kernel
      assert.equal(shown.kernelName, 'tslab');
      assert.ok(session, `no session for ${name} on the server`);
      assert.equal(session.kernel.name, 'tslab');
      assert.equal(session.kernel.execution_state, 'idle', 'the kernel is idle at the end');
      assert.match(codeCells[0]?.text ?? '', /profile: fast \(FAST=1\)/, 'the kernel sees FAST=1');
      // every code cell ran, showed something, and nothing failed
      assert.ok(codeCells.length > 0);
      const errors = codeCells.flatMap((c) => c.errors.map((e) => `${where(c)}: ${e}`));
      assert.deepEqual(errors, [], 'error outputs');
      for (const c of codeCells) {
        assert.ok(
          typeof c.count === 'number' && c.count > 0,
          `${where(c)} has no execution count (${c.count})`,
        );
        assert.equal(
          c.reply,
          'ok',
          `${where(c)}: execute_reply status ${c.reply}; stream: ${c.text.slice(0, 600)}`,
        );
        assert.ok(c.outputs > 0, `${where(c)} has no output`);
      }
      // images and live charts
      for (const [i, img] of shown.images.entries())
        assert.ok(img.complete && img.naturalWidth > 0, `image ${i} did not load (${img.src}…)`);
      const plotlyOutputs = codeCells.reduce((n, c) => n + c.plotlyOutputs, 0);
      assert.ok(plotlyOutputs > 0, 'the notebook shows a chart (showChart)');
      assert.equal(shown.charts.length, plotlyOutputs, 'a live chart for each Plotly output');
      for (const [i, c] of shown.charts.entries()) {
        assert.ok(c.traces > 0, `chart ${i} has no data`);
        assert.ok(c.drawn > 0, `chart ${i}: none of its ${c.traces} traces drawn`);
        assert.equal(c.drawn, c.traces, `chart ${i}: ${c.drawn} of its ${c.traces} traces drawn`);
        assert.ok(c.width > 100, `chart ${i} is ${c.width} px wide`);
      }
      for (const [i, w] of shown.svgs.entries()) assert.ok(w > 0, `SVG figure ${i} is not shown`);
      assert.deepEqual(consoleErrors, [], 'console errors');
      // the repo's notebook was never opened, so never saved
      assert.ok(readFileSync(join(source, name)).equals(originals.get(name) as Buffer), `${name} changed`);
    });
  }
});
