import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { Matrix, SingularValueDecomposition } from 'ml-matrix';
import { teacherGrid } from '../diffusion/schedules';
import { studentSfd } from '../models/card';
import { loadImageTeacher } from '../models/teachers';
import type { ChartSpec } from '../plot/lineChart';
import { PALETTE } from '../plot/svgCanvas';
import { repoRoot } from '../runtime/paths';
import { studentTimestamps } from '../sfd/config';
import { studentSampler } from '../sfd/sampleStudent';
import { teacherRunOf, teacherTargets } from '../sfd/targets';
import { makeRng } from '../util/rng';

export interface ProjectedPath {
  ts: number[];
  /** Each trajectory's states on the two principal axes, [trajectory][timestamp][2]. */
  pcs: number[][][];
  /** Mean over trajectories of ‖x_t − x_T‖ / √d in VP-scaled coordinates, per timestamp. */
  displacement: number[];
}

export interface TrajectoryProjection {
  nfe: number;
  n: number;
  teacher: ProjectedPath;
  student: ProjectedPath;
  /** Fraction of the variance of all (scaled) states on each of the two axes. */
  explained: [number, number];
}

/** x / √(1 + t²): noise at t = 80 and data share one frame (VP scaling), as in the quickstart's figure. */
const scaled = (states: Float32Array[], ts: number[]) =>
  states.map((s, j) => Float64Array.from(s, (v) => v / Math.sqrt(1 + ts[j] ** 2)));

/** The values of each state; the states are freed. */
async function valuesOf(states: tf.Tensor[]): Promise<Float32Array[]> {
  try {
    return await Promise.all(states.map(async (x) => (await x.data()) as Float32Array));
  } finally {
    tf.dispose(states);
  }
}

/**
 * Teacher and student trajectories from the same noise, projected on the two principal components of all
 * their states (the official repository's trajectory figure, at our scale): the teacher as the student was
 * trained against it (`teacherTargets`: its solver and run, K steps per student step, on the refined grid)
 * and the student as it samples (its walk: Euler on its grid, AFS). Also each one's displacement from its
 * starting noise.
 */
export async function trajectoryProjection(
  studentDir: string,
  opts: { nfe?: number; n?: number; seed?: number; teacher?: string } = {},
): Promise<TrajectoryProjection> {
  const n = opts.n ?? 12;
  const student = loadImageTeacher(studentDir);
  const sfd = studentSfd(student.card);
  if (sfd?.stage !== 1) {
    student.unet.dispose();
    throw new RangeError(`${studentDir} is not a stage-1 SFD student`);
  }
  // the teacher its card names (shipped cards name it relative to the repository)
  const named = student.card.teacher?.dir;
  const fromCard = named && [named, join(repoRoot(), named)].find((d) => existsSync(join(d, 'model.json')));
  let teacher: ReturnType<typeof loadImageTeacher> | undefined;
  const held: tf.Tensor[] = []; // freed in finally, also when a solve throws
  try {
    teacher = loadImageTeacher(opts.teacher ?? fromCard ?? 'mnist');
    const cfg = sfd.config;
    const s = studentSampler(student.denoise, sfd.sampling, opts.nfe);
    const N = studentTimestamps(s.nfe, sfd.sampling.afs);
    const grid = teacherGrid(N, cfg.k, sfd.sampling.schedule);
    const sTs = grid.studentTs;
    const per = student.shape.reduce((a, b) => a * b, 1);
    const rng = makeRng(opts.seed ?? 3);
    const xT = tf.tensor4d(
      Float32Array.from({ length: n * per }, () => sTs[0] * rng.normal()),
      [n, ...student.shape],
    );
    held.push(xT);
    // every state of both, [timestamp] of n·per values
    const teacherRaw = await valuesOf(teacherTargets(teacher.denoise, xT, grid, teacherRunOf(cfg), 'all'));
    const studentRaw = [(await xT.data()) as Float32Array];
    const xEnd = await s.walk(xT, async (_, { x }) => {
      studentRaw.push((await x.data()) as Float32Array);
    });
    xEnd.dispose();
    const teacherStates = scaled(teacherRaw, grid.ts);
    const studentStates = scaled(studentRaw, sTs);
    // rows: every (trajectory, timestamp) state of both; columns: pixels
    const rows: Float64Array[] = [];
    for (const set of [teacherStates, studentStates])
      for (const st of set) for (let i = 0; i < n; i++) rows.push(st.subarray(i * per, (i + 1) * per));
    const X = new Matrix(rows.map((r) => Array.from(r)));
    const mean = X.mean('column');
    X.subRowVector(mean);
    const svd = new SingularValueDecomposition(X, { computeLeftSingularVectors: false, autoTranspose: true });
    const V = svd.rightSingularVectors;
    const sv = svd.diagonal;
    const total = sv.reduce((a, b) => a + b * b, 0);
    const project = (set: Float64Array[], ts: number[]): ProjectedPath => {
      const pcs = Array.from({ length: n }, (_, i) =>
        set.map((st) => {
          const v = st.subarray(i * per, (i + 1) * per);
          const p = [0, 0];
          for (let c = 0; c < 2; c++) for (let k = 0; k < per; k++) p[c] += (v[k] - mean[k]) * V.get(k, c);
          return p;
        }),
      );
      const displacement = set.map((st) => {
        let sum = 0;
        for (let i = 0; i < n; i++) {
          let d2 = 0;
          for (let k = 0; k < per; k++) d2 += (st[i * per + k] - set[0][i * per + k]) ** 2;
          sum += Math.sqrt(d2 / per);
        }
        return sum / n;
      });
      return { ts, pcs, displacement };
    };
    return {
      nfe: s.nfe,
      n,
      teacher: project(teacherStates, grid.ts),
      student: project(studentStates, sTs),
      explained: [sv[0] ** 2 / total, sv[1] ** 2 / total],
    };
  } finally {
    tf.dispose(held);
    student.unet.dispose();
    teacher?.unet.dispose();
  }
}

/** The scatter layers of the projection: teacher paths in grey, the student's in colour, endpoints marked. */
export function trajectoryProjectionLayers(p: TrajectoryProjection) {
  const last = (paths: number[][][]) => paths.map((path) => path[path.length - 1]);
  return [
    { name: 'teacher', points: last(p.teacher.pcs), paths: p.teacher.pcs, color: '#999', radius: 2.5 },
    {
      name: `student, NFE ${p.nfe}`,
      points: p.student.pcs.flat(),
      paths: p.student.pcs,
      color: PALETTE[0],
      radius: 2,
    },
  ];
}

/** Displacement from the starting noise against t, teacher and student. */
export function trajectoryDisplacementChart(p: TrajectoryProjection): ChartSpec {
  return {
    series: [
      { name: 'teacher', x: p.teacher.ts, y: p.teacher.displacement, color: '#999' },
      { name: `student, NFE ${p.nfe}`, x: p.student.ts, y: p.student.displacement, color: PALETTE[0] },
    ],
    opts: {
      title: `Displacement from the starting noise (mean of ${p.n} trajectories)`,
      xLabel: 'timestamp t',
      yLabel: '‖x_t − x_T‖ / √d (VP-scaled)',
      logX: true,
    },
  };
}
