#!/usr/bin/env bash
# Makes the baselines notebook 08 compares SFD with (the paper's Fig. 1 and Table 2), from the committed code
# and the shipped teacher, with no other job running (their training time is what the comparison plots):
#   sfd-nfe2-reference  the shipped SFD NFE-2 student retrained by its own command (scripts/ship-students.sh), so
#                     that SFD's time is measured in the same run as the baselines' (same code, same machine);
#                     data/baselines/sfd-nfe2-reference.json says whether its weights equal the shipped ones
#   amed-ipndm-nfe5   AMED-Plugin on iPNDM with AFS, NFE 5, every setting at its default (313 iterations of 32)
#   gits-ipndm-nfe5   GITS schedule for iPNDM at NFE 5 (official defaults: 256 warm-up samples, 61-point
#                     teacher grid, metric dev, coefficient 1.15): data/baselines/gits-ipndm-nfe5.json
#   gits-ipndm-nfe5-l2   the same search with the l2 metric (which beats dev on the 2-D mixtures): a variant
#   amed-ipndm-nfe4, gits-ipndm-nfe4   the same at NFE 4 (the paper's Fig. 1; AMED without AFS, which an even
#                     NFE needs: AFS hurts iPNDM on this teacher)
#   sfd-gits-nfe2, sfd-gits-nfe3   SFD on a GITS grid searched for its Euler student (with AFS, t 0.006…80),
#                     every other setting as the shipped sfd-nfe2/3 (data/baselines/gits-euler-afs-nfe2|3.json)
#   solvers           UniPC, DEIS and iPNDM+AFS at NFE 5 (the rest of the paper's NFE-5 solvers are already in
#                     the teacher's card: scripts/evaluate-teacher.sh)
#   pd-nfe2           Progressive Distillation 64 → 2 Euler steps, 5 rounds of 4800 iterations of 16
#   cd                Consistency Distillation, 9500 iterations of 16, 2-step σ by search at the end
# PD and CD each get at most 10× the training time of the shipped SFD NFE-2 student (368 s → 61 min): 24000 and
# 9500 iterations. PD's count came from 100-iteration runs (7.2 iterations/s) and ran at 6.5 over the whole run
# (61.8 min, 1.4 % over); CD's from the first 370 iterations of its own run (2.7–2.9 iterations/s), leaving ~5 %. Each training run keeps a quick FID curve (N = 500,
# seed 0, against CPU time) and is then evaluated at N = 5000 (seed 0, FID + PRDC + confidence against MNIST
# test), recorded in its card, and shipped to data/baselines/<name>/ with its final weights only (no
# optimiser state). The solvers' and GITS's evaluations are recorded in the teacher's card.
# Runs live in runs/baselines/ (kept): RESUME=1 continues an interrupted run from its checkpoint (bit for bit,
# its training time carried over); SKIP_TRAIN=1 only re-evaluates and ships.
# Usage: scripts/ship-baselines.sh [NAME...]   (default: all, in the order above)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=runs/baselines
DATA=data/baselines
N=${N:-5000}
mkdir -p "$ROOT" "$DATA"
declare -A FLAGS=(
  [amed-ipndm-nfe5]="--method amed --nfe 5"
  [amed-ipndm-nfe4]="--method amed --nfe 4 --no-afs"
  [pd-nfe2]="--method pd --start-steps 64 --final-steps 2 --iterations-per-round 4800 --eval-every 800 --eval-n 500"
  [cd]="--method cd --iterations 9500 --eval-every 950 --eval-n 500 --tau-search"
)
declare -A NFES=([amed-ipndm-nfe5]=5 [amed-ipndm-nfe4]=4 [pd-nfe2]=2 [cd]="1 2" [sfd-gits-nfe2]=2 [sfd-gits-nfe3]=3)
ORDER=(sfd-nfe2-reference amed-ipndm-nfe5 gits-ipndm-nfe5 solvers pd-nfe2 cd amed-ipndm-nfe4 gits-ipndm-nfe4
  gits-ipndm-nfe5-l2 sfd-gits-nfe2 sfd-gits-nfe3)
