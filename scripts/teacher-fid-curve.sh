#!/usr/bin/env bash
# FID curve of a teacher run: scores each given model directory — the run's EMA snapshots
# (`sfd train-teacher --snapshot-every N` writes DIR/snapshots/step-NNNNNNN/) — with a quick FID (N = 1000,
# seed 0, DPM-Solver++(3M), 10 NFE) and records it in the card of CARD (default: the shipped teacher).
# Usage: scripts/teacher-fid-curve.sh [--card DIR] MODEL_DIR...
set -euo pipefail
cd "$(dirname "$0")/.."
CARD=mnist
if [ "${1:-}" = "--card" ]; then CARD=$2; shift 2; fi
N=${N:-1000}
for m in "$@"; do
  node bin/sfd.js eval --teacher "$m" --solver dpmpp-3m --nfe 10 --n "$N" --seed 0 --record --card "$CARD"
done
