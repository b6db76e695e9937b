/* The announcements the staff member manages (GET /announcements), newest first: status, place,
 * times, who wrote and approved each, a line of its reach, and the buttons it allows ("Duyệt",
 * "Hủy gửi"); "Xem kết quả" opens its detail (GET /announcements/{id}): the reach in full, with
 * failures and what could not be sent by reason, and what residents received on each channel.
 * "Cập nhật" reads the list (and the open detail) again; while one is approved or being sent the
 * page does so by itself every AUTO_UPDATE_MS (not while the tab is hidden).
 *
 *   const list = createList({ api, say });
 *   await list.refresh()  → the list response ({approval, categories, announcements}) or null
 *   list.close()          hide the detail, stop updating by itself (signed out)
 *   say(text, kind)       shows the page's status line ("success", "error")
 */

import { problemText } from "../common/api.js";
import { elementsById, make } from "../common/dom.js";
import { T, count, moment } from "./labels.js";
import { showPreview } from "./preview.js";

const AUTO_UPDATE_MS = 10000;
const UNDER_WAY = new Set(["approved", "sending"]);

function placeText(place) {
  if (!place.communes.length) return place.name;
  return place.name + ": " + place.communes.map((c) => c.name).join(", ");
}

function metaText(a) {
  const parts = [placeText(a.place), T.sendAt(moment(a.send_at)), T.expiresAt(moment(a.expires_at))];
  parts.push(T.author(a.author || "—"));
  if (a.approver) parts.push(T.approver(a.approver));
  return parts.join(" · ");
}

export function createList({ api, say }) {
  const el = elementsById({
    list: "list",
    empty: "list-empty",
    approvalNote: "approval-note",
    detail: "detail",
    detailTitle: "detail-title",
    detailMeta: "detail-meta",
    detailReach: "detail-reach",
    detailPreview: "detail-preview",
    detailClose: "detail-close",
    update: "list-update",
  });

  function item(a) {
    const node = make("li", "announcement");
    node.dataset.id = a.id;
    node.dataset.status = a.status;
    const head = make("div", "announcement-head");
    const title = make("h3", "announcement-title", a.title);
    title.id = "announcement-" + a.id;
    head.append(title, make("span", "badge-status", a.status_label));
    node.append(head, make("p", "announcement-category", a.category_label), make("p", "hint", metaText(a)));
    if (a.waiting) node.append(make("p", "waiting", a.waiting));
    if (a.reach.targeted) node.append(make("p", "reach-line", T.reachLine(a.reach)));
    const actions = make("div", "item-actions");
    if (a.may_approve) actions.append(button(T.approve, "btn btn-success", () => act(a, "approve")));
    if (a.may_cancel) actions.append(button(T.cancel, "btn btn-secondary", () => cancel(a)));
    actions.append(button(T.details, "btn btn-secondary", () => open(a.id)));
    for (const action of actions.children) action.setAttribute("aria-describedby", title.id);
    node.append(actions);
    return node;
  }

  function button(text, className, handler) {
    const node = make("button", className, text);
    node.type = "button";
    node.addEventListener("click", handler);
    return node;
  }

  async function refresh() {
    const result = await api.call("GET", "/announcements");
    if (!result.ok || !result.data) {
      if (result.status !== 401) say(problemText(result), "error");
      return null;
    }
    const data = result.data;
    el.approvalNote.textContent = data.approval ? T.approvalOn : T.approvalOff;
    el.list.replaceChildren(...data.announcements.map(item));
    el.empty.hidden = data.announcements.length > 0;
    schedule(data.announcements.some((a) => UNDER_WAY.has(a.status)));
    return data;
  }

  let timer = null;

  function schedule(underWay) {
    window.clearTimeout(timer);
    timer = underWay ? window.setTimeout(automatically, AUTO_UPDATE_MS) : null;
  }

  function automatically() {
    if (document.hidden) schedule(true);
    else update();
  }

  async function act(a, action) {
    const result = await api.post("/announcements/" + a.id + "/" + action);
    if (!result.ok) {
      say(problemText(result), "error");
      return;
    }
    say(action === "approve" ? T.approved : T.cancelled, "success");
    await refresh();
    if (!el.detail.hidden && el.detail.dataset.id === String(a.id)) show(result.data);
  }

  function cancel(a) {
    if (window.confirm(T.confirmCancel)) act(a, "cancel");
  }

  function reachRow(label, value, reasons) {
    const rows = [make("dt", "", label), make("dd", "", count(value))];
    for (const reason of reasons || []) {
      rows.push(make("dd", "reason", reason.label + ": " + count(reason.count)));
    }
    return rows;
  }

  function show(a) {
    const r = a.reach;
    el.detailTitle.textContent = a.title + " – " + a.status_label;
    el.detailMeta.textContent = a.category_label + " · " + metaText(a);
    el.detailReach.replaceChildren(
      ...reachRow(T.reach.targeted, r.targeted),
      ...reachRow(T.reach.sent, r.sent),
      ...reachRow(T.reach.pending, r.pending),
      ...reachRow(T.reach.failed, r.failed, r.failed_reasons),
      ...reachRow(T.reach.unreachable, r.unreachable, r.unreachable_reasons),
      ...reachRow(T.reach.unsubscribed, r.unsubscribed),
      ...reachRow(T.reach.replies, r.replies),
      ...reachRow(T.reach.handoffs, r.handoffs),
    );
    showPreview(el.detailPreview, a.preview);
    el.detail.dataset.id = a.id;
    el.detail.hidden = false;
  }

  async function open(id, scroll = true) {
    const result = await api.call("GET", "/announcements/" + id);
    if (!result.ok || !result.data) {
      say(problemText(result), "error");
      return;
    }
    show(result.data);
    if (scroll) el.detail.scrollIntoView({ block: "start", behavior: "smooth" });
  }

  function hideDetail() {
    el.detail.hidden = true;
  }

  function close() {
    hideDetail();
    schedule(false);
  }

  async function update() {
    el.update.disabled = true;
    const data = await refresh();
    if (data && !el.detail.hidden) await open(el.detail.dataset.id, false);
    el.update.disabled = false;
  }

  el.detailClose.addEventListener("click", hideDetail);
  el.update.addEventListener("click", update);
  return { refresh, close };
}
