#!/usr/bin/env node
// Makes the classic Notebook (`npm run notebook`) draw the notebooks' charts as live Plotly charts (hover,
// zoom), offline. Their outputs carry the Plotly MIME type (application/vnd.plotly.v1+json), which JupyterLab
// and VS Code draw natively but the classic Notebook cannot: it falls back to the PNG beside it. This installs,
// into the repo's Jupyter data dir (.jupyter/share/jupyter, what scripts/notebook.sh puts on JUPYTER_PATH):
//   nbextensions/sfd-plotly/plotly.min.js  plotly.js from node_modules, served by the Notebook at
//                                          /nbextensions/sfd-plotly/plotly.min.js (never from the network)
//   nbextensions/sfd-plotly/main.js        a renderer for the Plotly MIME type (an nbextension)
//   kernels/<name>/kernel.js               loads that renderer whenever a notebook uses the repo's kernel
// The classic Notebook loads a kernel spec's kernel.js by itself; an nbextension would need enabling in a
// config dir (nbconfig), which JUPYTER_PATH does not cover. The renderer draws trusted outputs only (the
// Notebook's own rule for rich output): an untrusted notebook keeps its PNGs, as do GitHub and nbconvert,
// since the outputs themselves carry no script.
// Usage: node scripts/plotly-nbextension.js [DATA_DIR]   (default: .jupyter/share/jupyter)
const { copyFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const NAME = 'sfd-plotly';

/**
 * The renderer, an AMD module for the classic Notebook's page (written into main.js as source text, so it
 * must use nothing from this file's scope). Registered for the Plotly MIME type, first in the display order,
 * once the local plotly.js has loaded; the outputs already on the page (a notebook just opened) are redrawn.
 */
function classicPlotlyRenderer($, outputarea) {
  const MIME = 'application/vnd.plotly.v1+json';
  const OutputArea = outputarea.OutputArea;

  // Plotly sizes a chart to its container: draw once the output is in the page
  function draw(div, fig, tries) {
    if (!document.body.contains(div)) {
      if ((tries || 0) < 400) setTimeout(draw, 25, div, fig, (tries || 0) + 1);
      return;
    }
    const layout = $.extend(true, {}, fig.layout, { autosize: true });
    const config = $.extend({ responsive: true, displaylogo: false }, fig.config);
    window.Plotly.newPlot(div, fig.data || [], layout, config).catch((e) => {
      $(div).text(`plotly.js could not draw this chart: ${e}`);
    });
  }

  // an OutputArea append function (this: the output area)
  function append(fig, md, element) {
    const toinsert = this.create_output_subarea(md, 'output_plotly', MIME);
    const div = document.createElement('div');
    div.className = 'sfd-plotly-chart';
    toinsert.append(div);
    element.append(toinsert);
    draw(div, fig);
    return toinsert;
  }

  // outputs drawn before the renderer was registered show their PNG: put the live chart in its place
  function redrawSaved() {
    const Jupyter = window.Jupyter;
    if (!Jupyter?.notebook) return;
    Jupyter.notebook.get_cells().forEach((cell) => {
      const oa = cell.output_area;
      if (!oa?.trusted) return;
      oa.outputs.forEach((out) => {
        const data = out.data || {};
        if (!data[MIME] || !data['image/png']) return;
        const src = `data:image/png;base64,${data['image/png']}`;
        oa.element.find('.output_png img').each(function () {
          if (this.getAttribute('src') !== src) return;
          const holder = $('<div/>');
          append.call(oa, data[MIME], out.metadata || {}, holder);
          $(this).closest('.output_subarea').replaceWith(holder.children());
        });
      });
    });
  }

  let loading = null;
  function load() {
    if (!loading)
      loading = new Promise((resolve) => {
        window.requirejs(
          ['nbextensions/sfd-plotly/plotly.min'],
          () => {
            if (!window.Plotly) {
              console.warn('sfd-plotly: plotly.min.js defined no Plotly; charts stay PNG');
              resolve(false);
              return;
            }
            if (!OutputArea.append_map[MIME])
              OutputArea.prototype.register_mime_type(MIME, append, { safe: false, index: 0 });
            redrawSaved();
            resolve(true);
          },
          (err) => {
            console.warn('sfd-plotly: no local plotly.js (run npm run setup); charts stay PNG', err);
            resolve(false);
          },
        );
      });
    return loading;
  }

  return { load_ipython_extension: load, load: load };
}

const KERNEL_JS = `// Written by scripts/plotly-nbextension.js: the classic Notebook runs this when a notebook uses this kernel.
define(['nbextensions/${NAME}/main'], function (ext) {
  return { onload: ext.load };
});
`;

/** Installs plotly.js, the renderer and every kernel spec's kernel.js under a Jupyter data dir. */
function install(dataDir, plotlyBundle = require.resolve('plotly.js-dist-min/plotly.min.js')) {
  const ext = join(dataDir, 'nbextensions', NAME);
  mkdirSync(ext, { recursive: true });
  copyFileSync(plotlyBundle, join(ext, 'plotly.min.js'));
  writeFileSync(
    join(ext, 'main.js'),
    `// Written by scripts/plotly-nbextension.js: a classic Notebook renderer for ${'application/vnd.plotly.v1+json'}.\n` +
      `define(['jquery', 'notebook/js/outputarea'], ${classicPlotlyRenderer.toString()});\n`,
  );
  const kernels = join(dataDir, 'kernels');
  const specs = existsSync(kernels)
    ? readdirSync(kernels).filter((k) => existsSync(join(kernels, k, 'kernel.json')))
    : [];
  for (const k of specs) writeFileSync(join(kernels, k, 'kernel.js'), KERNEL_JS);
  return { ext, kernels: specs };
}

module.exports = { install, NAME };

if (require.main === module) {
  const dataDir = process.argv[2] ?? join(__dirname, '..', '.jupyter', 'share', 'jupyter');
  const { ext, kernels } = install(dataDir);
  console.log(
    `plotly-nbextension: plotly.js and its renderer in ${ext}; kernel.js for ${kernels.join(', ') || 'no kernel'}`,
  );
}
