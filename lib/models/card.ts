import { join } from 'node:path';
import type { StudentSampling } from '../sfd/sampleStudent';
import type { StudentCardSfd } from '../sfd/stage2';
import type { SfdEvalPoint, SfdLogPoint } from '../sfd/train';
import type { LossPoint, TeacherTrainConfig } from '../train/teacher';
import type { UNetConfig } from './unet';
import { readJsonFile } from './weightsIO';

export type { StudentCardSfd } from '../sfd/stage2';

/**
 * One measurement recorded in a card's `evaluation` list (scripts/evaluate-teacher.sh, ship-model.js):
 * its setting (teacher and its hash, solver, NFE, n, seed, reference…) and its results (fid, precision…).
 */
export interface CardEvaluation {
  fid?: number;
  [key: string]: unknown;
}

/** How a student's FID curve (`evals`) was measured. */
export interface CardEvalProtocol {
  n: number;
  seed: number;
  reference?: string;
  metric?: string;
}

/** The teacher a student was distilled from, as its card names it. */
export interface CardTeacherRef {
  dir: string;
  sha256: string;
  /** The teacher's training steps (absent when the teacher is itself a student: stage 2). */
  steps?: number;
}

/**
 * A saved UNet's card (`model.json`; readCard keeps its weights manifest, loadUNet's has none), as written by saveUNet: the common
 * part, then what a teacher's card adds (trainTeacher, exportCheckpoint, ship-teacher.js), then what a
 * student's adds (trainSfd, ship-model.js). Fields the code does not read stay `unknown` through the
 * index signature; readCard / checkCard check the types of every field declared here that is present.
 */
export interface UNetCard {
  format: 'sfd-unet';
  config: UNetConfig;
  params: number;
  /** sha256 of weights.bin: in every card sfd-lab writes, but not in `loadUNet`'s (checked and removed). */
  sha256?: string;
  command?: string;
  backend?: string;
  /** Which weights were saved ('EMA', 'student (raw, no EMA: as the official SFD)'). */
  weights?: string;
  evaluation?: CardEvaluation[];
  evalProtocol?: CardEvalProtocol;
  wallSeconds?: number;
  // a teacher's
  training?: TeacherTrainConfig;
  steps?: number;
  images?: number;
  finalLoss?: number;
  losses?: LossPoint[];
  candidates?: Record<string, unknown>[];
  fidCurve?: { protocol: string; points: { step: number; fid: number; n?: number }[] };
  fromCheckpoint?: { path: string; sha256: string };
  // a student's
  sfd?: StudentCardSfd;
  teacher?: CardTeacherRef;
  iterations?: number;
  trajectories?: number;
  iterationsPerSecond?: number;
  cachedTargetIterations?: number;
  nonFiniteGrads?: number;
  log?: SfdLogPoint[];
  evals?: SfdEvalPoint[];
  [key: string]: unknown;
}

/** A student's card: its `sfd` section, its teacher, its iterations, its training log and FID curve. */
export interface StudentCard extends UNetCard {
  sfd: StudentCardSfd;
  teacher: CardTeacherRef;
  iterations: number;
  log: SfdLogPoint[];
  evals: SfdEvalPoint[];
}

/** A teacher's card is a card without an `sfd` section. */
export type TeacherCard = UNetCard & { sfd?: undefined };

/** True for a student's card (one with an `sfd` section; checkCard has checked its student fields). */
export function isStudentCard(card: UNetCard): card is StudentCard {
  return card.sfd !== undefined;
}

/** The typed `sfd` section of a student's card, or undefined for a teacher's. */
export function studentSfd(card: UNetCard): StudentCardSfd | undefined {
  return isStudentCard(card) ? card.sfd : undefined;
}

/**
 * How a distilled model samples, whichever method made it: an SFD student (`sfd.sampling`) and a
 * Progressive-Distillation student (`pd.sampling`) are both Euler on their own grid; undefined for a
 * teacher (any solver, any NFE).
 */
