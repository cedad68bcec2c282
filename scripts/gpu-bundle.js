#!/usr/bin/env node
// npm run gpu-bundle [-- --out DIR] [--fast]
//
// Builds a self-contained folder (default gpu-bundle/, git-ignored) for a bare, offline GPU machine: one
// archive sfd-gpu.tar.xz and its script run.sh. The archive holds this machine's Node binary (the project's
// Node version), the GPU check (lib/cli/gpuCheck.ts, bundled into one file with tfjs), the Dawn addon of
// the `webgpu` package, the shipped teacher, the feature network and its MNIST statistics, Debian's Vulkan
// loader (libvulkan1's library) and the PyTorch peer. `--fast` compresses at xz level 1 (the tests: same
// content, built in seconds); the default is xz -9e with the x86 filter, the smallest. `--repo-data` leaves
// out what the repository already holds (data/, bench/peers/): run.sh then uses the repository's copy beside
// the bundle — for a copy of the working tree that travels with a size limit.

const { execFileSync } = require('node:child_process');
const {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} = require('node:fs');
const { tmpdir } = require('node:os');
const { dirname, join, resolve } = require('node:path');
const { parseArgs } = require('node:util');

const root = resolve(__dirname, '..');

function findVulkanLoader() {
  const dirs = ['/usr/lib/x86_64-linux-gnu', '/usr/lib64', '/usr/lib', '/usr/local/lib'];
  for (const d of dirs) if (existsSync(join(d, 'libvulkan.so.1'))) return join(d, 'libvulkan.so.1');
  throw new Error(
    'no Vulkan loader (libvulkan.so.1) on this machine: apt-get install libvulkan1 (npm run setup does)',
  );
}

/** Copies a binary without its symbol tables (node: 99 → 86 MB), where binutils' strip is present. */
function copyStripped(from, to) {
  copyFileSync(from, to);
  try {
    execFileSync('strip', ['--strip-unneeded', to], { stdio: 'ignore' });
  } catch {
    // no strip here: the unstripped binary works the same
  }
  chmodSync(to, statSync(from).mode);
}

const RUN_SH = `#!/usr/bin/env bash
# sfd-lab's GPU check for a bare GPU machine (x86-64 Linux, a Vulkan driver; nothing else needed).
#   run.sh OUT_DIR [--tiny]
# Unpacks sfd-gpu.tar.xz into /tmp, points Vulkan at the NVIDIA driver where one is installed, runs the
# WebGPU numerics against the cpu backend, the benchmark and an SFD NFE-2 distillation with FID at N = 5000
# (JSON lines in OUT_DIR/gpu-check.jsonl), then the PyTorch peer on the same workloads with CUDA, where
# python3 has torch with a GPU (OUT_DIR/peer.jsonl).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 1 ] || { echo "usage: run.sh OUT_DIR [--tiny]" >&2; exit 2; }
mkdir -p "$1"; out=$(cd "$1" && pwd); shift
work=\${SFD_GPU_WORK:-/tmp/sfd-gpu}
rm -rf "$work"; mkdir -p "$work"
tar -xJf "$here/sfd-gpu.tar.xz" -C "$work"
app=$work/app
# a bundle built with --repo-data takes data/ and the peer from the repository it sits in
[ -e "$app/data" ] || ln -s "$here/../data" "$app/data"
[ -e "$app/bench" ] || ln -s "$here/../bench" "$app/bench"
export LD_LIBRARY_PATH="$app/lib\${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
if [ -z "\${VK_DRIVER_FILES:-}\${VK_ICD_FILENAMES:-}" ]; then
  for f in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json \\
    /etc/vulkan/icd.d/nvidia_icd.json; do
    if [ -f "$f" ]; then export VK_DRIVER_FILES=$f; break; fi
  done
fi
echo "run.sh: Vulkan driver \${VK_DRIVER_FILES:-\${VK_ICD_FILENAMES:-system default}}, node $("$app/bin/node" --version)"
status=0
"$app/bin/node" "$app/dist/sfd-gpu.js" --out "$out" "$@" || status=$?
if python3 -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
  python3 "$app/bench/peers/unet_torch.py" bench "$out/peer-spec.json" >"$out/peer.jsonl" || status=$?
  cat "$out/peer.jsonl"
else
  echo "run.sh: PyTorch peer skipped (no python3 torch with CUDA here)"
  : >"$out/peer.jsonl"
fi
exit $status
`;

