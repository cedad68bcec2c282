import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeGallery } from '../plot/gallery';
import { repoRoot } from '../runtime/paths';
import { parseCommandArgs } from './args';

export const GALLERY_HELP = `  sfd gallery [--dir figures]       write DIR/index.html: every figure by notebook, Plotly charts live,
                                   offline (plotly's bundle copied to DIR/vendor/)`;

/** The commit the working tree is at, with a mark when it has changes; null outside git. */
function commitLine(): string | null {
  try {
    const run = (...a: string[]) => execFileSync('git', a, { cwd: repoRoot(), encoding: 'utf8' }).trim();
    // (notebooks change when they run: their outputs are not code, so only lib counts)
    const dirty = run('status', '--porcelain', '--', 'lib') !== '';
    return `${run('rev-parse', '--short', 'HEAD')}${dirty ? ' (with uncommitted changes)' : ''}`;
  } catch {
    return null;
  }
}

export async function galleryCommand(args: string[]): Promise<void> {
  const { values } = parseCommandArgs(args, { dir: { type: 'string' } });
  const dir = resolve(values.dir ?? join(repoRoot(), 'figures'));
  if (!existsSync(dir)) throw new RangeError(`no figures folder ${dir}`);
  const commit = commitLine();
  const { path, entries } = writeGallery(dir, {
    notebooksDir: join(repoRoot(), 'notebooks'),
    plotlyBundle: require.resolve('plotly.js-dist-min/plotly.min.js'),
    subtitle: `Figures written by npm run main${commit ? ` at commit ${commit}` : ''}; live charts are Plotly (hover for values).`,
  });
  const live = entries.filter((e) => e.plotly).length;
  console.log(`gallery: ${entries.length} figures (${live} live charts) → ${path}`);
}
