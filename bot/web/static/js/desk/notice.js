/* The status line of the open conversation. */

import { el, state } from "./state.js";

const SUCCESS_NOTICE_MS = 8000;

let noticeTimer = null;

/** The status line of the conversation; "success" lines fade after a while to free the room. */
export function showNotice(text, kind) {
  const cur = state.current;
  if (cur) cur.connNotice = false;
  clearTimeout(noticeTimer);
  el.notice.textContent = text;
  el.notice.dataset.kind = kind || "info";
  el.notice.hidden = !text;
  if (text && kind === "success") {
    noticeTimer = setTimeout(() => {
      if (el.notice.textContent === text) clearNotice();
    }, SUCCESS_NOTICE_MS);
  }
}

export function clearNotice() {
  showNotice("", "info");
}
