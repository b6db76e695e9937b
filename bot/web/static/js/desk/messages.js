/* The messages of the open conversation: text, photo, voice, file, location, sticker; kept
 * in id order and scrolled to the newest unless the volunteer scrolled up. */

import { make } from "../common/dom.js";
import { formatFull, formatTime, parseTime } from "../common/time.js";
import { el, state } from "./state.js";

const AUTHORS = ["resident", "volunteer", "bot", "note"];

/** Add messages not shown yet, in id order. `fromGet`: they may advance the poll cursor. */
export function appendMessages(cur, messages, fromGet) {
  if (!Array.isArray(messages)) return;
  const stick = cur.stick;
  let added = false;
  for (const message of messages) {
    if (!message || !Number.isInteger(message.id)) continue;
    if (fromGet && message.id > cur.lastId) cur.lastId = message.id;
    if (cur.seen.has(message.id)) continue;
    cur.seen.add(message.id);
    insertMessage(buildMessage(message), message.id);
    added = true;
  }
  if (added && stick) scrollToBottom(true);
}

function insertMessage(node, id) {
  let after = el.messages.lastElementChild;
  while (after && Number(after.dataset.messageId) > id) after = after.previousElementSibling;
  el.messages.insertBefore(node, after ? after.nextSibling : el.messages.firstChild);
}

function buildMessage(message) {
  const author = AUTHORS.includes(message.author) ? message.author : "bot";
  const node = make("div", "message message-" + author);
  node.dataset.author = author;
  node.dataset.messageId = String(message.id);
  node.dataset.kind = message.kind || "text";
  node.appendChild(buildMessageHead(message, author));
  const body = make("div", "message-body");
  appendMessageContent(body, message);
  node.appendChild(body);
  return node;
}

function authorLabel(message, author) {
  const name = typeof message.author_name === "string" ? message.author_name.trim() : "";
  switch (author) {
    case "resident":
      return name || "Người dân";
    case "volunteer":
      return name || "Tổ Công nghệ số";
    case "note":
      return "Ghi chú nội bộ" + (name ? " · " + name : "");
    default:
      return "Trợ lý ảo";
  }
}

function buildMessageHead(message, author) {
  const head = make("div", "message-head");
  head.appendChild(make("span", "message-author", authorLabel(message, author)));
  const ms = parseTime(message.created_at);
  if (Number.isFinite(ms)) {
    const time = make("time", "message-time", formatTime(ms));
    time.dateTime = new Date(ms).toISOString();
    time.title = formatFull(ms);
    head.appendChild(time);
  }
  return head;
}

function appendMessageContent(body, message) {
  const text = typeof message.text === "string" ? message.text : "";
  const url = safeUrl(message.file_url);
  switch (message.kind) {
    case "photo":
      body.appendChild(url ? photoNode(url) : make("p", "message-missing", "(Ảnh không xem được.)"));
      break;
    case "voice":
      body.appendChild(url ? voiceNode(url) : make("p", "message-missing", "(Tin nhắn thoại không nghe được.)"));
      break;
    case "document":
      body.appendChild(url ? documentNode(url, text) : make("p", "message-missing", "(Tệp không tải được.)"));
      break;
    case "location":
      body.appendChild(locationNode(message.latitude, message.longitude));
      break;
    case "sticker":
      if (!text) body.appendChild(make("p", "message-missing", "(Nhãn dán)"));
      break;
    default:
      break;
  }
  if (text && message.kind !== "document") body.appendChild(make("p", "message-text", text));
}

function photoNode(url) {
  const link = make("a", "message-photo-link");
  link.href = url;
  link.target = "_blank";
  link.rel = "noopener";
  const img = make("img", "message-photo");
  img.src = url;
  img.alt = "Ảnh người dân gửi (bấm để xem lớn)";
  img.loading = "lazy";
  img.decoding = "async";
  img.addEventListener("load", keepBottomAfterResize);
  link.appendChild(img);
  return link;
}

function voiceNode(url) {
  const wrap = make("div", "message-voice");
  const audio = make("audio", "message-audio");
  audio.controls = true;
  audio.preload = "none";
  audio.src = url;
  audio.setAttribute("aria-label", "Tin nhắn thoại");
  const link = make("a", "message-file", "Tải tin nhắn thoại");
  link.href = url;
  link.download = "";
  wrap.append(audio, link);
  return wrap;
}

function documentNode(url, name) {
  const link = make("a", "message-file", "Tải tệp đính kèm" + (name ? ": " + name : ""));
  link.href = url;
  link.download = "";
  link.rel = "noopener";
  return link;
}

function locationNode(lat, lon) {
  const href = osmUrl(lat, lon);
  if (!href) return make("p", "message-missing", "(Vị trí không hợp lệ.)");
  const link = make("a", "message-location", "Xem vị trí trên bản đồ (" + lat.toFixed(5) + ", " + lon.toFixed(5) + ")");
  link.href = href;
  link.target = "_blank";
  link.rel = "noopener noreferrer";
  return link;
}

function isNearBottom() {
  const box = el.messages;
  return box.scrollHeight - box.scrollTop - box.clientHeight < 48;
}

export function scrollToBottom(force) {
  const cur = state.current;
  if (!force && cur && !cur.stick) return;
  el.messages.scrollTop = el.messages.scrollHeight;
  if (cur) cur.stick = true;
}

function keepBottomAfterResize() {
  if (state.current && state.current.stick) el.messages.scrollTop = el.messages.scrollHeight;
}

export function onMessagesScroll() {
  if (state.current) state.current.stick = isNearBottom();
}

/** A same-origin URL from the server, or null (never follow a foreign or javascript: URL). */
function safeUrl(raw) {
  if (typeof raw !== "string" || !raw) return null;
  try {
    const url = new URL(raw, window.location.href);
    if (url.origin !== window.location.origin) return null;
    if (url.protocol !== "http:" && url.protocol !== "https:") return null;
    return url.href;
  } catch (e) {
    return null;
  }
}

function osmUrl(lat, lon) {
  if (!Number.isFinite(lat) || !Number.isFinite(lon)) return null;
  if (Math.abs(lat) > 90 || Math.abs(lon) > 180) return null;
  const la = lat.toFixed(6);
  const lo = lon.toFixed(6);
  return "https://www.openstreetmap.org/?mlat=" + la + "&mlon=" + lo + "#map=17/" + la + "/" + lo;
}
