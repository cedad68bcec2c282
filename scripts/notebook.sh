#!/usr/bin/env bash
# `npm run notebook`: the classic Jupyter Notebook (Debian's jupyter-notebook, installed by `npm run setup`)
# on 127.0.0.1 with the repo's TypeScript kernel, opened on notebooks/. Extra arguments go to jupyter.
set -euo pipefail
cd "$(dirname "$0")/.."
export JUPYTER_PATH="$PWD/.jupyter/share/jupyter"
if [ ! -f "$JUPYTER_PATH/kernels/tslab/kernel.json" ]; then
  echo "notebook: the tslab kernel is not registered: run 'npm run setup' first" >&2
  exit 1
fi
if ! /usr/bin/python3 -c 'import notebook' 2>/dev/null; then
  echo "notebook: no Jupyter front-end: run 'npm run setup' (as root it installs jupyter-notebook), or: sudo apt-get install jupyter-notebook" >&2
  exit 1
fi
root=()
if [ "$(id -u)" = 0 ]; then root=(--allow-root); fi
echo "notebook: starting Jupyter on 127.0.0.1 with the TypeScript kernel; open the URL it prints (Ctrl-C stops it)" >&2
exec /usr/bin/python3 -m notebook --no-browser --ip=127.0.0.1 --notebook-dir="$PWD/notebooks" "${root[@]}" "$@"
