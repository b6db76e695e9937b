/* The reply box: sending a reply (Enter sends, never mid-composition of a Vietnamese IME). */

import { pollNow } from "./conversation.js";
import { appendMessages, scrollToBottom } from "./messages.js";
import { clearNotice, showNotice } from "./notice.js";
import { api, el, MAX_LEN, state } from "./state.js";
import { detailOf, T } from "./texts.js";
import { canReply } from "./ticket.js";

export function setReplyEnabled(enabled, placeholder) {
  el.replyText.disabled = !enabled;
  el.replyText.placeholder = placeholder || "";
  updateSendButton();
}

export function updateSendButton() {
  const cur = state.current;
  el.replySend.disabled = el.replyText.disabled || !el.replyText.value.trim() || !!(cur && cur.sending);
}

export async function sendReply() {
  const cur = state.current;
  if (!cur || cur.sending || !canReply(cur.ticket)) return;
  const raw = el.replyText.value;
  const text = raw.normalize("NFC").trim();
  if (!text) return;
  if (text.length > MAX_LEN) {
    showNotice(T.tooLong, "error");
    return;
  }
  cur.sending = true;
  updateSendButton();
  const res = await api.post("/tickets/" + cur.id + "/messages", { text });
  cur.sending = false;
  if (state.current !== cur) return;
  updateSendButton();
  if (res.status === 401) return;
  if (res.ok && res.data && res.data.message) {
    if (el.replyText.value === raw) el.replyText.value = "";
    autoGrow();
    updateSendButton();
    if (el.notice.dataset.kind === "error") clearNotice();
    // Not fromGet: a resident message with a smaller id may still be on its way.
    appendMessages(cur, [res.data.message], false);
    scrollToBottom(true);
  } else {
    showNotice(detailOf(res), "error");
    if (res.status === 409) pollNow(cur);
  }
}

export function onReplyKeydown(event) {
  if (event.key !== "Enter" || event.shiftKey || event.altKey || event.ctrlKey || event.metaKey) return;
  // Vietnamese IMEs (Telex/VNI) compose characters: never send mid-composition.
  if (event.isComposing || event.keyCode === 229) return;
  event.preventDefault();
  sendReply();
}

/** Grow the box with its lines (1–6 rows); CSS field-sizing does the rest where supported. */
export function autoGrow() {
  const lines = el.replyText.value.split("\n").length;
  el.replyText.rows = Math.min(Math.max(lines, 1), 6);
}
