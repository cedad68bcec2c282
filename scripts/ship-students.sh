#!/usr/bin/env bash
# Makes the students the README reports, from the committed code and the shipped teacher, and ships them to
# data/students/<name>/ (model.json card + weights.bin):
#   sfd-nfe2 … sfd-nfe5   SFD, one student per NFE, every setting at its default (600 iterations of 16)
#   sfd-v                 SFD-v for NFE 2–5 with step-cond, 1200 iterations (2× SFD's; the official code uses 4×)
#   sfd-two-stage-nfe1    two-stage 1 NFE from sfd-v (stage 2's defaults: L1 + LPIPS-style, lr 5e-4), 1200 iterations
# Each run keeps a quick FID curve (N = 500, seed 0, every 100 iterations: FID against CPU time) and is then
# evaluated at N = 5000 (seed 0, FID + PRDC + classifier confidence against MNIST test), recorded in its card.
# Runs live in runs/students/ (kept: `sfd distill --resume` continues one); SKIP_TRAIN=1 only re-evaluates.
# Usage: scripts/ship-students.sh [NAME...]   (default: all six, in the order above)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=runs/students
N=${N:-5000}
mkdir -p "$ROOT"
# --no-cache: every run solves its teacher, so its time is the method's whole cost (a cached run leaves it out)
CURVE="--eval-every 100 --eval-n 500 --no-cache"
declare -A FLAGS=(
  [sfd-nfe2]="--nfe 2"
  [sfd-nfe3]="--nfe 3"
  [sfd-nfe4]="--nfe 4"
  [sfd-nfe5]="--nfe 5"
  [sfd-v]="--variable 2,3,4,5 --cond step --iterations 1200"
  [sfd-two-stage-nfe1]="--stage2 --from $ROOT/sfd-v --iterations 1200"
)
declare -A NFES=([sfd-nfe2]=2 [sfd-nfe3]=3 [sfd-nfe4]=4 [sfd-nfe5]=5 [sfd-v]="2 3 4 5" [sfd-two-stage-nfe1]=1)
ORDER=(sfd-nfe2 sfd-nfe3 sfd-nfe4 sfd-nfe5 sfd-v sfd-two-stage-nfe1)
[ $# -gt 0 ] && ORDER=("$@")

for name in "${ORDER[@]}"; do
  [ -n "${FLAGS[$name]+x}" ] || { echo "unknown student $name (one of: ${!FLAGS[*]})" >&2; exit 2; }
  if [ -z "${SKIP_TRAIN:-}" ]; then
    rm -rf "${ROOT:?}/$name"
    echo "training $name: ${FLAGS[$name]}" >&2
    node bin/sfd.js distill ${FLAGS[$name]} $CURVE --out "$ROOT/$name" > "$ROOT/$name.log" 2>&1
  fi
  for nfe in ${NFES[$name]}; do
    echo "evaluating $name at NFE $nfe (N = $N)" >&2
    node bin/sfd.js eval --teacher "$ROOT/$name" --nfe "$nfe" --n "$N" --seed 0 --record > /dev/null
  done
  node scripts/ship-model.js "$ROOT/$name" "data/students/$name"
done