function main() {
  const { values } = parseArgs({
    options: { out: { type: 'string' }, fast: { type: 'boolean' }, 'repo-data': { type: 'boolean' } },
    strict: true,
  });
  const out = resolve(values.out ?? join(root, 'gpu-bundle'));
  const t0 = Date.now();
  const stage = mkdtempSync(join(tmpdir(), 'sfd-gpu-bundle-'));
  try {
    const app = join(stage, 'app');
    for (const d of ['bin', 'dist', 'lib', 'data', 'bench/peers', 'node_modules/webgpu/dist/linux-x64'])
      mkdirSync(join(app, d), { recursive: true });
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    // repoRoot() finds the app by this name
    writeFileSync(
      join(app, 'package.json'),
      `${JSON.stringify({ name: pkg.name, version: pkg.version, private: true })}\n`,
    );
    require('esbuild').buildSync({
      stdin: { contents: "require('./lib/cli/gpuCheck').gpuCheckMain();", resolveDir: root, loader: 'ts' },
      bundle: true,
      platform: 'node',
      target: 'node20',
      outfile: join(app, 'dist', 'sfd-gpu.js'),
      minify: true,
      legalComments: 'eof',
      logLevel: 'error',
      // native or optional packages, loaded only if present (webgpu is copied beside it)
      external: [
        'webgpu',
        '@tensorflow/tfjs-node',
        '@tensorflow/tfjs-node-gpu',
        '@tensorflow/tfjs-backend-wasm',
        'tslab',
        '@resvg/resvg-js',
      ],
    });
    const wg = join(root, 'node_modules', 'webgpu');
    for (const f of ['package.json', 'index.js', 'LICENSE.md'])
      copyFileSync(join(wg, f), join(app, 'node_modules/webgpu', f));
    copyStripped(
      join(wg, 'dist/linux-x64/dawn.node'),
      join(app, 'node_modules/webgpu/dist/linux-x64/dawn.node'),
    );
    copyStripped(process.execPath, join(app, 'bin', 'node'));
    copyFileSync(findVulkanLoader(), join(app, 'lib', 'libvulkan.so.1'));
    if (values['repo-data']) {
      rmSync(join(app, 'data'), { recursive: true });
      rmSync(join(app, 'bench'), { recursive: true });
    } else {
      for (const f of ['model.json', 'weights.bin']) {
        mkdirSync(join(app, 'data/teacher-mnist'), { recursive: true });
        copyFileSync(join(root, 'data/teacher-mnist', f), join(app, 'data/teacher-mnist', f));
      }
      cpSync(join(root, 'data/feature-net'), join(app, 'data/feature-net'), { recursive: true });
      copyFileSync(join(root, 'data/mnist-feature-stats.json'), join(app, 'data/mnist-feature-stats.json'));
      copyFileSync(join(root, 'bench/peers/unet_torch.py'), join(app, 'bench/peers/unet_torch.py'));
    }
    rmSync(out, { recursive: true, force: true });
    mkdirSync(out, { recursive: true });
    execFileSync('tar', ['-cJf', join(out, 'sfd-gpu.tar.xz'), '-C', stage, 'app'], {
      env: { ...process.env, XZ_OPT: values.fast ? '-1 -T0' : '--x86 --lzma2=preset=9e -T0' },
    });
    writeFileSync(join(out, 'run.sh'), RUN_SH);
    chmodSync(join(out, 'run.sh'), 0o755);
    const mib = statSync(join(out, 'sfd-gpu.tar.xz')).size / 2 ** 20;
    console.log(
      `gpu-bundle: ${out} (sfd-gpu.tar.xz ${mib.toFixed(1)} MiB + run.sh) in ${((Date.now() - t0) / 1000).toFixed(0)} s`,
    );
    console.log(
      `  on the GPU machine: ${join(dirname(out) === root ? 'gpu-bundle' : out, 'run.sh')} OUT_DIR`,
    );
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

main();
