import { createHash } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { loadFeatureNet } from '../eval/featureNetFiles';
import { quickFid } from '../eval/quickFid';
import { teacherDir } from '../models/teachers';
import { loadWeights } from '../models/weightsIO';
import { displaysSent } from '../plot/display';
import { trainingView } from '../plot/trainingView';
import { repoRoot } from '../runtime/paths';
import type { SfdConfig } from '../sfd/config';
import { targetCache } from '../sfd/targetCache';
import { trainSfd } from '../sfd/train';
import { canonicalJson } from '../util/canonicalJson';

export interface DistilledStudent {
  dir: string;
  /** Whether it was trained now (false: reused from the cache). */
  trained: boolean;
  /** Wall seconds of its training (as recorded in its card). */
  seconds: number;
  card: Record<string, unknown>;
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
  const sha = loadWeights<object>(join(tdir, 'model.json'));
  const teacherSha = sha.sha256;
  for (const t of sha.tensors.values()) t.dispose();
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
  const retrain = ['1', 'true'].includes(process.env.SFD_RETRAIN ?? '');
  const read = () => loadWeights<Record<string, unknown>>(join(dir, 'model.json'));
  if (existsSync(join(dir, 'model.json')) && !retrain) {
    try {
      const f = read();
      for (const t of f.tensors.values()) t.dispose();
      return { dir, trained: false, seconds: Number(f.meta.wallSeconds), card: f.meta };
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
      targets: targetCache().targets,
      onProgress: (p) => {
        const trained = p.last.stepLosses.filter((_, j) => !(cfg.afs && j === 0));
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
  const f = read();
  for (const t of f.tensors.values()) t.dispose();
  return { dir, trained: true, seconds: r.seconds, card: f.meta };
}
