/* What the report page's modules share: its elements (filled by main.js), its API client and
 * state, the status line and the busy buttons. */

import { createApi } from "../common/api.js";

export const api = createApi({ base: "/admin/api", timeoutMs: 120000 }); // a province roll-up may take a while
export const el = {};
export const state = { busy: false, me: null, communes: [] };

/** The status line under the pickers; `kind` "error" or "success" colours it. */
export function status(text, kind) {
  el.status.textContent = text || "";
  el.status.hidden = !text;
  if (kind) el.status.dataset.kind = kind;
  else delete el.status.dataset.kind;
}

/** While a report is being built, its buttons wait. */
export function busy(on) {
  state.busy = on;
  for (const button of [el.show, el.xlsx, el.csv]) button.disabled = on;
}
