// npm's install hook: builds the BLAS addon (native/) with node-gyp. A failed build never fails the
// install: the library then falls back to the wasm backend and says so in one line.
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const gyp =
  process.env.npm_config_node_gyp ||
  path.join(path.dirname(process.execPath), '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js');
const r = spawnSync(process.execPath, [gyp, 'rebuild'], {
  stdio: ['ignore', 'pipe', 'pipe'],
  encoding: 'utf8',
});
if (r.status === 0) {
  console.log('sfd-lab: native BLAS backend built (build/Release/sfd_native.node)');
} else {
  const lines = `${r.stderr || ''}${r.stdout || ''}`.trim().split('\n');
  // the compiler's own error lines say why; node-gyp's trailer only says that it failed
  const errors = lines.filter((l) => /error/i.test(l) && !/^gyp ERR!/.test(l));
  const why = (errors.length ? errors.slice(0, 6) : lines.slice(-6)).join('\n');
  console.warn(`sfd-lab: native BLAS backend not built; the wasm backend will be used instead.\n${why}`);
  if (/cblas\.h|lopenblas|lblas/.test(lines.join('\n')))
    console.warn(
      'sfd-lab: to get it, install a BLAS with headers (Debian: apt-get install libopenblas-dev) and rerun npm ci',
    );
}
