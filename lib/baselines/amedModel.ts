import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { IMAGE_TEACHERS, loadImageTeacher } from '../models/teachers';
import { assignWeights, loadWeights, saveWeights } from '../models/weightsIO';
import type { AmedConfig } from './amedConfig';
import { amedNfe } from './amedPlugin';
import { type AmedPredictor, type AmedPredictorConfig, createAmedPredictor } from './amedPredictor';
import { type AmedSampler, amedSampler } from './amedSampler';
import { unetAmedTeacher } from './amedTeacher';

/**
 * An AMED model directory: `model.json` (this card and the weights manifest) and `predictor.bin`, the
 * predictor's few thousand weights. The teacher is not copied: the card names it and its sha256, and
 * loading refuses any other teacher.
 */
export interface AmedCard {
  format: 'sfd-amed';
  amed: {
    config: AmedConfig;
    /** The solver the predictor plugs into. */
    solver: 'ipndm';
    nfe: number;
    /** The student's N-point grid. */
    grid: number[];
    predictor: AmedPredictorConfig;
  };
  /** `name` when the teacher was given as a shipped name (mnist), so the card does not depend on paths. */
  teacher: { dir: string; sha256: string; name?: string };
  params: number;
  [key: string]: unknown;
}

export const AMED_WEIGHTS = 'predictor.bin';

/** What a trainer gives `saveAmed`: the card less what the predictor itself says (params, NFE, its config). */
export interface AmedCardFields {
  amed: Pick<AmedCard['amed'], 'config' | 'solver' | 'grid'>;
  teacher: AmedCard['teacher'];
  [key: string]: unknown;
}

/** Writes the predictor and its card to `dir`/model.json + predictor.bin; returns the weights' sha256. */
export async function saveAmed(dir: string, predictor: AmedPredictor, card: AmedCardFields): Promise<string> {
  const cfg = card.amed.config;
  const full: AmedCard = {
    ...card,
    format: 'sfd-amed',
    params: predictor.params,
    amed: { ...card.amed, nfe: amedNfe(cfg.numSteps, cfg.afs), predictor: predictor.config },
  };
  const { sha256 } = await saveWeights(join(dir, 'model.json'), AMED_WEIGHTS, predictor.weights, full);
  return sha256;
}

/** The teacher reference a card stores for a teacher given as `nameOrDir`. */
export function amedTeacherRef(nameOrDir: string, dir: string, sha256: string): AmedCard['teacher'] {
  return IMAGE_TEACHERS[nameOrDir] ? { dir, sha256, name: nameOrDir } : { dir, sha256 };
}

/** Reads an AMED model directory's card and predictor (hash-checked); refuses any other kind of model. */
export function loadAmedPredictor(dir: string): { predictor: AmedPredictor; card: AmedCard; sha256: string } {
  const f = loadWeights<AmedCard>(join(dir, 'model.json'), { what: `the model.json of ${dir}` });
  try {
    if (f.meta.format !== 'sfd-amed')
      throw new Error(`${dir}/model.json is not an AMED predictor (format: ${String(f.meta.format)})`);
    if (!f.meta.amed?.predictor || !f.meta.amed.config || !f.meta.teacher?.sha256)
      throw new Error(`${dir}/model.json: an AMED card needs amed.config, amed.predictor and teacher.sha256`);
    const predictor = createAmedPredictor(f.meta.amed.predictor, 0);
    try {
      assignWeights(predictor.weights, f.tensors, `${dir}/model.json`);
    } catch (e) {
      predictor.dispose();
      throw e;
    }
    return { predictor, card: f.meta, sha256: f.sha256 };
  } finally {
    tf.dispose([...f.tensors.values()]);
  }
}

export interface LoadedAmed {
  sampler: AmedSampler;
  card: AmedCard;
  /** sha256 of the predictor's weights. */
  sha256: string;
  /** [h, w, c] of one image. */
  shape: [number, number, number];
  dispose(): void;
}

/**
 * An AMED model ready to sample: its predictor, and its teacher (the card's, or `opts.teacher`, either of
 * which must have the sha256 the predictor was trained on).
 */
export function loadAmed(dir: string, opts: { teacher?: string; unchecked?: boolean } = {}): LoadedAmed {
  const { predictor, card, sha256 } = loadAmedPredictor(dir);
  try {
    const teacher = loadImageTeacher(opts.teacher ?? card.teacher.name ?? card.teacher.dir, {
      unchecked: opts.unchecked,
    });
    if (teacher.sha256 !== card.teacher.sha256) {
      teacher.unet.dispose();
      throw new Error(
        `${dir} was trained on the teacher with sha256 ${card.teacher.sha256}; ${teacher.dir} has ${teacher.sha256}`,
      );
    }
    const amedTeacher = unetAmedTeacher(teacher.unet);
    if (amedTeacher.featureDim !== predictor.config.featureDim) {
      teacher.unet.dispose();
      throw new Error(
        `${dir}: the predictor reads ${predictor.config.featureDim} feature values, ${teacher.dir} gives ${amedTeacher.featureDim}`,
      );
    }
    return {
      sampler: amedSampler(amedTeacher, predictor, card.amed.config),
      card,
      sha256,
      shape: teacher.shape,
      dispose: () => {
        predictor.dispose();
        teacher.unet.dispose();
      },
    };
  } catch (e) {
    predictor.dispose();
    throw e;
  }
}
