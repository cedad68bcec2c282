#!/usr/bin/env bash
# Runs every test stage even when an earlier one fails, then closes with one `N passed, N failed` line
# (lint and type check count as one check each; unit tests and notebooks report their own counts).
cd "$(dirname "$0")/.."
rm -rf .cache/test-summary
mkdir -p .cache/test-summary

check() { # check NAME COMMAND...: one pass/fail entry for a stage that has no counts of its own
  local name=$1
  shift
  echo "== $name"
  if "$@"; then r='{"passed":1,"failed":0}'; else r='{"passed":0,"failed":1}'; fi
  echo "$r" >.cache/test-summary/"$name".json
}

check lint npx biome check lib test bin scripts
check typecheck node node_modules/typescript/bin/tsc -p . --noEmit
echo "== unit tests"
npx mocha --reporter ./scripts/summary-reporter.js 'test/**/*.test.ts'
echo "== notebooks (FAST=1)"
bash scripts/notebooks.sh --fast
exec node scripts/total.js
