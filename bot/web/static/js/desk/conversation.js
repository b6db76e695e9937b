/* The open conversation: loading it, polling its messages every 2 s, the browser history (the
 * phone's back key returns to the list) and the notices when the ticket changes elsewhere. */

import { markSelectedInList } from "./list.js";
import { appendMessages, scrollToBottom } from "./messages.js";
import { clearNotice, showNotice } from "./notice.js";
import { autoGrow, setReplyEnabled } from "./reply.js";
import { api, el, MESSAGES_EVERY_MS, NARROW, state } from "./state.js";
import { detailOf, T } from "./texts.js";
import { canReply, claimedByOtherText, isActive } from "./ticket.js";
import { hideActions, renderAnnouncement, renderTicket } from "./ticket-view.js";

const HASH_PREFIX = "#yeu-cau-";

export function ticketIdFromHash() {
  const hash = window.location.hash || "";
  if (!hash.startsWith(HASH_PREFIX)) return null;
  const id = Number(hash.slice(HASH_PREFIX.length));
  return Number.isInteger(id) && id > 0 ? id : null;
}

function newConversation(id) {
  return {
    id,
    ticket: null,
    lastId: 0, // highest message id seen by a GET; the next poll asks for ids after it
    seen: new Set(),
    timer: null,
    inFlight: false, // a messages poll is waiting for its answer
    again: false, // poll again right after the one in flight
    actionSeq: 0, // bumps on claim/close so an older poll answer cannot undo their result
    sending: false,
    busy: false,
    stick: true, // keep the message list scrolled to the bottom
    closedByMe: false,
    connNotice: false,
  };
}

/** Open ticket `id`; `push` adds a browser-history entry so the phone's back key returns to the list. */
export async function openTicket(id, push) {
  if (!state.me) return;
  if (state.current && state.current.id === id) {
    showConversationPane();
    return;
  }
  const hadConversation = !!state.current;
  stopConversation();
  const cur = newConversation(id);
  state.current = cur;
  updateHistory(id, push, hadConversation);
  resetConversationView(cur);
  showConversationPane();
  markSelectedInList();
  el.convTitle.focus({ preventScroll: true });
  await loadConversation(cur);
}

function updateHistory(id, push, hadConversation) {
  const hash = HASH_PREFIX + id;
  if (window.location.hash === hash) return;
  if (push && !hadConversation) {
    window.history.pushState({ ticket: id }, "", hash);
    state.pushedHistory = true;
  } else {
    window.history.replaceState({ ticket: id }, "", hash);
  }
}

async function loadConversation(cur) {
  const res = await api.call("GET", "/tickets/" + cur.id);
  if (state.current !== cur || res.status === 401) return;
  if (res.ok && res.data && res.data.ticket) {
    clearNotice();
    // On a phone the summary of a ticket already being handled would hide the chat.
    el.summaryBox.open = !(NARROW.matches && canReply(res.data.ticket));
    updateTicket(cur, res.data.ticket, true);
    appendMessages(cur, res.data.messages, true);
    scrollToBottom(true);
    if (isActive(cur.ticket)) schedulePoll(cur);
    return;
  }
  if (res.status === 404 || res.status === 403) {
    showNotice(detailOf(res), "error");
    return;
  }
  showNotice(res.status === 0 ? T.convRetry : detailOf(res), "error");
  cur.timer = setTimeout(() => loadConversation(cur), MESSAGES_EVERY_MS * 2);
}

/** One poll chain per conversation: while a poll is in flight, just ask it to run again soon. */
export function schedulePoll(cur, delay = MESSAGES_EVERY_MS) {
  if (state.current !== cur) return;
  clearTimeout(cur.timer);
  cur.timer = null;
  if (cur.inFlight) {
    if (delay === 0) cur.again = true;
    return;
  }
  cur.timer = setTimeout(() => pollMessages(cur), delay);
}

