#!/usr/bin/env node
// Ships a finished teacher run as data/teacher-mnist/: its EMA model (model.json + weights.bin), its final
// training checkpoint (checkpoint/, so `sfd train-teacher --resume --from data/teacher-mnist` continues it),
// and a card that also records how it was chosen (the candidates' results, JSON lines) and its FID curve
// over the run's snapshots (JSON lines of `sfd eval` results).
// Usage: node scripts/ship-teacher.js RUN_DIR CANDIDATES.jsonl FID_CURVE.jsonl
const fs = require('node:fs');
const path = require('node:path');

const [run, candidatesFile, curveFile] = process.argv.slice(2);
if (!run || !candidatesFile || !curveFile) {
  console.error('usage: node scripts/ship-teacher.js RUN_DIR CANDIDATES.jsonl FID_CURVE.jsonl');
  process.exit(2);
}
const root = path.join(__dirname, '..');
const dest = path.join(root, 'data', 'teacher-mnist');
const lines = (f) =>
  fs
    .readFileSync(f, 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
const card = JSON.parse(fs.readFileSync(path.join(run, 'model.json'), 'utf8'));
const ckpt = JSON.parse(fs.readFileSync(path.join(run, 'checkpoint', 'checkpoint.json'), 'utf8'));
if (ckpt.step !== card.steps) throw new Error(`checkpoint at step ${ckpt.step}, model at ${card.steps}`);
const curve = lines(curveFile)
  .map((e) => ({ step: Number(/step-(\d+)/.exec(e.snapshot)[1]), fid: e.result.fid, n: e.result.n }))
  .sort((a, b) => a.step - b.step);
card.command = 'sfd train-teacher';
card.candidates = lines(candidatesFile);
card.fidCurve = { protocol: 'FID, N = 1000, seed 0, DPM-Solver++(3M) 10 NFE, vs MNIST test', points: curve };
delete card.evaluation; // measured afresh on the shipped teacher by scripts/evaluate-teacher.sh
fs.rmSync(dest, { recursive: true, force: true });
fs.mkdirSync(path.join(dest, 'checkpoint'), { recursive: true });
fs.copyFileSync(path.join(run, 'weights.bin'), path.join(dest, 'weights.bin'));
for (const f of fs.readdirSync(path.join(run, 'checkpoint')))
  fs.copyFileSync(path.join(run, 'checkpoint', f), path.join(dest, 'checkpoint', f));
fs.writeFileSync(path.join(dest, 'model.json'), `${JSON.stringify(card, null, 1)}\n`);
console.log(`shipped ${run} (step ${card.steps}, ${curve.length} FID points) → ${dest}`);
