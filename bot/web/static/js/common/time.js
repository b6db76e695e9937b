/* Times from the JSON APIs, shown in Vietnam time (UTC+7, no daylight saving).
 *
 *   parseTime(iso) → epoch ms, NaN if not a time; a string without a zone is taken as UTC.
 *   formatTime(ms) → "HH:MM" in Vietnam time ("" for NaN).
 *   formatFull(ms) → short date and time in Vietnam time, e.g. "04/12/2026, 16:05" ("" for NaN).
 */

const timeFormat = vietnamFormat({ hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
const fullFormat = vietnamFormat({ dateStyle: "short", timeStyle: "short" });

/** A formatter in Vietnam time, or null without time-zone data (then fixed UTC+7 is used). */
function vietnamFormat(options) {
  try {
    return new Intl.DateTimeFormat("vi-VN", { timeZone: "Asia/Ho_Chi_Minh", ...options });
  } catch (_) {
    return null;
  }
}

export function parseTime(iso) {
  if (typeof iso !== "string" || !iso) return NaN;
  const zoned = /(Z|[+-]\d\d:?\d\d)$/i.test(iso) ? iso : iso + "Z";
  return Date.parse(zoned);
}

export function formatTime(ms) {
  if (!Number.isFinite(ms)) return "";
  if (timeFormat) {
    const parts = timeFormat.formatToParts(new Date(ms));
    const get = (type) => (parts.find((p) => p.type === type) || {}).value || "";
    const hh = get("hour").padStart(2, "0");
    const mm = get("minute").padStart(2, "0");
    if (hh && mm) return hh + ":" + mm;
  }
  const vn = new Date(ms + 7 * 3600 * 1000);
  return String(vn.getUTCHours()).padStart(2, "0") + ":" + String(vn.getUTCMinutes()).padStart(2, "0");
}

export function formatFull(ms) {
  if (!Number.isFinite(ms)) return "";
  return fullFormat ? fullFormat.format(new Date(ms)) : formatTime(ms);
}