[ $# -gt 0 ] && ORDER=("$@")
ev() { node bin/sfd.js eval --n "$N" --seed 0 --record "$@" > /dev/null; }

for name in "${ORDER[@]}"; do
  case "$name" in
    sfd-nfe2-reference)
      rm -rf "${ROOT:?}/$name"
      echo "retraining the SFD NFE-2 student as the time reference" >&2
      node bin/sfd.js distill --nfe 2 --eval-every 100 --eval-n 500 --no-cache --out "$ROOT/$name" > "$ROOT/$name.log" 2>&1
      node -e '
        const fs = require("node:fs");
        const [run, shipped, dest] = process.argv.slice(1);
        const card = (d) => JSON.parse(fs.readFileSync(`${d}/model.json`, "utf8"));
        const r = card(run);
        const s = card(shipped);
        const out = {
          what: "the shipped SFD NFE-2 student retrained in the same run as the baselines (scripts/ship-baselines.sh)",
          command: r.command, backend: r.backend, date: new Date().toISOString().slice(0, 10),
          wallSeconds: r.wallSeconds, iterations: r.iterations, evals: r.evals,
          sha256: r.sha256, shippedSha256: s.sha256, sameWeights: r.sha256 === s.sha256, shippedWallSeconds: s.wallSeconds,
        };
        fs.writeFileSync(dest, `${JSON.stringify(out, null, 1)}\n`);
        console.log(`SFD NFE 2 retrained in ${out.wallSeconds} s (shipped: ${out.shippedWallSeconds} s), same weights: ${out.sameWeights}`);
      ' "$ROOT/$name" data/students/sfd-nfe2 "$DATA/$name.json"
      ;;
    gits-ipndm-nfe*)
      nfe=${name#gits-ipndm-nfe}
      metric=dev
      case "$nfe" in *-l2) nfe=${nfe%-l2}; metric=l2 ;; esac
      if [ -z "${SKIP_TRAIN:-}" ]; then
        echo "searching the GITS schedule for iPNDM at NFE $nfe (metric $metric)" >&2
        rm -f "$ROOT/$name.json"
        node bin/sfd.js gits --teacher mnist --solver ipndm --nfe "$nfe" --metric "$metric" --out "$ROOT/$name.json" > "$ROOT/$name.log" 2>&1
        cp "$ROOT/$name.json" "$DATA/$name.json"
      fi
      echo "evaluating iPNDM on the GITS schedule $name (N = $N)" >&2
      ev --teacher mnist --solver ipndm --nfe "$nfe" --schedule "$DATA/$name.json"
      ;;
    sfd-gits-nfe*)
      nfe=${name#sfd-gits-nfe}
      grid="gits-euler-afs-nfe$nfe"
      if [ -n "${RESUME:-}" ] && [ -d "$ROOT/$name/checkpoint" ]; then
        echo "resuming $name" >&2
        node bin/sfd.js distill --nfe "$nfe" --schedule "$DATA/$grid.json" --eval-every 100 --eval-n 500 --no-cache --out "$ROOT/$name" --resume >> "$ROOT/$name.log" 2>&1
      elif [ -z "${SKIP_TRAIN:-}" ]; then
        echo "searching the GITS grid of SFD's Euler student at NFE $nfe, then distilling on it" >&2
        rm -rf "${ROOT:?}/$name" "$ROOT/$grid.json"
        node bin/sfd.js gits --teacher mnist --solver euler --nfe "$nfe" --afs --t-min 0.006 --out "$ROOT/$grid.json" > "$ROOT/$grid.log" 2>&1
        cp "$ROOT/$grid.json" "$DATA/$grid.json"
        node bin/sfd.js distill --nfe "$nfe" --schedule "$DATA/$grid.json" --eval-every 100 --eval-n 500 --no-cache --out "$ROOT/$name" > "$ROOT/$name.log" 2>&1
      fi
      echo "evaluating $name at NFE $nfe (N = $N)" >&2
      ev --teacher "$ROOT/$name" --nfe "$nfe"
      node scripts/ship-model.js "$ROOT/$name" "$DATA/$name"
      ;;
    solvers)
      for s in unipc deis; do
        echo "evaluating $s at NFE 5 (N = $N)" >&2
        ev --teacher mnist --solver "$s" --nfe 5
      done
      echo "evaluating ipndm with AFS at NFE 5 (N = $N)" >&2
      ev --teacher mnist --solver ipndm --nfe 5 --afs
      ;;
    *)
      [ -n "${FLAGS[$name]+x}" ] || { echo "unknown baseline $name (one of: sfd-nfe2-reference ${!FLAGS[*]} gits-ipndm-nfe4|5|5-l2 solvers sfd-gits-nfe2|3)" >&2; exit 2; }
      if [ -n "${RESUME:-}" ] && [ -d "$ROOT/$name/checkpoint" ]; then
        echo "resuming $name: ${FLAGS[$name]}" >&2
        node bin/sfd.js distill ${FLAGS[$name]} --out "$ROOT/$name" --resume >> "$ROOT/$name.log" 2>&1
      elif [ -z "${SKIP_TRAIN:-}" ]; then
        rm -rf "${ROOT:?}/$name"
        echo "training $name: ${FLAGS[$name]}" >&2
        node bin/sfd.js distill ${FLAGS[$name]} --out "$ROOT/$name" > "$ROOT/$name.log" 2>&1
      fi
      for nfe in ${NFES[$name]}; do
        echo "evaluating $name at NFE $nfe (N = $N)" >&2
        ev --teacher "$ROOT/$name" --nfe "$nfe"
      done
      node scripts/ship-model.js "$ROOT/$name" "$DATA/$name"
      ;;
  esac
done
