/* Báo cáo Tổ Công nghệ số — the staff report page (admin.html), its entry module.
 * Sign-in (common/account.js), then pick a place and a month (pickers.js) and read or download
 * the report (report.js), from the JSON API under /admin/api.
 * ES modules, no build step, no dependencies, no inline styles (CSP default-src 'self').
 * Server text only ever reaches the page through textContent / option labels.
 */

import { createAccount } from "../common/account.js";
import { elementsById } from "../common/dom.js";
import { api, el, status } from "./page.js";
import { fillPickers, searchPlaces } from "./pickers.js";
import { clearReport, download, reportLoaded, showReport } from "./report.js";

Object.assign(
  el,
  elementsById({
    reportView: "report-view",
    meName: "me-name",
    meScope: "me-scope",
    picker: "picker",
    place: "place",
    placeSearch: "place-search",
    placeCount: "place-count",
    month: "month",
    show: "show",
    xlsx: "download-xlsx",
    csv: "download-csv",
    status: "status",
    viewer: "viewer",
    openTab: "open-tab",
    frame: "report-frame",
  }),
);
el.placeLabel = document.querySelector('label[for="place"]');

const account = createAccount({
  api,
  main: el.reportView,
  onSignedIn(me) {
    el.meName.textContent = me.name;
    el.meScope.textContent = me.scope.name;
    fillPickers(me);
    clearReport();
  },
  onSignedOut: clearReport,
  onError: (text) => status(text, "error"),
});

el.picker.addEventListener("submit", showReport);
el.xlsx.addEventListener("click", download);
el.csv.addEventListener("click", download);
el.placeSearch.addEventListener("input", searchPlaces);
el.frame.addEventListener("load", reportLoaded);
account.start();
