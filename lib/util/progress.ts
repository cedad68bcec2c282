/**
 * A one-line progress bar on stderr: redrawn in place on a terminal; otherwise a line every `every` steps,
 * and at least every 10 s while steps are slow (so a long request always shows its ETA).
 */
export function progressBar(label: string, every = 50) {
  const tty = process.stderr.isTTY === true;
  let lastLine = -Infinity;
  return (done: number, total: number, seconds: number, extra = ''): void => {
    if (!tty && done % every !== 0 && done !== total && seconds - lastLine < 10) return;
    lastLine = seconds;
    const frac = Math.min(1, done / total);
    const width = 24;
    const bar = '#'.repeat(Math.round(frac * width)).padEnd(width, '.');
    const eta = done > 0 ? (seconds / done) * (total - done) : 0;
    const line = `${label} [${bar}] ${done}/${total} ${fmt(seconds)} elapsed, ETA ${fmt(eta)} ${extra}`;
    process.stderr.write(tty ? `\r${line}\x1b[K${done === total ? '\n' : ''}` : `${line}\n`);
  };
}

function fmt(s: number): string {
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${s.toFixed(0)}s`;
}
