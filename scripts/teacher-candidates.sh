#!/usr/bin/env bash
# Chooses the MNIST teacher from measurements: each candidate configuration is first timed (40 steps), then
# trained for the same wall-clock budget (BUDGET_MIN minutes, converted into steps with its measured s/step, so
# that other work on the machine during training does not change how far a candidate gets), and scored by FID
# (N = 1000, seed 0, DPM-Solver++(3M) at 10 NFE, against MNIST test). Writes one JSON line per candidate to
# runs/candidates/results.jsonl. The runs keep their checkpoints, so the chosen one can be continued with
# `sfd train-teacher --resume --out runs/candidates/NAME <same flags> --steps N`.
# Usage: scripts/teacher-candidates.sh [NAME...]   (default: every candidate below)
set -euo pipefail
cd "$(dirname "$0")/.."
BUDGET_MIN=${BUDGET_MIN:-10}
ROOT=runs/candidates
mkdir -p "$ROOT"

declare -A FLAGS=(
  [base]=""                                   # the shipped v1 configuration: 16/32/64, 1 block, lr 1e-3, EMA 50k
  [wide]="--channels 32,64,64"
  [blocks2]="--blocks 2"
  [lr2e-3]="--lr 2e-3"
)
# No EMA half-life candidate: EDM's ramp-up caps the half-life at 5 % of the images seen (≈ 6k images after a
# 10-minute run), far below the 50k cap, so every half-life ≥ 6k gives the same weights in a short run.
ORDER=(base wide blocks2 lr2e-3)
[ $# -gt 0 ] && ORDER=("$@")

for name in "${ORDER[@]}"; do
  flags=${FLAGS[$name]}
  # 1. time it (fresh, 40 steps)
  rm -rf "$ROOT/time-$name"
  node bin/sfd.js train-teacher $flags --steps 40 --checkpoint-every 1000 --out "$ROOT/time-$name" 2>/dev/null >/dev/null
  sps=$(node -e "const c=require('./$ROOT/time-$name/model.json'); console.log(c.wallSeconds/c.steps)")
  params=$(node -e "console.log(require('./$ROOT/time-$name/model.json').params)")
  rm -rf "$ROOT/time-$name"
  steps=$(node -e "console.log(Math.round($BUDGET_MIN*60/$sps/50)*50)")
  echo "candidate $name: $params params, $sps s/step → $steps steps" >&2
  # 2. train it for the budget
  rm -rf "$ROOT/$name"
  node bin/sfd.js train-teacher $flags --steps "$steps" --out "$ROOT/$name" > "$ROOT/$name.log" 2>&1
  # 3. score it
  fid=$(node bin/sfd.js eval --teacher "$ROOT/$name" --solver dpmpp-3m --nfe 10 --n 1000 --seed 0 2>/dev/null |
    node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{const l=s.trim().split('\n').pop();console.log(JSON.parse(l).fid)})")
  wall=$(node -e "console.log(require('./$ROOT/$name/model.json').wallSeconds)")
  echo "{\"name\":\"$name\",\"flags\":\"$flags\",\"params\":$params,\"secondsPerStep\":$sps,\"steps\":$steps,\"wallSeconds\":$wall,\"fid1000\":$fid}" | tee -a "$ROOT/results.jsonl"
done
