#!/usr/bin/env bash
# Measures the shipped MNIST teacher's quality (issue: FID at N = 5000 against MNIST test) and records each
# result in its card (data/teacher-mnist/model.json): real training images (the floor), Heun at 36 NFE (18 steps; EDM's 35 ends with an Euler step to σ = 0, which this grid does not reach),
# DPM-Solver++(3M) at 10 and 20 NFE, the denoising error per σ beside the best linear denoiser; then writes the sample grid figure. Takes about 20 min on 2 CPU cores (native backend with oneDNN).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-5000}
node bin/sfd.js eval --real train --n "$N" --record --card mnist
node bin/sfd.js eval --teacher mnist --solver heun --nfe 36 --n "$N" --record
node bin/sfd.js eval --teacher mnist --solver dpmpp-3m --nfe 10 --n "$N" --record
node bin/sfd.js eval --teacher mnist --solver dpmpp-3m --nfe 20 --n "$N" --record
node bin/sfd.js eval --teacher mnist --denoising --n 1000 --record
node bin/sfd.js sample --teacher mnist --solver heun --nfe 36 --n 100 --seed 1 --out figures/teacher-mnist-heun36.png
