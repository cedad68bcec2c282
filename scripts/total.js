// Adds up the stage summaries written by scripts/test.sh into the one closing line CI reads.
// A stage that left no summary (it crashed before reporting) counts as one failure.
const { existsSync, readFileSync } = require('node:fs');

let passed = 0;
let failed = 0;
for (const stage of ['lint', 'typecheck', 'unit', 'notebooks']) {
  const file = `.cache/test-summary/${stage}.json`;
  if (!existsSync(file)) {
    console.log(`${stage}: no summary (the stage crashed): counted as 1 failure`);
    failed += 1;
    continue;
  }
  const s = JSON.parse(readFileSync(file, 'utf8'));
  passed += s.passed;
  failed += s.failed;
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
