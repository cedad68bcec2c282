import { lineChart } from './lineChart';
import { liveDisplay } from './liveDisplay';
import { svgToPng } from './svgToPng';

export interface TrainingViewPoint {
  iteration: number;
  iterations: number;
  seconds: number;
  /** Mean loss of the iteration's trained steps. */
  loss: number;
  fid?: number;
}

/**
 * A live view of a training run: in a notebook one output updated in place (iteration, ETA, a small loss
 * curve and the FID points so far), on a terminal a line on stderr every `every` iterations. The chart is
 * redrawn at most every `minSeconds` (rendering costs tens of ms) and always at the end.
 */
export function trainingView(label: string, every = 25, minSeconds = 3) {
  const view = liveDisplay();
  const losses: { x: number; y: number }[] = [];
  const fids: { x: number; y: number }[] = [];
  let last = -Infinity;
  return (p: TrainingViewPoint): void => {
    losses.push({ x: p.iteration, y: p.loss });
    if (p.fid !== undefined) fids.push({ x: p.iteration, y: p.fid });
    const done = p.iteration >= p.iterations;
    const eta = (p.seconds / Math.max(p.iteration, 1)) * (p.iterations - p.iteration);
    const fid = fids.length ? `, FID ${fids[fids.length - 1].y.toFixed(2)}` : '';
    const text = `${label}: iteration ${p.iteration}/${p.iterations}, ${p.seconds.toFixed(0)} s${done ? '' : `, ETA ${eta.toFixed(0)} s`}, loss ${p.loss.toFixed(2)}${fid}`;
    const now = performance.now() / 1000;
    if (!done && now - last < minSeconds) {
      if (!view.show({ 'text/plain': text }) && p.iteration % every === 0) process.stderr.write(`${text}\n`);
      return;
    }
    last = now;
    const series = [{ name: 'loss', x: losses.map((l) => l.x), y: losses.map((l) => l.y) }];
    if (fids.length > 1) series.push({ name: 'FID', x: fids.map((f) => f.x), y: fids.map((f) => f.y) });
    if (losses.length < 2) {
      if (!view.show({ 'text/plain': text })) process.stderr.write(`${text}\n`);
      return;
    }
    const svg = lineChart(series, { title: text, xLabel: 'iteration', logY: true, width: 520, height: 220 });
    if (!view.show({ 'image/svg+xml': svg, 'image/png': svgToPng(svg, 1), 'text/plain': text }))
      if (done || p.iteration % every === 0) process.stderr.write(`${text}\n`);
  };
}
