import { randomUUID } from 'node:crypto';
import { type Bundle, sendDisplay, writer } from './display';

/**
 * One notebook output that is replaced in place (Jupyter's display_id / update_display_data): live views
 * of long runs, whose final state is what a saved notebook keeps. `show` returns false outside a notebook.
 */
export function liveDisplay(): { show(bundle: Bundle): boolean } {
  const w = writer();
  const id = randomUUID();
  let shown = false;
  return {
    show(bundle) {
      if (!w) return false;
      const data: Bundle = {};
      for (const [k, v] of Object.entries(bundle))
        data[k] = v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v;
      sendDisplay(w, { data, metadata: {}, transient: { display_id: id } }, shown);
      shown = true;
      return true;
    },
  };
}
