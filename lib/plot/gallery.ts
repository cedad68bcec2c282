import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { writeFileAtomic } from '../util/atomicWrite';
import type { FigureMeta } from './figure';

export interface GalleryEntry extends FigureMeta {
  /** The notebook the figure came from (file name), or null for figures made by scripts. */
  notebook: string | null;
  /** Its files in the folder (an SVG figure may lack its PNG rendering when a script made it). */
  files: string[];
}

export interface GalleryOptions {
  /** Where the notebooks are: a figure named <slug>_… belongs to the notebook NN-<slug>.ipynb. */
  notebooksDir: string;
  /** The minified Plotly bundle copied to <dir>/vendor/plotly.min.js. */
  plotlyBundle: string;
  /** A line under the title (e.g. the commit the figures come from). */
  subtitle?: string;
}

const esc = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );

/**
 * The figures of a folder: every <name>.json written by saveFigure/saveRasterFigure, plus any image without
 * one (captioned by its file name), each assigned to its notebook by its name's prefix.
 */
export function galleryEntries(dir: string, notebooksDir: string): GalleryEntry[] {
  const files = readdirSync(dir);
  const notebooks = existsSync(notebooksDir)
    ? readdirSync(notebooksDir).filter((f) => f.endsWith('.ipynb'))
    : [];
  const notebookOf = (name: string): string | null => {
    const slug = name.split('_')[0];
    return notebooks.find((nb) => nb.replace(/^\d+-/, '').replace(/\.ipynb$/, '') === slug) ?? null;
  };
  const filesOf = (name: string) =>
    ['svg', 'png'].map((x) => `${name}.${x}`).filter((f) => files.includes(f));
  const entries = new Map<string, GalleryEntry>();
  for (const f of files.filter((x) => x.endsWith('.json'))) {
    let meta: FigureMeta;
    try {
      meta = JSON.parse(readFileSync(join(dir, f), 'utf8'));
    } catch (e) {
      throw new Error(`gallery: ${f} is not valid JSON (${(e as Error).message})`);
    }
    const image = `${meta.name}.${meta.kind === 'vector' ? 'svg' : 'png'}`;
    if (meta.name !== basename(f, '.json') || !files.includes(image))
      throw new Error(`gallery: ${f} describes a figure whose file ${image} is missing`);
    entries.set(meta.name, { ...meta, notebook: notebookOf(meta.name), files: filesOf(meta.name) });
  }
  for (const f of files) {
    const m = /^(.+)\.(svg|png)$/.exec(f);
    if (!m || entries.has(m[1])) continue;
    const vector = m[2] === 'svg';
    if (!vector && files.includes(`${m[1]}.svg`)) continue; // the PNG rendering of an SVG figure
    entries.set(m[1], {
      name: m[1],
      caption: m[1],
      kind: vector ? 'vector' : 'raster',
      notebook: notebookOf(m[1]),
      files: filesOf(m[1]),
    });
  }
  // by notebook, script-made figures last; by name within a notebook
  const order = (e: GalleryEntry) => [e.notebook === null ? 1 : 0, e.notebook ?? '', e.name] as const;
  return [...entries.values()].sort((a, b) => {
    const [x, y] = [order(a), order(b)];
    return (
      x[0] - y[0] || (x[1] < y[1] ? -1 : x[1] > y[1] ? 1 : 0) || (x[2] < y[2] ? -1 : x[2] > y[2] ? 1 : 0)
    );
  });
}

/**
 * Writes <dir>/index.html: every figure of the folder grouped by notebook, with its caption and links to its
 * files; figures with a Plotly twin are live charts (hover for values), the others their SVG or PNG. Plotly
 * is loaded from vendor/ beside the page (copied once), so the folder works offline on its own.
 * Returns the page's path and its entries.
 */
