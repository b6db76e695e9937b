/* Claiming the open ticket, and closing it once the volunteer confirms. */

import { pollNow, schedulePoll, updateTicket } from "./conversation.js";
import { refreshListSoon } from "./list.js";
import { showNotice } from "./notice.js";
import { api, el, NARROW, state } from "./state.js";
import { detailOf, T } from "./texts.js";
import { isActive } from "./ticket.js";

export async function onClaim() {
  const cur = state.current;
  if (!cur || cur.busy) return;
  cur.busy = true;
  el.claim.disabled = true;
  cur.actionSeq += 1;
  const res = await api.post("/tickets/" + cur.id + "/claim", {});
  cur.busy = false;
  el.claim.disabled = false;
  if (state.current !== cur || res.status === 401) return;
  if (res.ok && res.data && res.data.ticket) {
    updateTicket(cur, res.data.ticket, false);
    showNotice(T.claimed, "success");
    if (NARROW.matches) el.summaryBox.open = false; // read; tap to open it again
    if (isActive(cur.ticket) && !cur.timer && !cur.inFlight) schedulePoll(cur);
    el.replyText.focus();
  } else {
    showNotice(detailOf(res), res.status === 409 ? "info" : "error");
    if (res.status === 409) pollNow(cur);
  }
  refreshListSoon();
}

export async function onClose(outcome) {
  const cur = state.current;
  if (!cur || cur.busy) return;
  const question =
    outcome === "resolved"
      ? "Đóng yêu cầu #" + cur.id + " vì đã hỗ trợ xong?"
      : "Trả yêu cầu #" + cur.id + " lại cho trợ lý ảo (bot) tiếp tục hướng dẫn người dân?";
  const yesLabel = outcome === "resolved" ? "Đóng – đã xong" : "Trả lại cho bot";
  const ok = await confirmAction(question, yesLabel);
  if (!ok || state.current !== cur || cur.busy) return;

  cur.busy = true;
  el.closeResolved.disabled = true;
  el.closeBot.disabled = true;
  cur.actionSeq += 1;
  const res = await api.post("/tickets/" + cur.id + "/close", { outcome });
  cur.busy = false;
  el.closeResolved.disabled = false;
  el.closeBot.disabled = false;
  if (state.current !== cur || res.status === 401) return;
  if (res.ok && res.data && res.data.ticket) {
    cur.closedByMe = true;
    updateTicket(cur, res.data.ticket, false);
    showNotice(outcome === "resolved" ? T.closedResolved : T.closedBot, "success");
    if (!isActive(cur.ticket)) {
      clearTimeout(cur.timer);
      cur.timer = null;
    }
  } else {
    showNotice(detailOf(res), "error");
    if (res.status === 409) pollNow(cur);
  }
  refreshListSoon();
}

/** Ask before an action; an in-page dialog (testable, big buttons), window.confirm as fallback. */
function confirmAction(question, yesLabel) {
  const dialog = el.confirmDialog;
  if (!dialog || typeof dialog.showModal !== "function") {
    return Promise.resolve(window.confirm(question));
  }
  el.confirmText.textContent = question;
  el.confirmYes.textContent = yesLabel;
  dialog.returnValue = "";
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "yes"), { once: true });
    dialog.showModal();
    el.confirmNo.focus();
  });
}
