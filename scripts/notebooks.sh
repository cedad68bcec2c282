#!/usr/bin/env bash
# Runs every notebook with the tslab kernel registered inside the repo.
#   --fast   small profile (FAST=1), outputs not saved, figures to .cache/figures-fast (tests, CI)
#   --write  full profile, outputs saved into the notebooks, figures regenerated in figures/, with the
#            gallery figures/index.html
set -euo pipefail
cd "$(dirname "$0")/.."
export JUPYTER_PATH="$PWD/.jupyter/share/jupyter"
if [ ! -f "$JUPYTER_PATH/kernels/tslab/kernel.json" ]; then
  echo "tslab kernel not registered: run 'npm run setup' first" >&2
  exit 1
fi
mode=${1:-}
case "$mode" in
  --fast) export FAST=1; args=(--timeout 600 --summary .cache/test-summary/notebooks.json) ;;
  --write) unset FAST; args=(--write) ;;
  *) echo "usage: scripts/notebooks.sh --fast|--write" >&2; exit 2 ;;
esac
shift
if [ $# -eq 0 ]; then set -- notebooks/*.ipynb; fi
/usr/bin/python3 scripts/run_notebooks.py "${args[@]}" "$@"
# the offline gallery of what the run wrote (figures/index.html; the fast run's in .cache/figures-fast/)
if [ "$mode" = --fast ]; then node bin/sfd.js gallery --dir .cache/figures-fast; else node bin/sfd.js gallery; fi
