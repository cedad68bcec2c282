#!/usr/bin/env bash
# FID curve of a teacher run: exports the EMA weights of each given checkpoint (checkpoint.json beside its
# checkpoint-NNNNNNN.bin) and records a quick FID (N = 1000, DPM-Solver++(3M), 10 NFE) in the card of
# CARD (default: the shipped teacher). Usage: scripts/teacher-fid-curve.sh [--card DIR] CKPT.json...
set -euo pipefail
cd "$(dirname "$0")/.."
CARD=mnist
if [ "${1:-}" = "--card" ]; then CARD=$2; shift 2; fi
N=${N:-1000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for ck in "$@"; do
  rm -rf "$tmp/m"
  node bin/sfd.js train-teacher --export "$ck" --out "$tmp/m"
  node bin/sfd.js eval --teacher "$tmp/m" --solver dpmpp-3m --nfe 10 --n "$N" --record --card "$CARD"
done
