/* The JSON API behind a staff page (/desk/api, /admin/api): the CSRF token, a timeout, a sign-out
 * on 401, and polite Vietnamese texts for what went wrong.
 *
 *   const api = createApi({ base: "/desk/api", timeoutMs: 20000, onResponse: (response) => {} });
 *   api.csrf            the session's CSRF token, sent on every call but GET (account.js sets it)
 *   api.onUnauthorized  called with a polite text on any 401 but the one of POST /login
 *                       (account.js sets it while someone is signed in)
 *   await api.send(method, path, body?)  → the fetch Response (for files, headers); throws when
 *                                          there is no answer in time
 *   await api.call(method, path, body?)  → { status, ok, data }: status 0 = no answer,
 *                                          data = the JSON body or null
 *   await api.post(path, body?)          → as call("POST", …); on 403 (a stale CSRF token, e.g.
 *                                          signed in again in another tab) it takes the token
 *                                          of GET /me and tries once more
 *   problemText(result, fallback?)  → the server's `detail`, else `fallback`, else a polite text
 *                                     for the status
 *   TEXT  the polite texts the pages share (offline, serverError, tooFast, forbidden, notFound,
 *         generic, sessionEnded)
 * Every call but GET carries a JSON body (`{}` when none is given).
 */

export const TEXT = Object.freeze({
  offline: "Không kết nối được máy chủ. Anh/chị kiểm tra mạng rồi thử lại ạ.",
  serverError: "Máy chủ đang gặp sự cố. Anh/chị vui lòng thử lại sau ít phút ạ.",
  tooFast: "Anh/chị thao tác hơi nhanh. Vui lòng đợi một chút rồi thử lại ạ.",
  forbidden: "Anh/chị không có quyền làm việc này.",
  notFound: "Không tìm thấy nội dung này (có thể đã bị xoá).",
  generic: "Có lỗi xảy ra. Anh/chị vui lòng thử lại ạ.",
  sessionEnded: "Phiên đăng nhập đã hết. Anh/chị vui lòng đăng nhập lại.",
});

export function problemText(result, fallback) {
  const data = result && result.data;
  const detail = data && typeof data.detail === "string" ? data.detail.trim() : "";
  if (detail) return detail;
  if (fallback) return fallback;
  const status = result ? result.status : 0;
  switch (status) {
    case 0:
      return TEXT.offline;
    case 403:
      return TEXT.forbidden;
    case 404:
      return TEXT.notFound;
    case 429:
      return TEXT.tooFast;
    default:
      return status >= 500 ? TEXT.serverError : TEXT.generic;
  }
}

export function createApi({ base, timeoutMs = 20000, onResponse = null }) {
  const api = { csrf: "", onUnauthorized: null, send, call, post };

  async function send(method, path, body) {
    const headers = { Accept: "application/json" };
    const init = { method, headers, credentials: "same-origin", cache: "no-store" };
    if (method !== "GET") {
      headers["Content-Type"] = "application/json";
      if (api.csrf) headers["X-CSRF-Token"] = api.csrf;
      init.body = JSON.stringify(body || {});
    }
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    init.signal = controller.signal;
    let response;
    try {
      response = await fetch(base + path, init);
    } finally {
      clearTimeout(timer);
    }
    if (onResponse) onResponse(response);
    if (response.status === 401 && path !== "/login" && api.onUnauthorized) {
      const data = await readJson(response.clone());
      api.onUnauthorized(problemText({ status: 401, ok: false, data }, TEXT.sessionEnded));
    }
    return response;
  }

  async function call(method, path, body) {
    let response;
    try {
      response = await send(method, path, body);
    } catch (_) {
      return { status: 0, ok: false, data: null };
    }
    const data = response.status === 204 ? null : await readJson(response);
    return { status: response.status, ok: response.ok, data };
  }

  async function post(path, body) {
    let result = await call("POST", path, body);
    if (result.status === 403 && api.onUnauthorized) { // someone is signed in: account.js set it
      const me = await call("GET", "/me");
      if (me.ok && me.data && me.data.csrf && me.data.csrf !== api.csrf) {
        api.csrf = me.data.csrf;
        result = await call("POST", path, body);
      }
    }
    return result;
  }

  return api;
}

async function readJson(response) {
  try {
    return await response.json();
  } catch (_) {
    return null;
  }
}
