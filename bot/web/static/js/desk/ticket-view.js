/* The open ticket's header: title, badges, summary, the announcement the resident asks about,
 * and which actions and reply box it allows. */

import { make } from "../common/dom.js";
import { setReplyEnabled } from "./reply.js";
import { el } from "./state.js";
import { T } from "./texts.js";
import { canReply, claimedByOtherText, claimerText, reasonText, serviceText, waitedText } from "./ticket.js";

const CHANNEL_LABELS = { web: "Trang web", telegram: "Telegram", zalo: "Zalo" };

export function renderTicket(ticket) {
  el.convTitle.textContent = "Yêu cầu #" + ticket.id + (ticket.commune_name ? " · " + ticket.commune_name : "");
  renderTicketMeta(ticket);
  el.ticketSummary.textContent = ticket.summary && ticket.summary.trim() ? ticket.summary : T.noSummary;
  renderAnnouncement(ticket.announcement);

  el.claim.hidden = ticket.state !== "open";
  const mine = canReply(ticket);
  el.closeResolved.hidden = !mine;
  el.closeBot.hidden = !mine;

  let placeholder = T.phClosed;
  if (ticket.state === "open") placeholder = T.phOpen;
  else if (ticket.state === "claimed") placeholder = mine ? T.phMine : claimedByOtherText(ticket);
  setReplyEnabled(mine, placeholder);
}

/** The announcement ("Hỏi thêm" under it, or a reply soon after it): {id, title, text} or null. */
export function renderAnnouncement(announcement) {
  el.announcementBox.hidden = !announcement;
  el.announcementTitle.textContent = announcement ? announcement.title : "";
  el.announcementText.textContent = announcement ? announcement.text : "";
}

function renderTicketMeta(ticket) {
  const items = [];
  const reason = reasonText(ticket);
  if (reason) items.push(make("span", "badge badge-reason" + (ticket.urgent ? " badge-urgent" : ""), reason));
  items.push(make("span", "badge badge-state state-" + (ticket.state || ""), ticket.state_label || ""));
  const service = serviceText(ticket);
  if (service) items.push(make("span", "meta-item", service));
  const claimer = claimerText(ticket);
  if (claimer) items.push(make("span", "meta-item", claimer));
  items.push(make("span", "meta-item", waitedText(ticket)));
  const channel = CHANNEL_LABELS[ticket.channel];
  if (channel) items.push(make("span", "meta-item", "qua " + channel));
  el.ticketMeta.replaceChildren(...items);
}

export function hideActions() {
  el.claim.hidden = true;
  el.closeResolved.hidden = true;
  el.closeBot.hidden = true;
}
