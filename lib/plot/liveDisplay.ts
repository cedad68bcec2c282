import { randomUUID } from 'node:crypto';
import { type Bundle, encodeBundle, sendDisplay, writer } from './display';

/**
 * One notebook output that is replaced in place (Jupyter's display_id / update_display_data): live views
 * of long runs, whose final state is what a saved notebook keeps. `show` returns false outside a notebook.
 */
export function liveDisplay(): { show(bundle: Bundle, metadata?: Bundle): boolean } {
  const w = writer();
  const id = randomUUID();
  let shown = false;
  return {
    show(bundle, metadata = {}) {
      if (!w) return false;
      sendDisplay(w, { data: encodeBundle(bundle), metadata, transient: { display_id: id } }, shown);
      shown = true;
      return true;
    },
  };
}
