/* The ticket list: polled every 3 s (15 s in a background tab), updated in place. */

import { make } from "../common/dom.js";
import { openTicket } from "./conversation.js";
import { api, el, state } from "./state.js";
import { detailOf, T } from "./texts.js";
import { claimerText, LONG_WAIT_MIN, reasonText, serviceText, waitedMinutes, waitedText } from "./ticket.js";

const LIST_EVERY_MS = 3000;
const LIST_EVERY_HIDDEN_MS = 15000; // tab in the background: poll less, save the battery
const BASE_TITLE = "Bàn hỗ trợ – Tổ Công nghệ số";
const ticketSig = new WeakMap(); // list item -> signature of what it shows

export function startListPolling() {
  stopListPolling();
  pollList();
}

export function stopListPolling() {
  clearTimeout(state.listTimer);
  state.listTimer = null;
  state.listSeq += 1;
}

/** Poll now (after claiming or closing), instead of waiting for the next tick. */
export function refreshListSoon() {
  if (!state.me) return;
  startListPolling();
}

async function pollList() {
  const seq = ++state.listSeq;
  const res = await api.call("GET", "/tickets");
  if (seq !== state.listSeq || !state.me) return;
  if (res.status === 401) return;
  if (res.ok && res.data && Array.isArray(res.data.tickets)) {
    state.tickets = res.data.tickets.filter((t) => t && Number.isInteger(t.id));
    renderList();
    setListStatus("");
  } else {
    setListStatus(res.status === 0 ? T.listRetry : detailOf(res), "error");
  }
  state.listTimer = setTimeout(pollList, document.hidden ? LIST_EVERY_HIDDEN_MS : LIST_EVERY_MS);
}

export function setListStatus(text, kind) {
  el.listStatus.textContent = text || "";
  el.listStatus.hidden = !text;
  el.listStatus.dataset.kind = kind || "info";
}

/** Update the list in place (keyed by ticket id) so focus and scroll survive each poll. */
function renderList() {
  const list = el.ticketList;
  const existing = new Map();
  for (const li of Array.from(list.children)) existing.set(li.dataset.ticketId, li);
  const currentId = state.current ? state.current.id : null;

  state.tickets.forEach((ticket, index) => {
    const key = String(ticket.id);
    let li = existing.get(key);
    existing.delete(key);
    if (!li) li = makeTicketItem(ticket);
    const sig = ticketSignature(ticket);
    if (ticketSig.get(li) !== sig) {
      fillTicketItem(li, ticket);
      ticketSig.set(li, sig);
    }
    markSelected(li, ticket.id === currentId);
    const here = list.children[index];
    if (here !== li) list.insertBefore(li, here || null);
  });
  existing.forEach((li) => li.remove());

  const count = state.tickets.length;
  const waiting = state.tickets.filter((t) => t.state === "open").length;
  el.ticketEmpty.hidden = count > 0;
  el.ticketCount.textContent = count ? count + " yêu cầu" + (waiting ? ", " + waiting + " đang chờ" : "") : "";
  document.title = (waiting ? "(" + waiting + ") " : "") + BASE_TITLE;
}

function ticketSignature(ticket) {
  return JSON.stringify([
    ticket.state,
    ticket.state_label,
    ticket.claimed_by,
    ticket.mine,
    ticket.reason_label,
    ticket.urgent,
    ticket.service_label,
    ticket.step,
    ticket.commune_name,
    waitedText(ticket),
    waitedMinutes(ticket) >= LONG_WAIT_MIN,
  ]);
}

function makeTicketItem(ticket) {
  const li = make("li", "ticket-item");
  li.dataset.ticketId = String(ticket.id);
  const button = make("button", "ticket");
  button.type = "button";
  button.addEventListener("click", () => openTicket(ticket.id, true));
  li.appendChild(button);
  return li;
}

function fillTicketItem(li, ticket) {
  const button = li.firstElementChild;
  button.classList.toggle("urgent", !!ticket.urgent);
  button.classList.toggle("mine", !!ticket.mine);
  button.dataset.state = ticket.state || "";

  const top = make("span", "ticket-top");
  top.append(make("span", "ticket-no", "#" + ticket.id), make("span", "ticket-commune", ticket.commune_name || ""));
  const reason = reasonText(ticket);
  if (reason) top.appendChild(make("span", "badge badge-reason" + (ticket.urgent ? " badge-urgent" : ""), reason));

  const parts = [top];
  const service = serviceText(ticket);
  if (service) parts.push(make("span", "ticket-service", service));

  const bottom = make("span", "ticket-bottom");
  bottom.appendChild(make("span", "badge badge-state state-" + (ticket.state || ""), ticket.state_label || ""));
  const claimer = claimerText(ticket);
  if (claimer) bottom.appendChild(make("span", "ticket-claimer", claimer));
  const wait = make("span", "ticket-wait", waitedText(ticket));
  if (ticket.state === "open" && waitedMinutes(ticket) >= LONG_WAIT_MIN) wait.classList.add("late");
  bottom.appendChild(wait);
  parts.push(bottom);

  button.replaceChildren(...parts);
}

function markSelected(li, selected) {
  li.classList.toggle("selected", selected);
  const button = li.firstElementChild;
  if (selected) button.setAttribute("aria-current", "true");
  else button.removeAttribute("aria-current");
}

export function markSelectedInList() {
  const currentId = state.current ? String(state.current.id) : null;
  for (const li of Array.from(el.ticketList.children)) markSelected(li, li.dataset.ticketId === currentId);
}
