#!/usr/bin/env node
// Prints the README's SFD report as a Markdown table, from the recorded evaluations alone (N = 5000, seed 0,
// against MNIST test): the shipped students' cards (data/students/*/model.json, written by
// scripts/ship-students.sh) and the teacher's card (scripts/evaluate-teacher.sh), so that the README's numbers
// are exactly the measured ones. Then the paper's claims, checked on those numbers.
// Usage: node scripts/students-report.js [N]   (default 5000: only evaluations at that N are used)
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const N = Number(process.argv[2] ?? 5000);
const card = (dir) => JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
const teacher = card(path.join(root, 'data', 'teacher-mnist'));
const studentsDir = path.join(root, 'data', 'students');
const students = fs.existsSync(studentsDir)
  ? fs
      .readdirSync(studentsDir)
      .filter((d) => fs.existsSync(path.join(studentsDir, d, 'model.json')))
      .map((d) => ({ name: d, card: card(path.join(studentsDir, d)) }))
  : [];

const LABEL = { euler: 'Euler (DDIM)', heun: 'Heun', ipndm: 'iPNDM', 'dpmpp-3m': 'DPM-Solver++(3M)' };
const rows = [];
// the baselines' protocol: N, seed 0, the plain sampler (no AFS, no thresholding), FID measured
const measured = (e) => e.n === N && e.seed === 0 && e.fid !== undefined;
for (const e of teacher.evaluation ?? []) {
  if (!measured(e) || !e.solver || e.afs || e.threshold) continue;
  rows.push({ method: `teacher, ${LABEL[e.solver] ?? e.solver}`, nfe: e.nfe, e, minutes: null });
}
const FAMILY = (s) =>
  s.card.sfd.stage === 2 ? 'SFD two-stage' : s.card.sfd.sampling.nfes.length > 1 ? 'SFD-v' : 'SFD';
for (const s of students)
  for (const e of s.card.evaluation ?? []) {
    if (!measured(e)) continue;
    if (s.card.cachedTargetIterations > 0)
      throw new Error(
        `${s.name} read teacher trajectories from the cache: its time is not the method's cost`,
      );
    // a two-stage student's time includes its stage-1 teacher's
    const own = s.card.wallSeconds / 60;
    const from =
      s.card.sfd.stage === 2 ? students.find((t) => path.basename(s.card.teacher.dir) === t.name) : null;
    rows.push({
      method: `${FAMILY(s)} (\`${s.name}\`)`,
      nfe: e.nfe,
      e,
      minutes: from ? own + from.card.wallSeconds / 60 : own,
      backend: s.card.backend,
    });
  }
rows.sort((a, b) => a.nfe - b.nfe || a.e.fid - b.e.fid);
const f = (x, d = 3) => x.toFixed(d);
console.log(
  '| method | NFE | FID | precision | recall | density | coverage | confidence | fine-tuning CPU min |',
);
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const r of rows)
  console.log(
    `| ${r.method} | ${r.nfe} | ${f(r.e.fid, 2)} | ${f(r.e.precision)} | ${f(r.e.recall)} | ${f(r.e.density)} | ${f(r.e.coverage)} | ${f(r.e.meanConfidence)} | ${r.minutes === null ? '–' : r.minutes.toFixed(1)} |`,
  );

const fid = (pred) => rows.find(pred)?.e.fid;
const dpm = (nfe) => fid((r) => r.method.endsWith('DPM-Solver++(3M)') && r.nfe === nfe);
const sfd = (nfe) => fid((r) => r.method.startsWith('SFD (') && r.nfe === nfe);
const sfdv = (nfe) => fid((r) => r.method.startsWith('SFD-v') && r.nfe === nfe);
const claims = [];
if (sfd(2) !== undefined && dpm(5) !== undefined)
  claims.push(
    `SFD at NFE 2 (${f(sfd(2), 2)}) ${sfd(2) < dpm(5) ? 'beats' : 'does not beat'} DPM-Solver++(3M) at NFE 5 (${f(dpm(5), 2)}).`,
  );
if (sfd(2) !== undefined && dpm(10) !== undefined)
  claims.push(
    `SFD at NFE 2 is ${f(sfd(2) / dpm(10), 2)}× DPM-Solver++(3M) at NFE 10 (${f(dpm(10), 2)}); the target is ≤ 1.15×, the paper's 1.5×.`,
  );
const pairs = [2, 3, 4, 5].filter((n) => sfd(n) !== undefined && sfdv(n) !== undefined);
if (pairs.length)
  claims.push(
    `SFD-v against separate SFD students: ${pairs.map((n) => `NFE ${n} ${f(sfdv(n), 2)} vs ${f(sfd(n), 2)}`).join(', ')}.`,
  );
const one = fid((r) => r.method.startsWith('SFD two-stage') && r.nfe === 1);
if (one !== undefined) claims.push(`Two-stage at 1 NFE: FID ${f(one, 2)}.`);
if (claims.length) console.log(`\n${claims.map((c) => `- ${c}`).join('\n')}`);
