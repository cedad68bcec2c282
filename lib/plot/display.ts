export type Bundle = Record<string, unknown>;
export type Writer = (msg: { data: Bundle; metadata: Bundle; transient: Bundle }, update: boolean) => void;

/** tslab's internal display writer, when running inside a tslab kernel; null elsewhere (tests, CLI). */
export function writer(): Writer | null {
  // The kernel defines __tslab__; checking first avoids loading tslab's compiler outside a notebook.
  if (!(globalThis as { __tslab__?: unknown }).__tslab__) return null;
  try {
    return require('tslab/dist/jupyter').lastWriteDisplayData ?? null;
  } catch {
    return null;
  }
}

/**
 * Sends one display output carrying several MIME types (tslab's public API sends one type per output).
 * Binary values are base64-encoded as Jupyter expects. Returns false outside a notebook.
 */
export function displayBundle(data: Bundle): boolean {
  const w = writer();
  if (!w) return false;
  const norm: Bundle = {};
  for (const [k, v] of Object.entries(data))
    norm[k] = v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v;
  w({ data: norm, metadata: {}, transient: {} }, false);
  return true;
}

/** A figure as SVG (crisp where trusted) + PNG (untrusted JupyterLab, GitHub) + alt text. */
export function displayFigure(fig: { svg?: string; png?: Uint8Array; alt: string }): boolean {
  const b: Bundle = { 'text/plain': fig.alt };
  if (fig.svg) b['image/svg+xml'] = fig.svg;
  if (fig.png) b['image/png'] = fig.png;
  return displayBundle(b);
}

/** An interactive Plotly figure with a PNG fallback (shown until the Plotly renderer takes over). */
export function displayPlotly(
  fig: { data: unknown[]; layout?: unknown },
  fallback: { png?: Uint8Array; alt: string },
): boolean {
  const b: Bundle = {
    'application/vnd.plotly.v1+json': { data: fig.data, layout: fig.layout ?? {}, config: {} },
  };
  if (fallback.png) b['image/png'] = fallback.png;
  b['text/plain'] = fallback.alt;
  return displayBundle(b);
}

/** A table as HTML (notebooks) + Markdown (GitHub-friendly text) in one output. */
export function displayTable(t: { toHTML(): string; toMarkdown(): string }): boolean {
  return displayBundle({
    'text/html': t.toHTML(),
    'text/markdown': t.toMarkdown(),
    'text/plain': t.toMarkdown(),
  });
}
