/* Bàn hỗ trợ Tổ Công nghệ số — the volunteer web desk (desk.html), its entry module.
 * Sign-in (common/account.js), the ticket list (list.js, polled every 3 s) and one live
 * conversation (conversation.js, polled every 2 s; messages.js, actions.js, reply.js) against
 * the JSON API under /desk/api (see notes/desk-api.md).
 * ES modules, no build step, no dependencies, no inline styles (CSP default-src 'self').
 * Server text only ever reaches the page through textContent / text nodes.
 */

import { createAccount } from "../common/account.js";
import { elementsById } from "../common/dom.js";
import { onClaim, onClose } from "./actions.js";
import { closeConversation, onBack, onPopState, openTicket, stopConversation, ticketIdFromHash } from "./conversation.js";
import { setListStatus, startListPolling, stopListPolling } from "./list.js";
import { onMessagesScroll } from "./messages.js";
import { showNotice } from "./notice.js";
import { autoGrow, onReplyKeydown, sendReply, updateSendButton } from "./reply.js";
import { api, el, MAX_LEN, state } from "./state.js";

function cacheElements() {
  Object.assign(
    el,
    elementsById({
      deskView: "desk-view",
      meName: "me-name",
      meCommunes: "me-communes",
      listStatus: "list-status",
      ticketList: "ticket-list",
      ticketEmpty: "ticket-empty",
      ticketCount: "ticket-count",
      convPlaceholder: "conv-placeholder",
      conv: "conv",
      back: "back",
      convTitle: "conv-title",
      ticketMeta: "ticket-meta",
      summaryBox: "summary-box",
      ticketSummary: "ticket-summary",
      announcementBox: "announcement-box",
      announcementTitle: "announcement-title",
      announcementText: "announcement-text",
      claim: "claim",
      closeResolved: "close-resolved",
      closeBot: "close-bot",
      notice: "notice",
      messages: "messages",
      replyForm: "reply-form",
      replyText: "reply-text",
      replySend: "reply-send",
      confirmDialog: "confirm-dialog",
      confirmText: "confirm-text",
      confirmYes: "confirm-yes",
      confirmNo: "confirm-no",
    }),
  );
  return Object.values(el).every(Boolean);
}

function enterDesk(me) {
  state.me = me;
  renderMe();
  startListPolling();
  const id = ticketIdFromHash();
  if (id) openTicket(id, false);
  else closeConversation(false);
}

/** Signed out (or the session ended): forget the tickets and the conversation. */
function leaveDesk() {
  stopListPolling();
  stopConversation();
  state.me = null;
  state.tickets = [];
  el.ticketList.replaceChildren();
  el.conv.hidden = true;
  el.convPlaceholder.hidden = false;
  el.deskView.classList.remove("show-conv");
  document.body.classList.remove("conv-open");
}

function renderMe() {
  const me = state.me;
  el.meName.textContent = me.name || "";
  const communes = Array.isArray(me.communes) ? me.communes.map((c) => c && c.name).filter(Boolean) : [];
  el.meCommunes.textContent = communes.join(", ");
  el.meCommunes.hidden = communes.length === 0;
}

/** A message for the volunteer: in the conversation when one is open, else above the list. */
function flash(text, kind) {
  if (state.current) showNotice(text, kind);
  else setListStatus(text, kind);
}

function bindEvents() {
  el.back.addEventListener("click", onBack);
  el.claim.addEventListener("click", onClaim);
  el.closeResolved.addEventListener("click", () => onClose("resolved"));
  el.closeBot.addEventListener("click", () => onClose("bot"));
  el.replyForm.addEventListener("submit", (event) => {
    event.preventDefault();
    sendReply();
  });
  el.replyText.addEventListener("keydown", onReplyKeydown);
  el.replyText.addEventListener("input", () => {
    autoGrow();
    updateSendButton();
  });
  el.messages.addEventListener("scroll", onMessagesScroll, { passive: true });
  window.addEventListener("popstate", onPopState);
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden && state.me) startListPolling();
  });
}

if (cacheElements()) {
  el.replyText.maxLength = MAX_LEN;
  bindEvents();
  createAccount({
    api,
    main: el.deskView,
    onSignedIn: enterDesk,
    onSignedOut: leaveDesk,
    onError: (text) => flash(text, "error"),
  }).start();
}
