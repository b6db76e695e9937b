/* Báo cáo Tổ Công nghệ số — the staff report page client (admin.html).
 * Sign-in, then pick a commune (province staff: the whole province or one of its communes,
 * searchable without diacritics) and a month; "Xem báo cáo" shows the HTML report in a
 * sandboxed frame, "Tải Excel" / "Tải CSV" download the file. JSON API under /admin/api.
 * Plain ES2020, no dependencies, no inline styles (CSP default-src 'self').
 * Server text only ever reaches the page through textContent / option labels.
 */
(() => {
  "use strict";

  const API = "/admin/api";
  const REQUEST_TIMEOUT_MS = 120000; // a province roll-up may take a while
  const FORMAT_LABELS = { xlsx: "Excel", csv: "CSV" };

  const T = {
    offline: "Không kết nối được máy chủ. Anh/chị kiểm tra mạng rồi thử lại ạ.",
    serverError: "Máy chủ đang gặp sự cố. Anh/chị vui lòng thử lại sau ít phút ạ.",
    generic: "Có lỗi xảy ra. Anh/chị vui lòng thử lại ạ.",
    sessionEnded: "Phiên đăng nhập đã hết. Anh/chị vui lòng đăng nhập lại.",
    needCredentials: "Anh/chị vui lòng nhập tên đăng nhập và mật khẩu.",
    signingIn: "Đang đăng nhập…",
    signIn: "Đăng nhập",
    wholeProvince: "Toàn tỉnh",
    communeLabel: "Xã, phường",
    placeLabel: "Xã, phường hoặc toàn tỉnh",
    noMatch: "Không có xã, phường nào khớp. Anh/chị thử gõ tên khác ạ.",
    building: "Đang tạo báo cáo, anh/chị chờ một chút ạ…",
    shown: "Báo cáo ở bên dưới.",
    buildingFile: (kind) => "Đang tạo tệp " + kind + ", anh/chị chờ một chút ạ…",
    downloaded: (name) => "Đã tải xong tệp " + name + ".",
  };

  const state = { me: null, csrf: "", busy: false };
  const el = {};
  const $ = (id) => document.getElementById(id);

  // ================================================================ helpers

  /** Lower-case, without diacritics: "Phường Ba Đình" → "phuong ba dinh". */
  function plain(text) {
    return String(text)
      .normalize("NFD")
      .replace(/[\u0300-\u036f]/g, "")
      .replace(/đ/g, "d")
      .replace(/Đ/g, "d")
      .toLowerCase()
      .replace(/\s+/g, " ")
      .trim();
  }

  function show(view) {
    el.loading.hidden = true;
    el.loginView.hidden = view !== "login";
    el.reportView.hidden = view !== "report";
    el.meLine.hidden = view !== "report";
    el.logout.hidden = view !== "report";
  }

  function status(text, kind) {
    el.status.textContent = text || "";
    el.status.hidden = !text;
    if (kind) el.status.dataset.kind = kind;
    else delete el.status.dataset.kind;
  }

  async function request(method, path, body) {
    const headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (method !== "GET" && state.csrf) headers["X-CSRF-Token"] = state.csrf;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS);
    try {
      return await fetch(API + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: "same-origin",
        cache: "no-store",
        signal: controller.signal,
      });
    } finally {
      clearTimeout(timer);
    }
  }

  /** The server's polite message for a failed response, or a general one. */
  async function problem(response) {
    if (response.status >= 500) return T.serverError;
    try {
      const data = await response.json();
      if (typeof data.detail === "string") return data.detail;
    } catch (_) {
      /* not JSON */
    }
    return T.generic;
  }

  function signedOut() {
    state.me = null;
    state.csrf = "";
    el.frame.removeAttribute("src");
    el.viewer.hidden = true;
    status("");
    showLogin(T.sessionEnded);
  }

  // ================================================================ sign-in

  function showLogin(message) {
    show("login");
    el.loginError.textContent = message || "";
    el.loginError.hidden = !message;
    el.username.focus();
  }

  async function login(event) {
    event.preventDefault();
    const username = el.username.value.trim();
    const password = el.password.value;
    if (!username || !password) {
      showLogin(T.needCredentials);
      return;
    }
    el.loginSubmit.disabled = true;
    el.loginSubmit.textContent = T.signingIn;
    try {
      const response = await request("POST", "/login", { username, password });
      if (!response.ok) {
        showLogin(await problem(response));
        return;
      }
      el.password.value = "";
      signedIn(await response.json());
    } catch (_) {
      showLogin(T.offline);
    } finally {
      el.loginSubmit.disabled = false;
      el.loginSubmit.textContent = T.signIn;
    }
  }

  async function logout() {
    try {
      await request("POST", "/logout");
    } catch (_) {
      /* the session ends with the page anyway */
    }
    el.password.value = "";
    signedOut();
    el.loginError.hidden = true;
  }

  // ================================================================ pickers

  function signedIn(me) {
    state.me = me;
    state.csrf = me.csrf;
    el.meName.textContent = me.name;
    el.meScope.textContent = me.scope.name;
    fillPlaces();
    fillMonths();
    el.viewer.hidden = true;
    status("");
    show("report");
  }

  function option(value, label) {
    const node = document.createElement("option");
    node.value = value;
    node.textContent = label;
    return node;
  }

  function fillPlaces() {
    const me = state.me;
    const province = me.scope.kind === "province";
    state.communes = me.communes
      .map((c) => ({ value: "commune:" + c.code, label: c.name, key: plain(c.name) + " " + c.code }))
      .sort((a, b) => a.label.localeCompare(b.label, "vi"));
    el.placeLabel.textContent = province ? T.placeLabel : T.communeLabel;
    el.placeSearch.hidden = !province;
    el.placeCount.hidden = !province;
    el.placeSearch.value = "";
    renderPlaces(province ? "province:" + me.scope.code : state.communes[0].value);
  }

  /** The options matching the search box; "Toàn tỉnh" always stays first. */
  function renderPlaces(selected) {
    const me = state.me;
    const words = plain(el.placeSearch.value).split(" ").filter(Boolean);
    const matching = state.communes.filter((c) => words.every((w) => c.key.includes(w)));
    const nodes = [];
    if (me.scope.kind === "province") {
      nodes.push(option("province:" + me.scope.code, T.wholeProvince + " – " + me.scope.name));
    }
    for (const c of matching) nodes.push(option(c.value, c.label));
    el.place.replaceChildren(...nodes);
    const values = nodes.map((n) => n.value);
    if (words.length && matching.length) el.place.value = matching[0].value;
    else if (values.includes(selected)) el.place.value = selected;
    if (me.scope.kind === "province") {
      el.placeCount.textContent = matching.length
        ? words.length
          ? "Tìm thấy " + matching.length + " xã, phường."
          : "Tỉnh có " + matching.length + " xã, phường."
        : T.noMatch;
    }
  }

  function fillMonths() {
    const nodes = state.me.months.map((m) => option(m.value, m.label));
    el.month.replaceChildren(...nodes);
    el.month.value = state.me.default_month;
  }

  function reportPath(format) {
    const [kind, code] = el.place.value.split(":");
    const query = new URLSearchParams({ [kind]: code, month: el.month.value, format });
    return "/report?" + query.toString();
  }

  // ================================================================ report

  function busy(on) {
    state.busy = on;
    for (const button of [el.show, el.xlsx, el.csv]) button.disabled = on;
  }

  async function stillSignedIn() {
    const response = await request("GET", "/me");
    if (response.status === 401) {
      signedOut();
      return false;
    }
    return response.ok;
  }

  async function showReport(event) {
    event.preventDefault();
    if (state.busy || !el.place.value) return;
    busy(true);
    status(T.building);
    try {
      if (!(await stillSignedIn())) return;
      const url = API + reportPath("html");
      el.viewer.hidden = true;
      el.openTab.href = url;
      el.frame.src = url;
    } catch (_) {
      status(T.offline, "error");
      busy(false);
    }
  }

  function reportLoaded() {
    if (!el.frame.getAttribute("src")) return;
    el.viewer.hidden = false;
    status(T.shown, "success");
    busy(false);
    el.status.scrollIntoView({ block: "start", behavior: "smooth" });
  }

  function attachmentName(response, format) {
    const header = response.headers.get("Content-Disposition") || "";
    const found = /filename="([^"]+)"/.exec(header);
    return found ? found[1] : "bao-cao." + format;
  }

  async function download(event) {
    const format = event.currentTarget.dataset.format;
    if (state.busy || !el.place.value) return;
    busy(true);
    status(T.buildingFile(FORMAT_LABELS[format]));
    try {
      const response = await request("GET", reportPath(format));
      if (response.status === 401) {
        signedOut();
        return;
      }
      if (!response.ok) {
        status(await problem(response), "error");
        return;
      }
      const name = attachmentName(response, format);
      const url = URL.createObjectURL(await response.blob());
      const link = document.createElement("a");
      link.href = url;
      link.download = name;
      link.hidden = true;
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60000);
      status(T.downloaded(name), "success");
    } catch (_) {
      status(T.offline, "error");
    } finally {
      busy(false);
    }
  }

  // ================================================================ start

  async function start() {
    try {
      const response = await request("GET", "/me");
      if (response.ok) signedIn(await response.json());
      else if (response.status === 401) showLogin("");
      else showLogin(await problem(response));
    } catch (_) {
      showLogin(T.offline);
    }
  }

  function init() {
    for (const [key, id] of Object.entries({
      loading: "loading",
      loginView: "login-view",
      loginForm: "login-form",
      loginError: "login-error",
      loginSubmit: "login-submit",
      username: "username",
      password: "password",
      reportView: "report-view",
      meLine: "me-line",
      meName: "me-name",
      meScope: "me-scope",
      logout: "logout",
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
    })) {
      el[key] = $(id);
    }
    el.placeLabel = document.querySelector('label[for="place"]');
    el.loginForm.addEventListener("submit", login);
    el.logout.addEventListener("click", logout);
    el.picker.addEventListener("submit", showReport);
    el.xlsx.addEventListener("click", download);
    el.csv.addEventListener("click", download);
    el.placeSearch.addEventListener("input", () => renderPlaces(el.place.value));
    el.frame.addEventListener("load", reportLoaded);
    start();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
