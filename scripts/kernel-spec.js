#!/usr/bin/env node
// Makes the repo's Jupyter kernel specs (.jupyter/share/jupyter/kernels/*/kernel.json, written by
// `tslab install`) independent of where the repository lies: jupyter_client fills {resource_dir} with the
// kernel's own folder, so the tslab binary is named relative to it and moving or renaming the clone keeps
// the kernel working.
const { readdirSync, readFileSync, writeFileSync } = require('node:fs');
const { join, relative } = require('node:path');

const root = join(__dirname, '..');
const kernels = join(root, '.jupyter', 'share', 'jupyter', 'kernels');
for (const name of readdirSync(kernels)) {
  const file = join(kernels, name, 'kernel.json');
  const spec = JSON.parse(readFileSync(file, 'utf8'));
  const tslab = join(root, 'node_modules', '.bin', 'tslab');
  spec.argv[0] = `{resource_dir}/${relative(join(kernels, name), tslab)}`;
  writeFileSync(file, `${JSON.stringify(spec, null, 1)}\n`);
}
