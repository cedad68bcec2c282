#!/usr/bin/env bash
# Chooses SFD's default learning rate from measurements: SFD at NFE 2 on the shipped teacher with every other
# setting at its default (batch 16, 600 iterations, ×0.1 at half), one run per learning rate, each with a
# quick FID curve (N = 1000, seed 0, against MNIST test) every 100 iterations. The teacher's trajectories are
# the same for every run (same seed, grid and solver), so the first run fills the trajectory cache and the
# others reuse it: only the first pays for the teacher. Extra runs (e.g. a larger batch) can be named with
# EXTRA="name:flags;name:flags". Writes one JSON line per run to runs/lr-sweep/results.jsonl.
# Usage: [LRS="2e-4 5e-5 1e-4 5e-4 1e-3 2e-3"] [EXTRA=...] scripts/sfd-lr-sweep.sh   (LRS="" runs only EXTRA)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=runs/lr-sweep
mkdir -p "$ROOT"
read -r -a LRS <<< "${LRS-2e-4 5e-5 1e-4 5e-4 1e-3 2e-3}"

RUNS=()
for lr in "${LRS[@]}"; do RUNS+=("lr$lr:--lr $lr"); done
IFS=';' read -r -a EXTRAS <<< "${EXTRA:-}"
for e in "${EXTRAS[@]}"; do [ -n "$e" ] && RUNS+=("$e"); done

for run in "${RUNS[@]}"; do
  name=${run%%:*}
  flags=${run#*:}
  rm -rf "${ROOT:?}/$name"
  echo "run $name: $flags" >&2
  node bin/sfd.js distill --nfe 2 $flags --eval-every 100 --eval-n 1000 --out "$ROOT/$name" > "$ROOT/$name.log" 2>&1
  node -e "
    const c = require('./$ROOT/$name/model.json');
    const curve = c.evals.map((p) => [p.iteration, +p.fid.toFixed(2)]);
    console.log(JSON.stringify({ name: '$name', flags: '$flags', lr: c.sfd.config.lr.lr, batch: c.sfd.config.batch,
      iterations: c.iterations, wallSeconds: c.wallSeconds,
      fid1000: curve[curve.length - 1][1], curve }));
  " | tee -a "$ROOT/results.jsonl"
done
