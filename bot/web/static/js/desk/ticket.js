/* What a ticket shows: how long the resident waited, its reason, service step and who helps. */

import { parseTime } from "../common/time.js";
import { now } from "./clock.js";

const ACTIVE_STATES = ["open", "claimed"];
export const LONG_WAIT_MIN = 10; // an open ticket waiting this long is highlighted

export function waitedText(ticket) {
  const start = parseTime(ticket.created_at);
  if (!Number.isFinite(start)) return "";
  let end = now();
  if (ticket.state !== "open") {
    const claimedAt = parseTime(ticket.claimed_at);
    const closedAt = parseTime(ticket.closed_at);
    if (Number.isFinite(claimedAt)) end = claimedAt;
    else if (Number.isFinite(closedAt)) end = closedAt;
  }
  const minutes = Math.max(0, Math.floor((end - start) / 60000));
  return "chờ " + durationText(minutes);
}

function durationText(minutes) {
  if (minutes < 1) return "dưới 1 phút";
  if (minutes < 60) return minutes + " phút";
  const hours = Math.floor(minutes / 60);
  if (hours < 24) {
    const rest = minutes % 60;
    return hours + " giờ" + (rest ? " " + rest + " phút" : "");
  }
  return Math.floor(hours / 24) + " ngày";
}

export function waitedMinutes(ticket) {
  const start = parseTime(ticket.created_at);
  return Number.isFinite(start) ? (now() - start) / 60000 : 0;
}

export function isActive(ticket) {
  return !!ticket && ACTIVE_STATES.includes(ticket.state);
}

export function canReply(ticket) {
  return !!ticket && ticket.state === "claimed" && ticket.mine === true;
}

export function reasonText(ticket) {
  let label = ticket.reason_label || "";
  if (ticket.urgent && !/^khẩn/i.test(label)) label = label ? "Khẩn: " + label : "Khẩn";
  return label;
}

export function serviceText(ticket) {
  if (!ticket.service_label) return "";
  return ticket.service_label + (Number.isInteger(ticket.step) ? " · bước " + ticket.step : "");
}

export function claimerText(ticket) {
  if (ticket.state !== "claimed") return "";
  if (ticket.mine) return "Anh/chị đang hỗ trợ";
  return ticket.claimed_by ? ticket.claimed_by + " đang hỗ trợ" : "Đã có người nhận";
}

export function claimedByOtherText(ticket) {
  return "Yêu cầu này đã có " + (ticket.claimed_by || "người khác") + " nhận.";
}
