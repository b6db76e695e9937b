/* The report page's pickers: a commune (province staff: the whole province or one of its
 * communes, searchable without diacritics) and a month, from the account of /me. */

import { plain } from "../common/dom.js";
import { el, state } from "./page.js";

const T = {
  wholeProvince: "Toàn tỉnh",
  communeLabel: "Xã, phường",
  placeLabel: "Xã, phường hoặc toàn tỉnh",
  noMatch: "Không có xã, phường nào khớp. Anh/chị thử gõ tên khác ạ.",
};

/** Fill both pickers for the account that just signed in. */
export function fillPickers(me) {
  state.me = me;
  fillPlaces(me);
  el.month.replaceChildren(...me.months.map((m) => option(m.value, m.label)));
  el.month.value = me.default_month;
}

/** Narrow the communes to those matching the search box. */
export function searchPlaces() {
  renderPlaces(state.me, el.place.value);
}

/** The query of the report of the chosen place and month, in `format`. */
export function reportPath(format) {
  const [kind, code] = el.place.value.split(":");
  const query = new URLSearchParams({ [kind]: code, month: el.month.value, format });
  return "/report?" + query.toString();
}

function option(value, label) {
  const node = document.createElement("option");
  node.value = value;
  node.textContent = label;
  return node;
}

function fillPlaces(me) {
  const province = me.scope.kind === "province";
  state.communes = me.communes
    .map((c) => ({ value: "commune:" + c.code, label: c.name, key: plain(c.name) + " " + c.code }))
    .sort((a, b) => a.label.localeCompare(b.label, "vi"));
  el.placeLabel.textContent = province ? T.placeLabel : T.communeLabel;
  el.placeSearch.hidden = !province;
  el.placeCount.hidden = !province;
  el.placeSearch.value = "";
  renderPlaces(me, province ? "province:" + me.scope.code : state.communes[0].value);
}

/** The options matching the search box; "Toàn tỉnh" always stays first. */
function renderPlaces(me, selected) {
  const province = me.scope.kind === "province";
  const words = plain(el.placeSearch.value).split(" ").filter(Boolean);
  const matching = state.communes.filter((c) => words.every((w) => c.key.includes(w)));
  const nodes = [];
  if (province) nodes.push(option("province:" + me.scope.code, T.wholeProvince + " – " + me.scope.name));
  for (const c of matching) nodes.push(option(c.value, c.label));
  el.place.replaceChildren(...nodes);
  const values = nodes.map((n) => n.value);
  if (words.length && matching.length) el.place.value = matching[0].value;
  else if (values.includes(selected)) el.place.value = selected;
  if (province) {
    el.placeCount.textContent = matching.length
      ? words.length
        ? "Tìm thấy " + matching.length + " xã, phường."
        : "Tỉnh có " + matching.length + " xã, phường."
      : T.noMatch;
  }
}
