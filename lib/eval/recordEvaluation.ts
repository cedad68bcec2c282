import { readJsonFile } from '../models/weightsIO';
import { writeFileAtomic } from '../util/atomicWrite';

/**
 * What an evaluation measured (teacher and its hash, solver, NFE, n, seeds, reference, σ list…): everything
 * but its results and when and where it ran.
 */
function settingOf(entry: Record<string, unknown>): string {
  const {
    fid,
    precision,
    recall,
    density,
    coverage,
    meanConfidence,
    backend,
    sampleSeconds,
    date,
    denoising,
    ...setting
  } = entry;
  const sigmas = Array.isArray(denoising) ? denoising.map((d: { sigma: number }) => d.sigma) : null;
  return JSON.stringify({ ...setting, sigmas });
}

/**
 * Records an evaluation in a teacher's card (model.json); its weights and their hash are untouched. A new
 * measurement of a setting already in the card replaces the old one (re-running an evaluation script
 * does not pile up duplicates).
 */
export function recordInCard(dir: string, result: object): void {
  const path = `${dir}/model.json`;
  const card = readJsonFile(path, `the model.json of ${dir}`);
  const entry = { ...result, date: new Date().toISOString().slice(0, 10) };
  const same = settingOf(entry);
  const kept = ((card.evaluation ?? []) as Record<string, unknown>[]).filter((e) => settingOf(e) !== same);
  card.evaluation = [...kept, entry];
  writeFileAtomic(path, `${JSON.stringify(card, null, 1)}\n`);
}