async function pollMessages(cur) {
  cur.timer = null;
  cur.inFlight = true;
  const actionSeq = cur.actionSeq;
  const res = await api.call("GET", "/tickets/" + cur.id + "/messages?after=" + cur.lastId);
  cur.inFlight = false;
  if (state.current !== cur || res.status === 401) return;
  if (res.ok && res.data) {
    if (cur.connNotice) clearNotice();
    appendMessages(cur, res.data.messages, true);
    // A claim/close answered meanwhile is newer than this poll's view of the ticket.
    if (res.data.ticket && actionSeq === cur.actionSeq) updateTicket(cur, res.data.ticket, false);
  } else if (res.status === 404 || res.status === 403) {
    showNotice(detailOf(res), "error");
    setReplyEnabled(false, T.phClosed);
    hideActions();
    return;
  } else {
    showNotice(res.status === 0 ? T.convRetry : detailOf(res), "error");
    cur.connNotice = true;
  }
  const again = cur.again;
  cur.again = false;
  if (isActive(cur.ticket)) schedulePoll(cur, again ? 0 : MESSAGES_EVERY_MS);
}

export function stopConversation() {
  const cur = state.current;
  if (cur) clearTimeout(cur.timer);
  state.current = null;
}

/** Leave the conversation view (back to the list on phones). */
export function closeConversation(fromHistory) {
  const leaving = state.current ? state.current.id : null;
  stopConversation();
  el.conv.hidden = true;
  el.convPlaceholder.hidden = false;
  el.deskView.classList.remove("show-conv");
  document.body.classList.remove("conv-open");
  clearNotice();
  markSelectedInList();
  if (!fromHistory && window.location.hash) {
    window.history.replaceState(null, "", window.location.pathname + window.location.search);
  }
  if (leaving !== null) {
    const li = el.ticketList.querySelector('[data-ticket-id="' + leaving + '"] button');
    if (li) li.focus({ preventScroll: false });
  }
}

export function onBack() {
  if (state.pushedHistory && window.history.state && window.history.state.ticket) {
    state.pushedHistory = false;
    window.history.back(); // popstate closes the conversation
  } else {
    closeConversation(false);
  }
}

export function onPopState() {
  if (!state.me) return;
  const id = ticketIdFromHash();
  if (id) openTicket(id, false);
  else if (state.current) closeConversation(true);
}

function showConversationPane() {
  el.conv.hidden = false;
  el.convPlaceholder.hidden = true;
  el.deskView.classList.add("show-conv");
  document.body.classList.add("conv-open");
}

function resetConversationView(cur) {
  el.convTitle.textContent = "Yêu cầu #" + cur.id;
  el.ticketMeta.replaceChildren();
  el.ticketSummary.textContent = "";
  renderAnnouncement(null);
  el.messages.replaceChildren();
  el.replyText.value = "";
  autoGrow();
  hideActions();
  setReplyEnabled(false, "");
  showNotice(T.loadingConv, "info");
}

/** Show a new state of the open ticket, and tell the volunteer when it changed elsewhere. */
export function updateTicket(cur, ticket, first) {
  const before = cur.ticket;
  cur.ticket = ticket;
  renderTicket(ticket);
  if (first) {
    if (!isActive(ticket)) showNotice("Yêu cầu này đã đóng (" + (ticket.state_label || ticket.state) + ").", "info");
    else if (ticket.state === "claimed" && !ticket.mine) showNotice(claimedByOtherText(ticket), "info");
    return;
  }
  if (!before) return;
  if (isActive(before) && !isActive(ticket) && !cur.closedByMe) {
    showNotice("Yêu cầu này vừa được đóng (" + (ticket.state_label || ticket.state) + "). Không thể trả lời thêm.", "info");
  } else if (ticket.state === "claimed" && !ticket.mine && (before.state !== "claimed" || before.mine)) {
    showNotice(claimedByOtherText(ticket), "info");
  }
}

/** Re-read the ticket right away (e.g. after a 409). */
export function pollNow(cur) {
  schedulePoll(cur, 0);
}
