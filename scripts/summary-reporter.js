// mocha's spec reporter, plus a closing `N passed, N failed` line (the form CI reads) and a JSON summary.
const { mkdirSync, writeFileSync } = require('node:fs');
const { Spec } = require('mocha').reporters;

class SpecWithSummary extends Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once('end', () => {
      const s = runner.stats;
      mkdirSync('.cache/test-summary', { recursive: true });
      writeFileSync(
        '.cache/test-summary/unit.json',
        JSON.stringify({ passed: s.passes, failed: s.failures, skipped: s.pending }),
      );
      console.log(`${s.passes} passed, ${s.failures} failed${s.pending ? `, ${s.pending} skipped` : ''}`);
    });
  }
}
module.exports = SpecWithSummary;