export function writeGallery(dir: string, opts: GalleryOptions): { path: string; entries: GalleryEntry[] } {
  if (!existsSync(opts.plotlyBundle))
    throw new Error(`gallery: Plotly bundle ${opts.plotlyBundle} not found`);
  const entries = galleryEntries(dir, opts.notebooksDir);
  const vendor = join(dir, 'vendor');
  mkdirSync(vendor, { recursive: true });
  const bundleCopy = join(vendor, 'plotly.min.js');
  if (!existsSync(bundleCopy) || statSync(bundleCopy).size !== statSync(opts.plotlyBundle).size)
    copyFileSync(opts.plotlyBundle, bundleCopy);

  const groups = new Map<string | null, GalleryEntry[]>();
  for (const e of entries) groups.set(e.notebook, [...(groups.get(e.notebook) ?? []), e]);
  const nbLink = (nb: string) => relative(dir, join(opts.notebooksDir, nb)).split('\\').join('/');
  const plots: Record<string, { data: unknown; layout: unknown }> = {};
  const sections = [...groups].map(([nb, list]) => {
    const id = nb ? nb.replace(/\.ipynb$/, '') : 'other';
    const head = nb
      ? `<h2>${esc(id)}</h2><p class="src">from <a href="${esc(nbLink(nb))}">${esc(nb)}</a></p>`
      : '<h2>Other figures</h2><p class="src">made by the scripts in <code>scripts/</code></p>';
    // file names go into URLs: percent-encoded (a '#' or '%' in a name), then HTML-escaped
    const url = (f: string) => esc(encodeURIComponent(f));
    const figs = list.map((e) => {
      const image = `${e.name}.${e.kind === 'vector' ? 'svg' : 'png'}`;
      const links = e.files
        .map((f) => `<a href="${url(f)}">${f.endsWith('.svg') ? 'SVG' : 'PNG'}</a>`)
        .join(' · ');
      let body: string;
      if (e.plotly) {
        plots[e.name] = e.plotly;
        body = `<div class="live-chart" id="plot-${esc(e.name)}" data-figure="${esc(e.name)}"></div>`;
      } else body = `<img src="${url(image)}" alt="${esc(e.caption)}">`;
      return `<figure id="${esc(e.name)}">${body}<figcaption>${esc(e.caption)} <span class="files">${links}</span></figcaption></figure>`;
    });
    return `<section id="${esc(id)}">${head}\n${figs.join('\n')}\n</section>`;
  });
  const nav = [...groups.keys()]
    .map((nb) => {
      const id = nb ? nb.replace(/\.ipynb$/, '') : 'other';
      return `<a href="#${esc(id)}">${esc(nb ? id : 'other')}</a>`;
    })
    .join(' · ');
  // JSON inside a <script> element: escape '<' so that no string can close the element
  const plotJson = JSON.stringify(plots).replace(/</g, '\\u003c');
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>sfd-lab figures</title>
<style>
body { font-family: 'DejaVu Sans', sans-serif; margin: 2rem auto; max-width: 1200px; padding: 0 1rem; color: #222; }
nav { margin-bottom: 1.5rem; }
section { display: flex; flex-wrap: wrap; gap: 1rem; border-top: 1px solid #ddd; padding-top: .5rem; }
section h2, section p.src { flex-basis: 100%; margin: .3rem 0; }
figure { margin: 0; flex: 1 1 520px; max-width: 800px; min-width: 0; }
figure img { max-width: 100%; border: 1px solid #eee; }
.live-chart { width: 100%; height: 480px; }
figcaption { font-size: .9rem; color: #444; }
.files { color: #888; margin-left: .5rem; }
</style>
<script src="vendor/plotly.min.js"></script>
</head>
<body>
<h1>sfd-lab figures</h1>
${opts.subtitle ? `<p>${esc(opts.subtitle)}</p>` : ''}
<nav>${nav}</nav>
${sections.join('\n')}
<script type="application/json" id="plotly-figures">${plotJson}</script>
<script>
(function () {
  var figs = JSON.parse(document.getElementById('plotly-figures').textContent);
  var names = Object.keys(figs);
  var done = 0;
  function finished() { if (++done >= names.length) document.body.setAttribute('data-rendered', String(done)); }
  if (names.length === 0) { document.body.setAttribute('data-rendered', '0'); return; }
  names.forEach(function (name) {
    var f = figs[name];
    // legend under the plot (figures made before linePlotly put it there): the panels are narrow
    var layout = Object.assign({}, f.layout, { autosize: true, legend: f.layout.legend || { orientation: 'h', y: -0.24 } });
    Plotly.newPlot('plot-' + name, f.data, layout, { responsive: true, displaylogo: false }).then(finished, finished);
  });
})();
</script>
</body>
</html>
`;
  const path = join(dir, 'index.html');
  writeFileAtomic(path, html);
  return { path, entries };
}
