/* The desk's own polite texts, and detailOf(): the text for a failed API call. */

import { problemText } from "../common/api.js";
import { MAX_LEN } from "./state.js";

export const T = {
  notFound: "Không tìm thấy yêu cầu này (có thể đã đóng hoặc không thuộc xã, phường của anh/chị).",
  listRetry: "Chưa cập nhật được danh sách, đang thử lại…",
  convRetry: "Mất kết nối, đang thử lại…",
  loadingConv: "Đang tải cuộc trò chuyện…",
  noSummary: "(Không có tóm tắt.)",
  claimed: "Anh/chị đã nhận yêu cầu này. Giờ anh/chị có thể trả lời người dân.",
  closedResolved: "Đã đóng yêu cầu. Cảm ơn anh/chị đã hỗ trợ người dân!",
  closedBot: "Đã trả yêu cầu lại cho trợ lý ảo.",
  tooLong: "Tin nhắn dài quá " + MAX_LEN + " ký tự. Anh/chị chia thành nhiều tin giúp em ạ.",
  phOpen: "Bấm “Nhận hỗ trợ” để trả lời người dân.",
  phMine: "Nhập tin nhắn cho người dân…",
  phClosed: "Yêu cầu đã đóng, không thể trả lời thêm.",
};

/** The server's text for a failed call, else `fallback`, else a polite one (a 404: the ticket's). */
export function detailOf(res, fallback) {
  return problemText(res, fallback || (res.status === 404 ? T.notFound : ""));
}
