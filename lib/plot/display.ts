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

type Message = Parameters<Writer>[0];

/**
 * Outputs waiting to be sent, oldest first. tslab sends through a zeromq socket that refuses a second
 * send while one is still in flight ("Socket is busy writing", EBUSY) — which happens when a long
 * computation updates a live display without yielding to the event loop. Such outputs wait here and
 * are sent, in order, once the socket is free; for a live display only its latest state waits.
 */
const pending: { w: Writer; msg: Message; update: boolean; id?: string }[] = [];
let draining = false;
const idle: (() => void)[] = [];

function busy(e: unknown): boolean {
  return (e as { code?: string })?.code === 'EBUSY';
}

function drain(): void {
  draining = false;
  while (pending.length) {
    const p = pending[0];
    try {
      p.w(p.msg, p.update);
    } catch (e) {
      if (busy(e)) {
        scheduleDrain();
        return;
      }
      // any other failure loses this one output, not the computation that made it
      pending.shift();
      try {
        console.error(`a display output could not be sent: ${e instanceof Error ? e.message : e}`);
      } catch {
        // stderr goes through the same socket in a notebook
      }
      continue;
    }
    pending.shift();
  }
  for (const f of idle.splice(0)) f();
}

function scheduleDrain(): void {
  if (draining) return;
  draining = true;
  setTimeout(drain, 5);
}

/** Sends a display message now, or queues it behind earlier ones while the kernel's socket is busy. */
export function sendDisplay(w: Writer, msg: Message, update: boolean): void {
  if (!pending.length) {
    try {
      w(msg, update);
      return;
    } catch (e) {
      if (!busy(e)) throw e;
    }
  }
  const id = msg.transient.display_id as string | undefined;
  const same = id === undefined ? -1 : pending.findIndex((p) => p.id === id && p.update);
  // a waiting update of the same live display is superseded; its first showing (update false) is kept
  if (same >= 0 && update) pending[same] = { w, msg, update, id };
  else pending.push({ w, msg, update, id });
  scheduleDrain();
}

/** Resolves once every queued display output has been sent (call before a long cell returns). */
export function displaysSent(): Promise<void> {
  return pending.length ? new Promise((resolve) => idle.push(resolve)) : Promise.resolve();
}

/** Binary values base64-encoded, as Jupyter expects them in a MIME bundle. */
export function encodeBundle(data: Bundle): Bundle {
  const norm: Bundle = {};
  for (const [k, v] of Object.entries(data))
    norm[k] = v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v;
  return norm;
}

/**
 * Sends one display output carrying several MIME types (tslab's public API sends one type per output), with
 * optional per-type metadata (e.g. an image's display size). Returns false outside a notebook.
 */
export function displayBundle(data: Bundle, metadata: Bundle = {}): boolean {
  const w = writer();
  if (!w) return false;
  sendDisplay(w, { data: encodeBundle(data), metadata, transient: {} }, false);
  return true;
}

/** The size an SVG is meant to be shown at (its width and height attributes, in CSS px). */
export function svgSize(svg: string): { width: number; height: number } | null {
  const tag = /<svg\b[^>]*>/.exec(svg)?.[0] ?? '';
  const attr = (name: string) =>
    Number(new RegExp(`\\s${name}="([\\d.]+)(?:px)?"`).exec(tag)?.[1] ?? Number.NaN);
  const [width, height] = [attr('width'), attr('height')];
  return width > 0 && height > 0 ? { width, height } : null;
}

/**
 * Metadata showing a PNG at its CSS size: figures are rasterised at 2× for sharpness, and without this a
 * front-end that shows the PNG (an untrusted notebook, GitHub, nbconvert) draws it twice as large.
 */
export function pngSizeMetadata(size: { width: number; height: number } | null): Bundle {
  return size ? { 'image/png': { width: size.width, height: size.height } } : {};
}

/** A figure as SVG (crisp where trusted) + PNG (untrusted notebooks, GitHub) + alt text. */
export function displayFigure(fig: {
  svg?: string;
  png?: Uint8Array;
  alt: string;
  /** The PNG's display size in CSS px (default: the SVG's size). */
  size?: { width: number; height: number };
}): boolean {
  const b: Bundle = { 'text/plain': fig.alt };
  if (fig.svg) b['image/svg+xml'] = fig.svg;
  if (fig.png) b['image/png'] = fig.png;
  const size = fig.size ?? (fig.svg ? svgSize(fig.svg) : null);
  return displayBundle(b, fig.png ? pngSizeMetadata(size) : {});
}

export const PLOTLY_MIME = 'application/vnd.plotly.v1+json';

/**
 * The MIME bundle of an interactive Plotly figure with its PNG fallback: JupyterLab and VS Code draw the
 * Plotly MIME type natively; the classic Notebook does too once the repo's kernel has loaded its renderer
 * (scripts/plotly-nbextension.js; trusted outputs only); everything else (untrusted notebooks, GitHub,
 * nbconvert) shows the PNG, at its CSS size.
 */
export function plotlyMimeBundle(
  fig: { data: unknown[]; layout?: unknown },
  fallback: { png?: Uint8Array; alt: string; size?: { width: number; height: number } },
): { data: Bundle; metadata: Bundle } {
  const data: Bundle = {
    [PLOTLY_MIME]: { data: fig.data, layout: fig.layout ?? {}, config: { displaylogo: false } },
  };
  if (fallback.png) data['image/png'] = fallback.png;
  data['text/plain'] = fallback.alt;
  return { data, metadata: fallback.png ? pngSizeMetadata(fallback.size ?? null) : {} };
}

/** An interactive Plotly figure with a PNG fallback (see plotlyMimeBundle for which front-end shows which). */
export function displayPlotly(
  fig: { data: unknown[]; layout?: unknown },
  fallback: { png?: Uint8Array; alt: string; size?: { width: number; height: number } },
): boolean {
  const b = plotlyMimeBundle(fig, fallback);
  return displayBundle(b.data, b.metadata);
}

/** A table as HTML (notebooks) + Markdown (GitHub-friendly text) in one output. */
export function displayTable(t: { toHTML(): string; toMarkdown(): string }): boolean {
  return displayBundle({
    'text/html': t.toHTML(),
    'text/markdown': t.toMarkdown(),
    'text/plain': t.toMarkdown(),
  });
}
