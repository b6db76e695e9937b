/* The report of the chosen place and month: "Xem báo cáo" shows the HTML report in a sandboxed
 * frame, "Tải Excel" / "Tải CSV" download the file. */

import { problemText } from "../common/api.js";
import { api, busy, el, state, status } from "./page.js";
import { reportPath } from "./pickers.js";

const FORMAT_LABELS = { xlsx: "Excel", csv: "CSV" };
const T = {
  building: "Đang tạo báo cáo, anh/chị chờ một chút ạ…",
  shown: "Báo cáo ở bên dưới.",
  buildingFile: (kind) => "Đang tạo tệp " + kind + ", anh/chị chờ một chút ạ…",
  downloaded: (name) => "Đã tải xong tệp " + name + ".",
};

export async function showReport(event) {
  event.preventDefault();
  if (state.busy || !el.place.value) return;
  busy(true);
  status(T.building);
  // The frame cannot tell a signed-out page from a report: ask first.
  const me = await api.call("GET", "/me");
  if (me.status === 401) return; // signed out, the form is shown
  if (!me.ok) {
    status(problemText(me), "error");
    busy(false);
    return;
  }
  const url = "/admin/api" + reportPath("html");
  el.viewer.hidden = true;
  el.openTab.href = url;
  el.frame.src = url;
}

export function reportLoaded() {
  if (!el.frame.getAttribute("src")) return;
  el.viewer.hidden = false;
  status(T.shown, "success");
  busy(false);
  el.status.scrollIntoView({ block: "start", behavior: "smooth" });
}

/** Forget the report shown (on signing out). */
export function clearReport() {
  el.frame.removeAttribute("src");
  el.viewer.hidden = true;
  status("");
  busy(false);
}

export async function download(event) {
  const format = event.currentTarget.dataset.format;
  if (state.busy || !el.place.value) return;
  busy(true);
  status(T.buildingFile(FORMAT_LABELS[format]));
  try {
    const response = await api.send("GET", reportPath(format));
    if (response.status === 401) return; // signed out, the form is shown
    if (!response.ok) {
      const data = await response.json().catch(() => null);
      status(problemText({ status: response.status, ok: false, data }), "error");
      return;
    }
    const name = attachmentName(response, format);
    saveFile(await response.blob(), name);
    status(T.downloaded(name), "success");
  } catch (_) {
    status(problemText({ status: 0 }), "error");
  } finally {
    busy(false);
  }
}

function attachmentName(response, format) {
  const header = response.headers.get("Content-Disposition") || "";
  const found = /filename="([^"]+)"/.exec(header);
  return found ? found[1] : "bao-cao." + format;
}

function saveFile(blob, name) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}
