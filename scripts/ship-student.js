#!/usr/bin/env node
// Ships one trained student (RUN_DIR: model.json + weights.bin) as DEST: the weights unchanged (their sha256 is
// in the card), the card with its teacher named by a repository-relative path (a stage-2 student's teacher is
// the shipped stage-1 student), so that the shipped folder does not point into the machine that made it.
// Usage: node scripts/ship-student.js RUN_DIR DEST
const fs = require('node:fs');
const path = require('node:path');

const [run, destArg] = process.argv.slice(2);
if (!run || !destArg) {
  console.error('usage: node scripts/ship-student.js RUN_DIR DEST');
  process.exit(2);
}
const root = path.join(__dirname, '..');
const dest = path.resolve(root, destArg);
const card = JSON.parse(fs.readFileSync(path.join(run, 'model.json'), 'utf8'));
if (!card.sfd) throw new Error(`${run} is not an SFD student (its card has no sfd section)`);
if (!card.evaluation?.length)
  throw new Error(`${run} has no recorded evaluation: run sfd eval --record first`);
const teacherDir = card.teacher?.dir;
if (teacherDir) {
  const rel = path.relative(root, path.resolve(root, teacherDir));
  // a run under runs/students/ becomes its shipped copy under data/students/
  card.teacher.dir = rel.startsWith(`runs${path.sep}students${path.sep}`)
    ? path.join('data', 'students', path.basename(rel))
    : rel;
}
fs.rmSync(dest, { recursive: true, force: true });
fs.mkdirSync(dest, { recursive: true });
fs.copyFileSync(path.join(run, 'weights.bin'), path.join(dest, 'weights.bin'));
fs.writeFileSync(path.join(dest, 'model.json'), `${JSON.stringify(card, null, 1)}\n`);
const fids = card.evaluation
  .filter((e) => e.fid !== undefined)
  .map((e) => `NFE ${e.nfe}: FID ${e.fid.toFixed(2)}`)
  .join(', ');
console.log(`shipped ${run} → ${path.relative(root, dest)} (${fids})`);
