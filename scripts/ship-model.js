#!/usr/bin/env node
// Ships one trained model (RUN_DIR: model.json + its weights file: an SFD, PD or CD student's weights.bin, an
// AMED predictor's predictor.bin) as DEST: the final weights unchanged (their sha256 is in the card; the run's
// checkpoint and optimiser state stay behind), the card with its teacher named by a repository-relative path
// (a stage-2 student's teacher is the shipped stage-1 student), so that the shipped folder does not point into
// the machine that made it.
// Usage: node scripts/ship-model.js RUN_DIR DEST
const fs = require('node:fs');
const path = require('node:path');

const [run, destArg] = process.argv.slice(2);
if (!run || !destArg) {
  console.error('usage: node scripts/ship-model.js RUN_DIR DEST');
  process.exit(2);
}
const root = path.join(__dirname, '..');
const dest = path.resolve(root, destArg);
const card = JSON.parse(fs.readFileSync(path.join(run, 'model.json'), 'utf8'));
if (!card.sfd && !card.pd && !card.cd && card.format !== 'sfd-amed')
  throw new Error(
    `${run} is not a distilled model (its card has no sfd, pd or cd section and is no AMED predictor)`,
  );
const weightsFile = card.weightsManifest?.[0]?.paths?.[0];
if (card.weightsManifest?.length !== 1 || card.weightsManifest[0].paths.length !== 1)
  throw new Error(`${run}/model.json should name one weights file`);
if (!card.evaluation?.length)
  throw new Error(`${run} has no recorded evaluation: run sfd eval --record first`);
const teacherDir = card.teacher?.dir;
if (teacherDir) {
  const rel = path.relative(root, path.resolve(root, teacherDir));
  // a run under runs/students/ (runs/baselines/) becomes its shipped copy under data/students/ (data/baselines/)
  const shippedAs = ['students', 'baselines'].find((d) => rel.startsWith(`runs${path.sep}${d}${path.sep}`));
  card.teacher.dir = shippedAs ? path.join('data', shippedAs, path.basename(rel)) : rel;
}
fs.rmSync(dest, { recursive: true, force: true });
fs.mkdirSync(dest, { recursive: true });
fs.copyFileSync(path.join(run, weightsFile), path.join(dest, weightsFile));
fs.writeFileSync(path.join(dest, 'model.json'), `${JSON.stringify(card, null, 1)}\n`);
const fids = card.evaluation
  .filter((e) => e.fid !== undefined)
  .map((e) => `NFE ${e.nfe}: FID ${e.fid.toFixed(2)}`)
  .join(', ');
console.log(`shipped ${run} → ${path.relative(root, dest)} (${fids})`);
