/* Texts and number formats of the announcements page.
 *
 *   T                   the page's Vietnamese texts
 *   count(n)            n with Vietnamese digit grouping: 1000 → "1.000"
 *   characters(text)    how many characters the server counts (code points, not UTF-16 units)
 *   moment(iso)         a time of the API as staff read a send time, in Vietnam time with the
 *                       full year: "08:00 ngày 01/05/2030" ("" when it is not a time)
 */

import { formatTime, parseTime } from "../common/time.js";

const dayFormat = new Intl.DateTimeFormat("vi-VN", {
  timeZone: "Asia/Ho_Chi_Minh",
  day: "2-digit",
  month: "2-digit",
  year: "numeric",
});

export const TEXT_LIMIT = 1000;

export const T = Object.freeze({
  saved: "Đã lưu bản nháp.",
  savedWaiting: "Đã lưu bản nháp. Cần một cán bộ khác duyệt trước khi gửi.",
  savedApprove: "Đã lưu bản nháp. Anh/chị bấm “Duyệt” để gửi.",
  approved: "Đã duyệt. Thông báo sẽ gửi đúng giờ đã hẹn.",
  cancelled: "Đã hủy thông báo.",
  confirmCancel: "Anh/chị chắc chắn hủy thông báo này? Người dân chưa nhận sẽ không nhận nữa.",
  approvalOn: "Mỗi thông báo cần một cán bộ khác (không phải người soạn) duyệt trước khi gửi.",
  approvalOff: "Người soạn tự duyệt được thông báo của mình.",
  needTitleAndText: "Anh/chị nhập tiêu đề và nội dung giúp em.",
  noCommunes: "Anh/chị chọn ít nhất một xã, phường, hoặc chọn “Toàn tỉnh”.",
  noMatch: "Không có xã, phường nào khớp. Anh/chị thử gõ tên khác ạ.",
  wholeProvince: (name) => "Toàn tỉnh – " + name,
  chosen: (n, shown) => "Đã chọn " + n + " xã, phường · đang hiện " + shown + ".",
  overLimit: (n) => "quá " + count(n) + " ký tự",
  author: (name) => "Người soạn: " + name,
  approver: (name) => "Người duyệt: " + name,
  sendAt: (time) => "Gửi lúc " + time,
  expiresAt: (time) => "hết hạn " + time,
  approve: "Duyệt",
  cancel: "Hủy gửi",
  details: "Xem kết quả",
  reachLine: (r) =>
    "Gửi tới " + count(r.targeted) + " · đã nhận " + count(r.sent) + " · lỗi " + count(r.failed) +
    " · không gửi được " + count(r.unreachable),
  reach: {
    targeted: "Số lượt gửi (mỗi người, mỗi kênh)",
    sent: "Đã gửi tới người dân",
    pending: "Đang chờ kết quả",
    failed: "Gửi lỗi",
    unreachable: "Không gửi được lúc này",
    unsubscribed: "Hủy nhận thông báo sau tin này",
    replies: "Người dân trả lời",
    handoffs: "Cần cán bộ hỗ trợ thêm",
  },
});

export function count(n) {
  return Number(n).toLocaleString("vi-VN");
}

export function characters(text) {
  return Array.from(text).length;
}

export function moment(iso) {
  const ms = parseTime(iso);
  if (!Number.isFinite(ms)) return "";
  return formatTime(ms) + " ngày " + dayFormat.format(new Date(ms));
}
