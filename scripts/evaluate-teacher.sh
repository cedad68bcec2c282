#!/usr/bin/env bash
# Measures a teacher's quality (FID, precision/recall/density/coverage and classifier confidence at N = 5000
# against MNIST test, all with seed 0) and records each result in its card: real training images (the floor),
# Heun at 36 NFE (18 steps), DPM-Solver++(3M) at 5, 10 and 20 NFE, Euler at 10 and 50, iPNDM at 5 and 10 — the
# baselines SFD is compared with — and the denoising error per σ; then writes the sample grid figure.
# Usage: scripts/evaluate-teacher.sh [TEACHER]   (default: the shipped teacher, mnist)
set -euo pipefail
cd "$(dirname "$0")/.."
T=${1:-mnist}
N=${N:-5000}
ev() { node bin/sfd.js eval --teacher "$T" --n "$N" --seed 0 --record "$@"; }
node bin/sfd.js eval --real train --n "$N" --record --card "$T"
ev --solver heun --nfe 36
for nfe in 5 10 20; do ev --solver dpmpp-3m --nfe "$nfe"; done
for nfe in 10 50; do ev --solver euler --nfe "$nfe"; done
for nfe in 5 10; do ev --solver ipndm --nfe "$nfe"; done
node bin/sfd.js eval --teacher "$T" --denoising --n 1000 --record
if [ "$T" = mnist ]; then
  node bin/sfd.js sample --teacher mnist --solver heun --nfe 36 --n 100 --seed 1 --out figures/teacher-mnist-heun36.png
fi
