// Adds up the unit-test and notebook summaries into the one closing line CI reads.
const { readFileSync } = require('node:fs');
let passed = 0;
let failed = 0;
for (const part of ['unit', 'notebooks']) {
  const s = JSON.parse(readFileSync(`.cache/test-summary/${part}.json`, 'utf8'));
  passed += s.passed;
  failed += s.failed;
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
