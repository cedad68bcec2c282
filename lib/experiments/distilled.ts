import { createHash } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { loadFeatureNet } from '../eval/featureNetFiles';
import { quickFid } from '../eval/quickFid';
import { checkCard, isStudentCard, readCard, type StudentCard } from '../models/card';
import { teacherDir } from '../models/teachers';
import { loadWeights } from '../models/weightsIO';
import { displaysSent } from '../plot/display';
import { trainingView } from '../plot/trainingView';
import { repoRoot } from '../runtime/paths';
import { envSettings } from '../runtime/settings';
import type { SfdConfig } from '../sfd/config';
import { isAfsStep } from '../sfd/studentSteps';
import { targetCache } from '../sfd/targetCache';
import { trainSfd } from '../sfd/train';
import { canonicalJson } from '../util/canonicalJson';

export interface DistilledStudent {
  dir: string;
  /** Whether it was trained now (false: reused from the cache). */
  trained: boolean;
  /** Wall seconds of its training (as recorded in its card). */
  seconds: number;
  card: StudentCard;
}

/**
 * A student for an experiment, cached by the hash of everything that defines it (config, stage, teacher
 * weights): the first run trains it (with a live view in a notebook), later runs reuse it, so rerunning a
 * notebook only re-evaluates and re-plots. SFD_RETRAIN=1 forces retraining. Teacher trajectories are shared
 * through the target cache.
 */
export async function distilled(
  cfg: SfdConfig,
  opts: {
    teacher?: string;
    stage?: 1 | 2;
    label?: string;
    teacherNfe?: number;
    /** FID (quick, `evalN` samples, seed 0) every this many iterations, at each of the student's NFEs. */
    evalEvery?: number;
    evalN?: number;
  } = {},
): Promise<DistilledStudent> {
  const teacher = opts.teacher ?? 'mnist';
  const tdir = teacherDir(teacher);
  // a card without a sha256 (hand-made): loadWeights refuses it, naming --unchecked
  const teacherSha = readCard(tdir).sha256 ?? loadWeights(join(tdir, 'model.json')).sha256;
  const evalSpec = opts.evalEvery ? { every: opts.evalEvery, n: opts.evalN ?? 500 } : null;
  const key = canonicalJson({
    cfg,
    stage: opts.stage ?? 1,
    teacherSha,
    teacherNfe: opts.teacherNfe ?? null,
    eval: evalSpec,
  });
  const id = createHash('sha256').update(key).digest('hex').slice(0, 20);
  const dir = join(repoRoot(), '.cache', 'students', id);
  const { retrain, cache } = envSettings();
  // the weights are loaded to check them against their sha256, then freed
  const read = (): StudentCard => {
    const f = loadWeights<unknown>(join(dir, 'model.json'));
    for (const t of f.tensors.values()) t.dispose();
    const card = checkCard(f.meta, join(dir, 'model.json'));
    if (!isStudentCard(card))
      throw new Error(`${dir}/model.json is not an SFD student's card (no sfd section)`);
    return card;
  };
  if (existsSync(join(dir, 'model.json')) && !retrain) {
    try {
      const card = read();
      return { dir, trained: false, seconds: Number(card.wallSeconds), card };
    } catch {
      // a corrupt cached student is retrained
    }
  }
  rmSync(dir, { recursive: true, force: true });
  const view = trainingView(opts.label ?? `distil ${cfg.nfes.join(',')}`);
  const fnet = evalSpec ? loadFeatureNet() : null;
  let lastFid: number | undefined;
  let r: Awaited<ReturnType<typeof trainSfd>>;
  try {
    r = await trainSfd({
      evalEvery: evalSpec?.every,
      evaluate: fnet
        ? (s) =>
            quickFid(
              s.denoise,
              [28, 28, 1],
              s.sampling,
              (evalSpec as { n: number }).n,
              0,
              fnet.net,
              fnet.sha256,
            )
        : undefined,
      onEval: (e) => {
        lastFid = e.fid;
      },
      config: cfg,
      teacher: opts.stage === 2 ? teacher : tdir,
      out: dir,
      stage: opts.stage,
      teacherNfe: opts.teacherNfe,
      targets: targetCache(cache).targets,
      onProgress: (p) => {
        // the AFS step's loss is the same whatever the student learns: leave it out
        const trained = p.last.stepLosses.filter((_, j) => !isAfsStep(j, cfg.afs));
        view({
          iteration: p.iteration,
          iterations: p.iterations,
          seconds: p.seconds,
          loss: trained.reduce((a, b) => a + b, 0) / Math.max(trained.length, 1),
          fid: lastFid,
        });
        lastFid = undefined;
      },
      card: { experimentKey: JSON.parse(key) },
    });
  } finally {
    fnet?.net.dispose();
  }
  await displaysSent(); // the live view's final state reaches the notebook before its cell ends
  return { dir, trained: true, seconds: r.seconds, card: read() };
}
