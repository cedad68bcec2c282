#!/usr/bin/env bash
# The teacher's solvers at every NFE from 2 to 10 that each can spend (Euler, Heun, iPNDM, DPM-Solver++(3M);
# EDM's t ∈ [0.002, 80], ρ = 7, no AFS), FID + PRDC at N = 5000 (seed 0) against MNIST test, recorded in the
# teacher's card: the baselines of the README's SFD report. Settings already in the card are not re-measured.
# Usage: [NFES="2 3 4 5"] scripts/evaluate-teacher-nfe.sh [TEACHER]   (default: the shipped teacher, mnist)
set -euo pipefail
cd "$(dirname "$0")/.."
T=${1:-mnist}
N=${N:-5000}
CARD=$([ "$T" = mnist ] && echo data/teacher-mnist || echo "$T")
for solver in euler heun ipndm dpmpp-3m; do
  for nfe in ${NFES:-2 3 4 5 6 7 8 9 10}; do
    [ "$solver" = heun ] && [ $((nfe % 2)) = 1 ] && continue # Heun spends 2 calls on every step (even NFE only)
    done=$(node -e "
      const c = require('./$CARD/model.json');
      console.log((c.evaluation ?? []).some((e) => e.solver === '$solver' && e.nfe === $nfe && e.n === $N && !e.afs && !e.threshold && e.seed === 0) ? 1 : 0)")
    [ "$done" = 1 ] && continue
    echo "teacher $solver at NFE $nfe (N = $N)" >&2
    node bin/sfd.js eval --teacher "$T" --solver "$solver" --nfe "$nfe" --n "$N" --seed 0 --record > /dev/null
  done
done