export function distilledSampling(
  card: UNetCard,
): { method: 'sfd' | 'pd'; sampling: StudentSampling } | undefined {
  const sfd = studentSfd(card);
  if (sfd) return { method: 'sfd', sampling: sfd.sampling };
  const pd = card.pd as { sampling?: StudentSampling } | undefined;
  if (pd?.sampling) return { method: 'pd', sampling: pd.sampling };
  return undefined;
}

type Check = (v: unknown) => boolean;

const isNum: Check = (v) => typeof v === 'number' && Number.isFinite(v);
const isStr: Check = (v) => typeof v === 'string';
const isBool: Check = (v) => typeof v === 'boolean';
const isObj: Check = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const arrayOf =
  (c: Check): Check =>
  (v) =>
    Array.isArray(v) && v.every(c);

const NAMES = new Map<Check, string>([
  [isNum, 'a number'],
  [isStr, 'a string'],
  [isBool, 'true or false'],
  [isObj, 'an object'],
]);

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}

/** Checks the fields of an already-parsed card, naming `path` and the field in a one-line error. */
export function checkCard(json: unknown, path: string): UNetCard {
  if (!isObj(json)) throw new Error(`${path} is not a model card (a JSON object)`);
  const card = json as Record<string, unknown>;
  if (card.format !== 'sfd-unet')
    throw new Error(
      `${path} is not an sfd-unet model (format: ${card.format === undefined ? 'missing' : describe(card.format)})`,
    );
  const get = (field: string): unknown =>
    field
      .split('.')
      .reduce<unknown>((o, k) => (isObj(o) ? (o as Record<string, unknown>)[k] : undefined), card);
  const need = (field: string, c: Check, what = NAMES.get(c) ?? 'valid', optional = false) => {
    const v = get(field);
    if (v === undefined) {
      if (optional) return;
      throw new Error(`${path}: field '${field}' is missing (should be ${what})`);
    }
    if (!c(v)) throw new Error(`${path}: field '${field}' should be ${what}, not ${describe(v)}`);
  };
  const may = (field: string, c: Check, what?: string) => need(field, c, what, true);

  need('config', isObj);
  for (const f of ['resolution', 'inChannels', 'blocksPerLevel', 'groups', 'embedDim'])
    need(`config.${f}`, isNum);
  need('config.channels', arrayOf(isNum), 'an array of numbers');
  need('config.attention', isBool);
  may('config.positional', isBool);
  may('config.stepCondition', isBool);
  need('params', isNum);
  for (const f of ['sha256', 'command', 'backend', 'weights']) may(f, isStr);
  may('evaluation', arrayOf(isObj), 'an array of objects');
  may('evalProtocol', isObj);
  may('wallSeconds', isNum);
  // a teacher's
  may('training', isObj);
  may('steps', isNum);
  may('losses', arrayOf(isObj), 'an array of objects');
  // a student's
  if (card.sfd !== undefined) {
    need('sfd', isObj);
    need('sfd.stage', (v) => v === 1 || v === 2, '1 or 2');
    need('sfd.config', isObj);
    need('sfd.config.nfes', arrayOf(isNum), 'an array of numbers');
    need('sfd.sampling', isObj);
    need('sfd.sampling.nfes', arrayOf(isNum), 'an array of numbers');
    need('sfd.sampling.afs', isBool);
    need('sfd.sampling.schedule', isObj);
    need('sfd.sampling.condition', isStr);
    need('teacher', isObj);
    need('teacher.dir', isStr);
    need('teacher.sha256', isStr);
    may('teacher.steps', isNum);
    need('iterations', isNum);
    need('log', arrayOf(isObj), 'an array of objects');
    need('evals', arrayOf(isObj), 'an array of objects');
  }
  return card as UNetCard;
}

/**
 * Reads and checks the card (`model.json`) of the model directory `dir` without loading its weights:
 * refuses a file that is not JSON, is not an sfd-unet model, or has a field of the wrong type, naming the
 * file and the field.
 */
export function readCard(dir: string): UNetCard {
  const path = join(dir, 'model.json');
  return checkCard(readJsonFile(path, `the model.json of ${dir}`), path);
}
