/* Bàn hỗ trợ Tổ Công nghệ số — the volunteer web desk client (desk.html).
 * Sign-in, the ticket list (polled every 3 s) and one live conversation (polled every 2 s)
 * against the JSON API under /desk/api (see notes/desk-api.md).
 * Plain ES2020, no dependencies, no inline styles (CSP default-src 'self').
 * Server text only ever reaches the page through textContent / text nodes.
 */
(() => {
  "use strict";

  const API = "/desk/api";
  const LIST_EVERY_MS = 3000;
  const LIST_EVERY_HIDDEN_MS = 15000; // tab in the background: poll less, save the battery
  const MESSAGES_EVERY_MS = 2000;
  const RETRY_ME_MS = 5000;
  const REQUEST_TIMEOUT_MS = 20000;
  const MAX_LEN = 2000;
  const SUCCESS_NOTICE_MS = 8000;
  const LONG_WAIT_MIN = 10; // an open ticket waiting this long is highlighted
  const BASE_TITLE = "Bàn hỗ trợ – Tổ Công nghệ số";
  const HASH_PREFIX = "#yeu-cau-";
  const NARROW = window.matchMedia("(max-width: 799px)");

  const AUTHORS = ["resident", "volunteer", "bot", "note"];
  const ACTIVE_STATES = ["open", "claimed"];
  const CHANNEL_LABELS = { web: "Trang web", telegram: "Telegram", zalo: "Zalo" };

  const T = {
    offline: "Không kết nối được máy chủ. Anh/chị kiểm tra mạng rồi thử lại ạ.",
    serverError: "Máy chủ đang gặp sự cố. Anh/chị vui lòng thử lại sau ít phút ạ.",
    tooFast: "Anh/chị thao tác hơi nhanh. Vui lòng đợi một chút rồi thử lại ạ.",
    forbidden: "Anh/chị không có quyền làm việc này.",
    notFound: "Không tìm thấy yêu cầu này (có thể đã đóng hoặc không thuộc xã, phường của anh/chị).",
    generic: "Có lỗi xảy ra. Anh/chị vui lòng thử lại ạ.",
    sessionEnded: "Phiên đăng nhập đã hết. Anh/chị vui lòng đăng nhập lại.",
    needCredentials: "Anh/chị vui lòng nhập tên đăng nhập và mật khẩu.",
    signingIn: "Đang đăng nhập…",
    signIn: "Đăng nhập",
    connecting: "Chưa kết nối được máy chủ, đang thử lại…",
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

  const state = {
    me: null,
    csrf: "",
    tickets: [],
    listTimer: null,
    listSeq: 0, // bumps to ignore answers of a cancelled list poll
    meTimer: null,
    current: null, // the open conversation, see newConversation()
    skewMs: 0, // server clock minus this phone's clock
    pushedHistory: false,
  };

  const el = {}; // elements by id, filled in init()
  const ticketSig = new WeakMap(); // list item -> signature of what it shows

  // ================================================================ helpers

  const $ = (id) => document.getElementById(id);

  function make(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function now() {
    return Date.now() + state.skewMs;
  }

  /** ISO-8601 to epoch ms; a string without a zone is taken as UTC (as the API promises). */
  function parseTime(iso) {
    if (typeof iso !== "string" || !iso) return NaN;
    const zoned = /(Z|[+-]\d\d:?\d\d)$/i.test(iso) ? iso : iso + "Z";
    return Date.parse(zoned);
  }

  const timeFormat = makeTimeFormat();
  const fullFormat = makeFullFormat();

  function makeTimeFormat() {
    try {
      return new Intl.DateTimeFormat("vi-VN", {
        timeZone: "Asia/Ho_Chi_Minh",
        hour: "2-digit",
        minute: "2-digit",
        hourCycle: "h23",
      });
    } catch (e) {
      return null; // no time-zone data: fall back to fixed UTC+7 (Vietnam has no DST)
    }
  }

  function makeFullFormat() {
    try {
      return new Intl.DateTimeFormat("vi-VN", {
        timeZone: "Asia/Ho_Chi_Minh",
        dateStyle: "short",
        timeStyle: "short",
      });
    } catch (e) {
      return null;
    }
  }

  /** "HH:MM" in Vietnam time. */
  function formatTime(ms) {
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

  function formatFull(ms) {
    if (!Number.isFinite(ms)) return "";
    return fullFormat ? fullFormat.format(new Date(ms)) : formatTime(ms);
  }

  /** "chờ 5 phút" — how long a resident has waited (until claimed, for claimed tickets). */
  function waitedText(ticket) {
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

  function waitedMinutes(ticket) {
    const start = parseTime(ticket.created_at);
    return Number.isFinite(start) ? (now() - start) / 60000 : 0;
  }

  function isActive(ticket) {
    return !!ticket && ACTIVE_STATES.includes(ticket.state);
  }

  function canReply(ticket) {
    return !!ticket && ticket.state === "claimed" && ticket.mine === true;
  }

  function reasonText(ticket) {
    let label = ticket.reason_label || "";
    if (ticket.urgent && !/^khẩn/i.test(label)) label = label ? "Khẩn: " + label : "Khẩn";
    return label;
  }

  function serviceText(ticket) {
    if (!ticket.service_label) return "";
    return ticket.service_label + (Number.isInteger(ticket.step) ? " · bước " + ticket.step : "");
  }

  function claimerText(ticket) {
    if (ticket.state !== "claimed") return "";
    if (ticket.mine) return "Anh/chị đang hỗ trợ";
    return ticket.claimed_by ? ticket.claimed_by + " đang hỗ trợ" : "Đã có người nhận";
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

  function ticketIdFromHash() {
    const hash = window.location.hash || "";
    if (!hash.startsWith(HASH_PREFIX)) return null;
    const id = Number(hash.slice(HASH_PREFIX.length));
    return Number.isInteger(id) && id > 0 ? id : null;
  }

  // ================================================================ network

  /** One API call. Returns {status, ok, data}; status 0 = no answer. A 401 signs out. */
  async function api(method, path, body) {
    const headers = { Accept: "application/json" };
    const init = { method, headers, credentials: "same-origin", cache: "no-store" };
    if (method !== "GET") {
      headers["Content-Type"] = "application/json";
      if (state.csrf) headers["X-CSRF-Token"] = state.csrf;
      init.body = JSON.stringify(body || {});
    }
    const ctrl = new AbortController();
    const timer = setTimeout(() => ctrl.abort(), REQUEST_TIMEOUT_MS);
    init.signal = ctrl.signal;
    let res;
    try {
      res = await fetch(API + path, init);
    } catch (e) {
      return { status: 0, ok: false, data: null };
    } finally {
      clearTimeout(timer);
    }
    noteServerClock(res);
    let data = null;
    if (res.status !== 204) {
      try {
        data = await res.json();
      } catch (e) {
        data = null;
      }
    }
    const result = { status: res.status, ok: res.ok, data };
    if (res.status === 401 && path !== "/login" && state.me) signedOut(detailOf(result, T.sessionEnded));
    return result;
  }

  /** A POST; on 403 (stale CSRF token, e.g. signed in again in another tab) refresh it once. */
  async function post(path, body) {
    let res = await api("POST", path, body);
    if (res.status === 403 && state.me) {
      const me = await api("GET", "/me");
      if (me.ok && me.data && me.data.csrf && me.data.csrf !== state.csrf) {
        state.csrf = me.data.csrf;
        res = await api("POST", path, body);
      }
    }
    return res;
  }

  /** Phones often have a wrong clock: measure it against the server's Date header. */
  function noteServerClock(res) {
    const header = res.headers && res.headers.get("Date");
    const server = header ? Date.parse(header) : NaN;
    if (!Number.isFinite(server)) return;
    const skew = server - Date.now();
    state.skewMs = Math.abs(skew) > 30000 ? skew : 0;
  }

  function detailOf(res, fallback) {
    const detail = res && res.data && typeof res.data.detail === "string" ? res.data.detail.trim() : "";
    if (detail) return detail;
    if (fallback) return fallback;
    switch (res ? res.status : 0) {
      case 0:
        return T.offline;
      case 403:
        return T.forbidden;
      case 404:
        return T.notFound;
      case 429:
        return T.tooFast;
      default:
        return res && res.status >= 500 ? T.serverError : T.generic;
    }
  }

  // ================================================================ views

  function setView(name) {
    el.loading.hidden = name !== "loading";
    el.loginView.hidden = name !== "login";
    el.deskView.hidden = name !== "desk";
    el.meLine.hidden = name !== "desk";
    el.logout.hidden = name !== "desk";
    document.body.dataset.view = name;
  }

  function showLoading(text) {
    el.loading.textContent = text || "Đang tải…";
    setView("loading");
  }

  function showSignIn(message) {
    setView("login");
    setLoginError(message || "");
    el.loginSubmit.disabled = false;
    el.loginSubmit.textContent = T.signIn;
    document.title = "Đăng nhập – " + BASE_TITLE;
    (el.username.value ? el.password : el.username).focus();
  }

  function setLoginError(text) {
    el.loginError.textContent = text;
    el.loginError.hidden = !text;
  }

  /** Ask the server whether we are signed in; keep retrying while it cannot be reached. */
  async function checkSession() {
    clearTimeout(state.meTimer);
    const res = await api("GET", "/me");
    if (res.ok && res.data) {
      enterDesk(res.data);
    } else if (res.status === 401) {
      showSignIn("");
    } else {
      showLoading(T.connecting);
      state.meTimer = setTimeout(checkSession, RETRY_ME_MS);
    }
  }

  function enterDesk(me) {
    state.me = me;
    state.csrf = typeof me.csrf === "string" ? me.csrf : "";
    el.password.value = "";
    renderMe();
    setView("desk");
    startListPolling();
    const id = ticketIdFromHash();
    if (id) openTicket(id, false);
    else closeConversation(false);
  }

  /** Any 401: forget everything and show the sign-in form. */
  function signedOut(message) {
    leaveDesk();
    showSignIn(message);
  }

  function leaveDesk() {
    stopListPolling();
    stopConversation();
    state.me = null;
    state.csrf = "";
    state.tickets = [];
    el.ticketList.replaceChildren();
    el.conv.hidden = true;
    el.convPlaceholder.hidden = false;
    el.deskView.classList.remove("show-conv");
    document.body.classList.remove("conv-open");
  }

  function renderMe() {
    const me = state.me;
    el.meName.textContent = me.name || "";
    const communes = Array.isArray(me.communes) ? me.communes.map((c) => c && c.name).filter(Boolean) : [];
    el.meCommunes.textContent = communes.join(", ");
    el.meCommunes.hidden = communes.length === 0;
  }

  async function onLoginSubmit(event) {
    event.preventDefault();
    const username = el.username.value.trim();
    const password = el.password.value;
    if (!username || !password) {
      setLoginError(T.needCredentials);
      (username ? el.password : el.username).focus();
      return;
    }
    setLoginError("");
    el.loginSubmit.disabled = true;
    el.loginSubmit.textContent = T.signingIn;
    const res = await api("POST", "/login", { username, password });
    el.loginSubmit.disabled = false;
    el.loginSubmit.textContent = T.signIn;
    if (res.ok && res.data) {
      enterDesk(res.data);
      return;
    }
    setLoginError(detailOf(res));
    el.password.select();
    el.password.focus();
  }

  async function onLogout() {
    el.logout.disabled = true;
    const res = await post("/logout", {});
    el.logout.disabled = false;
    if (res.ok || res.status === 401) {
      signedOut("");
      el.password.value = "";
      return;
    }
    flash(detailOf(res), "error");
  }

  /** A message for the volunteer: in the conversation when one is open, else above the list. */
  function flash(text, kind) {
    if (state.current) showNotice(text, kind);
    else setListStatus(text, kind);
  }

  // ================================================================ ticket list

  function startListPolling() {
    stopListPolling();
    pollList();
  }

  function stopListPolling() {
    clearTimeout(state.listTimer);
    state.listTimer = null;
    state.listSeq += 1;
  }

  /** Poll now (after claiming or closing), instead of waiting for the next tick. */
  function refreshListSoon() {
    if (!state.me) return;
    startListPolling();
  }

  async function pollList() {
    const seq = ++state.listSeq;
    const res = await api("GET", "/tickets");
    if (seq !== state.listSeq || !state.me) return;
    if (res.status === 401) return;
    if (res.ok && res.data && Array.isArray(res.data.tickets)) {
      state.tickets = res.data.tickets.filter((t) => t && Number.isInteger(t.id));
      renderList();
      setListStatus("");
    } else {
      setListStatus(res.status === 0 ? T.listRetry : detailOf(res), "error");
    }
    state.listTimer = setTimeout(pollList, document.hidden ? LIST_EVERY_HIDDEN_MS : LIST_EVERY_MS);
  }

  function setListStatus(text, kind) {
    el.listStatus.textContent = text || "";
    el.listStatus.hidden = !text;
    el.listStatus.dataset.kind = kind || "info";
  }

  /** Update the list in place (keyed by ticket id) so focus and scroll survive each poll. */
  function renderList() {
    const list = el.ticketList;
    const existing = new Map();
    for (const li of Array.from(list.children)) existing.set(li.dataset.ticketId, li);
    const currentId = state.current ? state.current.id : null;

    state.tickets.forEach((ticket, index) => {
      const key = String(ticket.id);
      let li = existing.get(key);
      existing.delete(key);
      if (!li) li = makeTicketItem(ticket);
      const sig = ticketSignature(ticket);
      if (ticketSig.get(li) !== sig) {
        fillTicketItem(li, ticket);
        ticketSig.set(li, sig);
      }
      markSelected(li, ticket.id === currentId);
      const here = list.children[index];
      if (here !== li) list.insertBefore(li, here || null);
    });
    existing.forEach((li) => li.remove());

    const count = state.tickets.length;
    const waiting = state.tickets.filter((t) => t.state === "open").length;
    el.ticketEmpty.hidden = count > 0;
    el.ticketCount.textContent = count ? count + " yêu cầu" + (waiting ? ", " + waiting + " đang chờ" : "") : "";
    document.title = (waiting ? "(" + waiting + ") " : "") + BASE_TITLE;
  }

  function ticketSignature(ticket) {
    return JSON.stringify([
      ticket.state,
      ticket.state_label,
      ticket.claimed_by,
      ticket.mine,
      ticket.reason_label,
      ticket.urgent,
      ticket.service_label,
      ticket.step,
      ticket.commune_name,
      waitedText(ticket),
      waitedMinutes(ticket) >= LONG_WAIT_MIN,
    ]);
  }

  function makeTicketItem(ticket) {
    const li = make("li", "ticket-item");
    li.dataset.ticketId = String(ticket.id);
    const button = make("button", "ticket");
    button.type = "button";
    button.addEventListener("click", () => openTicket(ticket.id, true));
    li.appendChild(button);
    return li;
  }

  function fillTicketItem(li, ticket) {
    const button = li.firstElementChild;
    button.classList.toggle("urgent", !!ticket.urgent);
    button.classList.toggle("mine", !!ticket.mine);
    button.dataset.state = ticket.state || "";

    const top = make("span", "ticket-top");
    top.append(make("span", "ticket-no", "#" + ticket.id), make("span", "ticket-commune", ticket.commune_name || ""));
    const reason = reasonText(ticket);
    if (reason) top.appendChild(make("span", "badge badge-reason" + (ticket.urgent ? " badge-urgent" : ""), reason));

    const parts = [top];
    const service = serviceText(ticket);
    if (service) parts.push(make("span", "ticket-service", service));

    const bottom = make("span", "ticket-bottom");
    bottom.appendChild(make("span", "badge badge-state state-" + (ticket.state || ""), ticket.state_label || ""));
    const claimer = claimerText(ticket);
    if (claimer) bottom.appendChild(make("span", "ticket-claimer", claimer));
    const wait = make("span", "ticket-wait", waitedText(ticket));
    if (ticket.state === "open" && waitedMinutes(ticket) >= LONG_WAIT_MIN) wait.classList.add("late");
    bottom.appendChild(wait);
    parts.push(bottom);

    button.replaceChildren(...parts);
  }

  function markSelected(li, selected) {
    li.classList.toggle("selected", selected);
    const button = li.firstElementChild;
    if (selected) button.setAttribute("aria-current", "true");
    else button.removeAttribute("aria-current");
  }

  function markSelectedInList() {
    const currentId = state.current ? String(state.current.id) : null;
    for (const li of Array.from(el.ticketList.children)) markSelected(li, li.dataset.ticketId === currentId);
  }

  // ================================================================ conversation

  let convGen = 0;

  function newConversation(id) {
    return {
      id,
      gen: ++convGen,
      ticket: null,
      lastId: 0, // highest message id seen by a GET; the next poll asks for ids after it
      seen: new Set(),
      timer: null,
      inFlight: false, // a messages poll is waiting for its answer
      again: false, // poll again right after the one in flight
      actionSeq: 0, // bumps on claim/close so an older poll answer cannot undo their result
      sending: false,
      busy: false,
      stick: true, // keep the message list scrolled to the bottom
      closedByMe: false,
      connNotice: false,
    };
  }

  /** Open ticket `id`; `push` adds a browser-history entry so the phone's back key returns to the list. */
  async function openTicket(id, push) {
    if (!state.me) return;
    if (state.current && state.current.id === id) {
      showConversationPane();
      return;
    }
    const hadConversation = !!state.current;
    stopConversation();
    const cur = newConversation(id);
    state.current = cur;
    updateHistory(id, push, hadConversation);
    resetConversationView(cur);
    showConversationPane();
    markSelectedInList();
    el.convTitle.focus({ preventScroll: true });
    await loadConversation(cur);
  }

  function updateHistory(id, push, hadConversation) {
    const hash = HASH_PREFIX + id;
    if (window.location.hash === hash) return;
    if (push && !hadConversation) {
      window.history.pushState({ ticket: id }, "", hash);
      state.pushedHistory = true;
    } else {
      window.history.replaceState({ ticket: id }, "", hash);
    }
  }

  async function loadConversation(cur) {
    const res = await api("GET", "/tickets/" + cur.id);
    if (state.current !== cur || res.status === 401) return;
    if (res.ok && res.data && res.data.ticket) {
      clearNotice();
      // On a phone the summary of a ticket already being handled would hide the chat.
      el.summaryBox.open = !(NARROW.matches && canReply(res.data.ticket));
      updateTicket(cur, res.data.ticket, true);
      appendMessages(cur, res.data.messages, true);
      scrollToBottom(true);
      if (isActive(cur.ticket)) schedulePoll(cur);
      return;
    }
    if (res.status === 404 || res.status === 403) {
      showNotice(detailOf(res), "error");
      return;
    }
    showNotice(res.status === 0 ? T.convRetry : detailOf(res), "error");
    cur.timer = setTimeout(() => loadConversation(cur), MESSAGES_EVERY_MS * 2);
  }

  /** One poll chain per conversation: while a poll is in flight, just ask it to run again soon. */
  function schedulePoll(cur, delay = MESSAGES_EVERY_MS) {
    if (state.current !== cur) return;
    clearTimeout(cur.timer);
    cur.timer = null;
    if (cur.inFlight) {
      if (delay === 0) cur.again = true;
      return;
    }
    cur.timer = setTimeout(() => pollMessages(cur), delay);
  }

  async function pollMessages(cur) {
    cur.timer = null;
    cur.inFlight = true;
    const actionSeq = cur.actionSeq;
    const res = await api("GET", "/tickets/" + cur.id + "/messages?after=" + cur.lastId);
    cur.inFlight = false;
    if (state.current !== cur || res.status === 401) return;
    if (res.ok && res.data) {
      if (cur.connNotice) clearNotice();
      appendMessages(cur, res.data.messages, true);
      // A claim/close answered meanwhile is newer than this poll's view of the ticket.
      if (res.data.ticket && actionSeq === cur.actionSeq) updateTicket(cur, res.data.ticket, false);
    } else if (res.status === 404 || res.status === 403) {
      showNotice(detailOf(res), "error");
      setReplyEnabled(false, T.phClosed);
      hideActions();
      return;
    } else {
      showNotice(res.status === 0 ? T.convRetry : detailOf(res), "error");
      cur.connNotice = true;
    }
    const again = cur.again;
    cur.again = false;
    if (isActive(cur.ticket)) schedulePoll(cur, again ? 0 : MESSAGES_EVERY_MS);
  }

  function stopConversation() {
    const cur = state.current;
    if (cur) clearTimeout(cur.timer);
    state.current = null;
  }

  /** Leave the conversation view (back to the list on phones). */
  function closeConversation(fromHistory) {
    const leaving = state.current ? state.current.id : null;
    stopConversation();
    el.conv.hidden = true;
    el.convPlaceholder.hidden = false;
    el.deskView.classList.remove("show-conv");
    document.body.classList.remove("conv-open");
    clearNotice();
    markSelectedInList();
    if (!fromHistory && window.location.hash) {
      window.history.replaceState(null, "", window.location.pathname + window.location.search);
    }
    if (leaving !== null) {
      const li = el.ticketList.querySelector('[data-ticket-id="' + leaving + '"] button');
      if (li) li.focus({ preventScroll: false });
    }
  }

  function onBack() {
    if (state.pushedHistory && window.history.state && window.history.state.ticket) {
      state.pushedHistory = false;
      window.history.back(); // popstate closes the conversation
    } else {
      closeConversation(false);
    }
  }

  function onPopState() {
    if (!state.me) return;
    const id = ticketIdFromHash();
    if (id) openTicket(id, false);
    else if (state.current) closeConversation(true);
  }

  function showConversationPane() {
    el.conv.hidden = false;
    el.convPlaceholder.hidden = true;
    el.deskView.classList.add("show-conv");
    document.body.classList.add("conv-open");
  }

  function resetConversationView(cur) {
    el.convTitle.textContent = "Yêu cầu #" + cur.id;
    el.ticketMeta.replaceChildren();
    el.ticketSummary.textContent = "";
    el.messages.replaceChildren();
    el.replyText.value = "";
    autoGrow();
    hideActions();
    setReplyEnabled(false, "");
    showNotice(T.loadingConv, "info");
  }

  /** Show a new state of the open ticket, and tell the volunteer when it changed elsewhere. */
  function updateTicket(cur, ticket, first) {
    const before = cur.ticket;
    cur.ticket = ticket;
    renderTicket(ticket);
    if (first) {
      if (!isActive(ticket)) showNotice("Yêu cầu này đã đóng (" + (ticket.state_label || ticket.state) + ").", "info");
      else if (ticket.state === "claimed" && !ticket.mine) showNotice(claimedByOtherText(ticket), "info");
      return;
    }
    if (!before) return;
    if (isActive(before) && !isActive(ticket) && !cur.closedByMe) {
      showNotice("Yêu cầu này vừa được đóng (" + (ticket.state_label || ticket.state) + "). Không thể trả lời thêm.", "info");
    } else if (ticket.state === "claimed" && !ticket.mine && (before.state !== "claimed" || before.mine)) {
      showNotice(claimedByOtherText(ticket), "info");
    }
  }

  function claimedByOtherText(ticket) {
    return "Yêu cầu này đã có " + (ticket.claimed_by || "người khác") + " nhận.";
  }

  function renderTicket(ticket) {
    el.convTitle.textContent = "Yêu cầu #" + ticket.id + (ticket.commune_name ? " · " + ticket.commune_name : "");
    renderTicketMeta(ticket);
    el.ticketSummary.textContent = ticket.summary && ticket.summary.trim() ? ticket.summary : T.noSummary;

    el.claim.hidden = ticket.state !== "open";
    const mine = canReply(ticket);
    el.closeResolved.hidden = !mine;
    el.closeBot.hidden = !mine;

    let placeholder = T.phClosed;
    if (ticket.state === "open") placeholder = T.phOpen;
    else if (ticket.state === "claimed") placeholder = mine ? T.phMine : claimedByOtherText(ticket);
    setReplyEnabled(mine, placeholder);
  }

  function renderTicketMeta(ticket) {
    const items = [];
    const reason = reasonText(ticket);
    if (reason) items.push(make("span", "badge badge-reason" + (ticket.urgent ? " badge-urgent" : ""), reason));
    items.push(make("span", "badge badge-state state-" + (ticket.state || ""), ticket.state_label || ""));
    const service = serviceText(ticket);
    if (service) items.push(make("span", "meta-item", service));
    const claimer = claimerText(ticket);
    if (claimer) items.push(make("span", "meta-item", claimer));
    items.push(make("span", "meta-item", waitedText(ticket)));
    const channel = CHANNEL_LABELS[ticket.channel];
    if (channel) items.push(make("span", "meta-item", "qua " + channel));
    el.ticketMeta.replaceChildren(...items);
  }

  function hideActions() {
    el.claim.hidden = true;
    el.closeResolved.hidden = true;
    el.closeBot.hidden = true;
  }

  function setReplyEnabled(enabled, placeholder) {
    el.replyText.disabled = !enabled;
    el.replyText.placeholder = placeholder || "";
    updateSendButton();
  }

  function updateSendButton() {
    const cur = state.current;
    el.replySend.disabled = el.replyText.disabled || !el.replyText.value.trim() || !!(cur && cur.sending);
  }

  // ---------------------------------------------------------------- messages

  /** Add messages not shown yet, in id order. `fromGet`: they may advance the poll cursor. */
  function appendMessages(cur, messages, fromGet) {
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

  function scrollToBottom(force) {
    const cur = state.current;
    if (!force && cur && !cur.stick) return;
    el.messages.scrollTop = el.messages.scrollHeight;
    if (cur) cur.stick = true;
  }

  function keepBottomAfterResize() {
    if (state.current && state.current.stick) el.messages.scrollTop = el.messages.scrollHeight;
  }

  function onMessagesScroll() {
    if (state.current) state.current.stick = isNearBottom();
  }

  // ---------------------------------------------------------------- notice

  let noticeTimer = null;

  /** The status line of the conversation; "success" lines fade after a while to free the room. */
  function showNotice(text, kind) {
    const cur = state.current;
    if (cur) cur.connNotice = false;
    clearTimeout(noticeTimer);
    el.notice.textContent = text;
    el.notice.dataset.kind = kind || "info";
    el.notice.hidden = !text;
    if (text && kind === "success") {
      noticeTimer = setTimeout(() => {
        if (el.notice.textContent === text) clearNotice();
      }, SUCCESS_NOTICE_MS);
    }
  }

  function clearNotice() {
    showNotice("", "info");
  }

  // ---------------------------------------------------------------- actions

  async function onClaim() {
    const cur = state.current;
    if (!cur || cur.busy) return;
    cur.busy = true;
    el.claim.disabled = true;
    cur.actionSeq += 1;
    const res = await post("/tickets/" + cur.id + "/claim", {});
    cur.busy = false;
    el.claim.disabled = false;
    if (state.current !== cur || res.status === 401) return;
    if (res.ok && res.data && res.data.ticket) {
      updateTicket(cur, res.data.ticket, false);
      showNotice(T.claimed, "success");
      if (NARROW.matches) el.summaryBox.open = false; // read; tap to open it again
      if (isActive(cur.ticket) && !cur.timer && !cur.inFlight) schedulePoll(cur);
      el.replyText.focus();
    } else {
      showNotice(detailOf(res), res.status === 409 ? "info" : "error");
      if (res.status === 409) pollNow(cur);
    }
    refreshListSoon();
  }

  async function onClose(outcome) {
    const cur = state.current;
    if (!cur || cur.busy) return;
    const question =
      outcome === "resolved"
        ? "Đóng yêu cầu #" + cur.id + " vì đã hỗ trợ xong?"
        : "Trả yêu cầu #" + cur.id + " lại cho trợ lý ảo (bot) tiếp tục hướng dẫn người dân?";
    const yesLabel = outcome === "resolved" ? "Đóng – đã xong" : "Trả lại cho bot";
    const ok = await confirmAction(question, yesLabel);
    if (!ok || state.current !== cur || cur.busy) return;

    cur.busy = true;
    el.closeResolved.disabled = true;
    el.closeBot.disabled = true;
    cur.actionSeq += 1;
    const res = await post("/tickets/" + cur.id + "/close", { outcome });
    cur.busy = false;
    el.closeResolved.disabled = false;
    el.closeBot.disabled = false;
    if (state.current !== cur || res.status === 401) return;
    if (res.ok && res.data && res.data.ticket) {
      cur.closedByMe = true;
      updateTicket(cur, res.data.ticket, false);
      showNotice(outcome === "resolved" ? T.closedResolved : T.closedBot, "success");
      if (!isActive(cur.ticket)) {
        clearTimeout(cur.timer);
        cur.timer = null;
      }
    } else {
      showNotice(detailOf(res), "error");
      if (res.status === 409) pollNow(cur);
    }
    refreshListSoon();
  }

  /** Re-read the ticket right away (e.g. after a 409). */
  function pollNow(cur) {
    schedulePoll(cur, 0);
  }

  /** Ask before an action; an in-page dialog (testable, big buttons), window.confirm as fallback. */
  function confirmAction(question, yesLabel) {
    const dialog = el.confirmDialog;
    if (!dialog || typeof dialog.showModal !== "function") {
      return Promise.resolve(window.confirm(question));
    }
    el.confirmText.textContent = question;
    el.confirmYes.textContent = yesLabel;
    dialog.returnValue = "";
    return new Promise((resolve) => {
      dialog.addEventListener("close", () => resolve(dialog.returnValue === "yes"), { once: true });
      dialog.showModal();
      el.confirmNo.focus();
    });
  }

  // ---------------------------------------------------------------- reply

  async function sendReply() {
    const cur = state.current;
    if (!cur || cur.sending || !canReply(cur.ticket)) return;
    const raw = el.replyText.value;
    const text = raw.normalize("NFC").trim();
    if (!text) return;
    if (text.length > MAX_LEN) {
      showNotice(T.tooLong, "error");
      return;
    }
    cur.sending = true;
    updateSendButton();
    const res = await post("/tickets/" + cur.id + "/messages", { text });
    cur.sending = false;
    if (state.current !== cur) return;
    updateSendButton();
    if (res.status === 401) return;
    if (res.ok && res.data && res.data.message) {
      if (el.replyText.value === raw) el.replyText.value = "";
      autoGrow();
      updateSendButton();
      if (el.notice.dataset.kind === "error") clearNotice();
      // Not fromGet: a resident message with a smaller id may still be on its way.
      appendMessages(cur, [res.data.message], false);
      scrollToBottom(true);
    } else {
      showNotice(detailOf(res), "error");
      if (res.status === 409) pollNow(cur);
    }
  }

  function onReplyKeydown(event) {
    if (event.key !== "Enter" || event.shiftKey || event.altKey || event.ctrlKey || event.metaKey) return;
    // Vietnamese IMEs (Telex/VNI) compose characters: never send mid-composition.
    if (event.isComposing || event.keyCode === 229) return;
    event.preventDefault();
    sendReply();
  }

  /** Grow the box with its lines (1–6 rows); CSS field-sizing does the rest where supported. */
  function autoGrow() {
    const lines = el.replyText.value.split("\n").length;
    el.replyText.rows = Math.min(Math.max(lines, 1), 6);
  }

  // ================================================================ start

  function cacheElements() {
    const ids = {
      loading: "loading",
      loginView: "login-view",
      loginForm: "login-form",
      username: "username",
      password: "password",
      loginError: "login-error",
      loginSubmit: "login-submit",
      deskView: "desk-view",
      meLine: "me-line",
      meName: "me-name",
      meCommunes: "me-communes",
      logout: "logout",
      listStatus: "list-status",
      ticketList: "ticket-list",
      ticketEmpty: "ticket-empty",
      ticketCount: "ticket-count",
      convPlaceholder: "conv-placeholder",
      conv: "conv",
      back: "back",
      convTitle: "conv-title",
      ticketMeta: "ticket-meta",
      summaryBox: "summary-box",
      ticketSummary: "ticket-summary",
      claim: "claim",
      closeResolved: "close-resolved",
      closeBot: "close-bot",
      notice: "notice",
      messages: "messages",
      replyForm: "reply-form",
      replyText: "reply-text",
      replySend: "reply-send",
      confirmDialog: "confirm-dialog",
      confirmText: "confirm-text",
      confirmYes: "confirm-yes",
      confirmNo: "confirm-no",
    };
    for (const [key, id] of Object.entries(ids)) el[key] = $(id);
    return Object.values(el).every(Boolean);
  }

  function bindEvents() {
    el.loginForm.addEventListener("submit", onLoginSubmit);
    el.logout.addEventListener("click", onLogout);
    el.back.addEventListener("click", onBack);
    el.claim.addEventListener("click", onClaim);
    el.closeResolved.addEventListener("click", () => onClose("resolved"));
    el.closeBot.addEventListener("click", () => onClose("bot"));
    el.replyForm.addEventListener("submit", (event) => {
      event.preventDefault();
      sendReply();
    });
    el.replyText.addEventListener("keydown", onReplyKeydown);
    el.replyText.addEventListener("input", () => {
      autoGrow();
      updateSendButton();
    });
    el.messages.addEventListener("scroll", onMessagesScroll, { passive: true });
    window.addEventListener("popstate", onPopState);
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden && state.me) startListPolling();
    });
  }

  function init() {
    if (!cacheElements()) return;
    el.replyText.maxLength = MAX_LEN;
    bindEvents();
    showLoading();
    checkSession();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
