/* Signing in to and out of a staff page, and the session check on load: the account routes of
 * bot/web/sessions.py under the page's API (GET /me, POST /login, POST /logout).
 *
 * The page's HTML holds the shared shell: #loading, #login-view with #login-form (#username,
 * #password, #login-error, #login-submit), and in the header #me-line and #logout.
 *
 *   const account = createAccount({ api, main, onSignedIn, onSignedOut, onError });
 *   account.start()        "Đang tải…", then GET /me: the page when signed in, else the form;
 *                          while the server cannot be reached it asks again every 5 s
 *   account.signOut(text)  forget the session (onSignedOut()) and show the form with `text`
 *   account.me             the signed-in account (the JSON of /me or /login), or null
 *
 * `api` comes from api.js; its CSRF token is set here, and any 401 signs out. `main` is the
 * page's own view, shown with #me-line and #logout once signed in; `onSignedIn(me)` fills it.
 * `onError(text)` shows a polite text when signing out fails. document.body.dataset.view is
 * "loading", "login" or "signed-in".
 */

import { elementsById } from "./dom.js";
import { problemText } from "./api.js";

const RETRY_ME_MS = 5000;
const T = {
  loading: "Đang tải…",
  connecting: "Chưa kết nối được máy chủ, đang thử lại…",
  needCredentials: "Anh/chị vui lòng nhập tên đăng nhập và mật khẩu.",
  signingIn: "Đang đăng nhập…",
  signIn: "Đăng nhập",
};

export function createAccount({ api, main, onSignedIn, onSignedOut, onError }) {
  const el = elementsById({
    loading: "loading",
    loginView: "login-view",
    loginForm: "login-form",
    username: "username",
    password: "password",
    loginError: "login-error",
    loginSubmit: "login-submit",
    meLine: "me-line",
    logout: "logout",
  });
  const baseTitle = document.title;
  const account = { me: null, start, signOut };
  let retryTimer = null;

  el.loginForm.addEventListener("submit", submit);
  el.logout.addEventListener("click", logout);

  function setView(name) {
    el.loading.hidden = name !== "loading";
    el.loginView.hidden = name !== "login";
    for (const node of [main, el.meLine, el.logout]) node.hidden = name !== "signed-in";
    document.body.dataset.view = name;
  }

  function showLoading(text) {
    el.loading.textContent = text;
    setView("loading");
  }

  function showForm(message) {
    setView("login");
    setLoginError(message || "");
    el.loginSubmit.disabled = false;
    el.loginSubmit.textContent = T.signIn;
    document.title = T.signIn + " – " + baseTitle;
    (el.username.value ? el.password : el.username).focus();
  }

  function setLoginError(text) {
    el.loginError.textContent = text;
    el.loginError.hidden = !text;
  }

  async function start() {
    clearTimeout(retryTimer);
    showLoading(T.loading);
    await check();
  }

  async function check() {
    const result = await api.call("GET", "/me");
    if (result.ok && result.data) {
      enter(result.data);
    } else if (result.status === 401) {
      showForm("");
    } else {
      showLoading(T.connecting);
      retryTimer = setTimeout(check, RETRY_ME_MS);
    }
  }

  function enter(me) {
    account.me = me;
    api.csrf = typeof me.csrf === "string" ? me.csrf : "";
    api.onUnauthorized = signOut;
    el.password.value = "";
    document.title = baseTitle;
    setView("signed-in");
    onSignedIn(me);
  }

  function signOut(message) {
    account.me = null;
    api.csrf = "";
    api.onUnauthorized = null;
    onSignedOut();
    showForm(message);
  }

  async function submit(event) {
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
    const result = await api.call("POST", "/login", { username, password });
    el.loginSubmit.disabled = false;
    el.loginSubmit.textContent = T.signIn;
    if (result.ok && result.data) {
      enter(result.data);
      return;
    }
    setLoginError(problemText(result));
    el.password.select();
    el.password.focus();
  }

  async function logout() {
    el.logout.disabled = true;
    const result = await api.post("/logout");
    el.logout.disabled = false;
    if (result.ok) signOut("");
    else if (result.status === 401) setLoginError(""); // api.js has signed out already
    else {
      onError(problemText(result));
      return;
    }
    el.password.value = "";
  }

  return account;
}
