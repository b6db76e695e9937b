/* Trợ lý Tổ Công nghệ số — web chat client.
 * Plain ES2017, no dependencies. Message text is only ever put in the page
 * with textContent / text nodes (never innerHTML).
 */
(function () {
  "use strict";

  var API_URL = "/api/chat";
  var PHOTO_URL = "/api/chat/photo";
  var MAX_PHOTO_BYTES = 10 * 1024 * 1024; // the server's cap (core.screens.MAX_IMAGE_BYTES)
  var UPDATES_URL = "/api/chat/updates";
  var UPDATES_EVERY_MS = 3000;
  var UPDATES_KEY = "cns.updates";
  var OLD_KEYS = ["cns.sender", "cns.updates.last"]; // before identities were issued by the server
  var TOKEN_HEADER = "X-Chat-Token";
  var MAX_LEN = 2000;
  var REQUEST_TIMEOUT_MS = 60000;

  var WELCOME_TEXT =
    "Dạ, em chào anh/chị! Anh/chị cần hỗ trợ gì ạ? Ví dụ: kích hoạt tài khoản định danh điện tử (VNeID), làm giấy khai sinh…";
  var STARTER_BUTTONS = [
    { title: "Kích hoạt VNeID", payload: "tôi muốn kích hoạt tài khoản định danh điện tử" },
    { title: "Bot giúp được gì?", payload: "bạn giúp được gì" },
    { title: "Gặp người hỗ trợ", payload: "tôi muốn gặp người hỗ trợ" },
  ];

  var TEXT_OFFLINE =
    "Dạ, hiện em chưa kết nối được tới máy chủ. Anh/chị vui lòng thử lại sau ít phút ạ.";
  var TEXT_TIMEOUT =
    "Dạ, máy chủ đang phản hồi chậm nên em chưa trả lời được. Anh/chị vui lòng thử lại sau ít phút ạ.";
  var TEXT_BUSY =
    "Dạ, hệ thống đang bận, em chưa trả lời được ngay. Anh/chị vui lòng thử lại sau ít phút ạ.";
  var TEXT_TOO_FAST =
    "Dạ, anh/chị gửi hơi nhanh ạ. Anh/chị đợi một chút rồi gửi tiếp giúp em nhé.";
  var TEXT_INVALID =
    "Dạ, tin nhắn chưa đúng định dạng hoặc dài quá " + MAX_LEN + " ký tự. Anh/chị kiểm tra lại giúp em ạ.";
  var TEXT_EMPTY_REPLY =
    "Dạ, em chưa có câu trả lời cho nội dung này. Anh/chị thử hỏi lại theo cách khác, hoặc chọn “Gặp người hỗ trợ” giúp em ạ.";
  var TEXT_PHOTO_TOO_LARGE =
    "Dạ, ảnh lớn quá (quá 10 MB) ạ. Anh/chị chụp màn hình rồi gửi lại giúp em.";
  var TEXT_PHOTO = "📷 Ảnh màn hình";
  var TEXT_PHOTO_ALT = "Ảnh anh/chị vừa gửi";
  var TEXT_RETRY = "Gửi lại";
  var TEXT_TYPING = "Đang trả lời…";
  var TEXT_NOT_SENT = "Chưa gửi được";
  var TEXT_RESENDING = "Đang gửi lại…";

  var log, form, input, sendBtn, counter, photoBtn, photoInput;
  var typingRow = null;
  var queue = [];
  var busy = false;
  var retryChips = []; // {text, chip}
  var reduceMotion =
    window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;

  // ---------------------------------------------------------------- identity
  // The server issues the resident's identity: the first message goes without one, the
  // reply carries it as `sender` and as an HttpOnly cookie, and the cookie does the work from
  // then on. The page also keeps the token in memory (never in storage) and sends it along,
  // so that a conversation holds together where cookies are blocked (e.g. the page embedded
  // in another site's frame).

  var token = null;

  function storageGet(key) {
    try {
      return window.localStorage ? window.localStorage.getItem(key) : null;
    } catch (e) {
      return null; // storage blocked (private mode, old WebView)
    }
  }

  function storageSet(key, value) {
    try {
      if (!window.localStorage) return;
      if (value === null) window.localStorage.removeItem(key);
      else window.localStorage.setItem(key, value);
    } catch (e) {
      /* ignore */
    }
  }

  OLD_KEYS.forEach(function (key) {
    storageSet(key, null);
  });

  /** The server named the resident: remember the token for this page only. */
  function adoptIdentity(sender) {
    if (typeof sender !== "string" || !sender) return;
    token = sender;
    // Only the token's public half (its id, no signature: not a credential) is stored, to
    // know which resident's numbering `updates.last` belongs to.
    var id = sender.split(".")[0];
    if (updates.of !== id) {
      updates = { of: id, last: 0 };
      saveUpdates();
    }
  }

  // ---------------------------------------------------------------- rendering

  var URL_RE = /\bhttps?:\/\/[^\s<>"'“”]+/gi;
  var TRAILING_PUNCT_RE = /[.,;:!?…)\]}»]+$/;

  /** Append `text` to `el` as text nodes, turning http(s) links into <a>. */
  function appendRichText(el, text) {
    var last = 0;
    var m;
    URL_RE.lastIndex = 0;
    while ((m = URL_RE.exec(text)) !== null) {
      var url = m[0];
      var trail = url.match(TRAILING_PUNCT_RE);
      if (trail) url = url.slice(0, url.length - trail[0].length);
      if (!url) continue;
      var safe = null;
      try {
        var parsed = new URL(url);
        if (parsed.protocol === "http:" || parsed.protocol === "https:") safe = parsed.href;
      } catch (e) {
        safe = null;
      }
      if (!safe) continue;
      if (m.index > last) el.appendChild(document.createTextNode(text.slice(last, m.index)));
      var a = document.createElement("a");
      a.href = safe;
      a.target = "_blank";
      a.rel = "noopener noreferrer";
      a.textContent = url;
      el.appendChild(a);
      last = m.index + url.length;
    }
    if (last < text.length) el.appendChild(document.createTextNode(text.slice(last)));
  }

  function makeRow(kind, srLabel) {
    var row = document.createElement("div");
    row.className = "row " + kind;
    if (srLabel) {
      var label = document.createElement("span");
      label.className = "sr-only";
      label.textContent = srLabel;
      row.appendChild(label);
    }
    return row;
  }

  /** Insert a row at the end of the log, keeping the typing indicator last. */
  function insertRow(row) {
    if (typingRow && typingRow.parentNode === log) log.insertBefore(row, typingRow);
    else log.appendChild(row);
  }

  function addUserBubble(text) {
    var row = makeRow("user", "Anh/chị: ");
    var bubble = document.createElement("div");
    bubble.className = "bubble";
    bubble.setAttribute("data-testid", "user-msg");
    bubble.textContent = text;
    row.appendChild(bubble);
    insertRow(row);
    scrollToBottom();
    return row;
  }

  /** The resident's photo: a thumbnail made on this phone (the image is not kept anywhere). */
  function addPhotoBubble(file) {
    var row = makeRow("user", "Anh/chị: ");
    var bubble = document.createElement("div");
    bubble.className = "bubble photo-msg";
    bubble.setAttribute("data-testid", "user-photo");
    if (window.URL && URL.createObjectURL) {
      var img = document.createElement("img");
      var url = URL.createObjectURL(file);
      img.alt = TEXT_PHOTO_ALT;
      img.className = "thumb";
      img.addEventListener("load", function () {
        URL.revokeObjectURL(url); // the picture stays on screen; the object URL is freed
        scrollToBottom();
      });
      img.addEventListener("error", function () {
        URL.revokeObjectURL(url);
        if (img.parentNode) img.parentNode.removeChild(img);
      });
      img.src = url;
      bubble.appendChild(img);
    }
    var caption = document.createElement("span");
    caption.className = "photo-caption";
    caption.textContent = TEXT_PHOTO;
    bubble.appendChild(caption);
    row.appendChild(bubble);
    insertRow(row);
    scrollToBottom();
    return row;
  }

  /**
   * One bot bubble. `notice` styles it as a system notice.
   * `buttons` become chips; `extraChips` are local chips ({title, onPress, className}).
   */
  function addBotMessage(text, buttons, notice, extraChips) {
    var row = makeRow(notice ? "bot notice" : "bot", notice ? "Thông báo: " : "Trợ lý: ");
    if (text) {
      var bubble = document.createElement("div");
      bubble.className = "bubble";
      bubble.setAttribute("data-testid", notice ? "notice" : "bot-msg");
      appendRichText(bubble, text);
      row.appendChild(bubble);
    }
    var chipSpecs = [];
    (buttons || []).forEach(function (b) {
      chipSpecs.push({
        title: b.title,
        onPress: function () {
          sendMessage(b.payload, b.title, false);
        },
      });
    });
    (extraChips || []).forEach(function (c) {
      chipSpecs.push(c);
    });
    if (chipSpecs.length) row.appendChild(makeChips(chipSpecs));
    if (!row.querySelector(".bubble, .chips")) return null;
    insertRow(row);
    return row;
  }

  function makeChips(specs) {
    var group = document.createElement("div");
    group.className = "chips";
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", "Lựa chọn nhanh");
    specs.forEach(function (spec) {
      var chip = document.createElement("button");
      chip.type = "button";
      chip.className = "chip" + (spec.className ? " " + spec.className : "");
      chip.setAttribute("data-testid", "chip");
      chip.textContent = spec.title;
      chip.addEventListener("click", function () {
        if (chip.disabled) return;
        disableChipGroup(group, chip);
        spec.onPress(chip);
      });
      if (spec.register) spec.register(chip);
      group.appendChild(chip);
    });
    return group;
  }

  function disableChipGroup(group, chosen) {
    var chips = group.querySelectorAll("button.chip");
    for (var i = 0; i < chips.length; i++) {
      chips[i].disabled = true;
      if (chips[i] === chosen) {
        chips[i].classList.add("chosen");
        chips[i].setAttribute("aria-pressed", "true");
      }
    }
  }

  function showTyping() {
    if (typingRow) return;
    typingRow = makeRow("bot typing");
    var bubble = document.createElement("div");
    bubble.className = "bubble";
    bubble.setAttribute("data-testid", "typing");
    bubble.textContent = TEXT_TYPING;
    typingRow.appendChild(bubble);
    log.appendChild(typingRow);
    scrollToBottom();
  }

  function hideTyping() {
    if (typingRow && typingRow.parentNode) typingRow.parentNode.removeChild(typingRow);
    typingRow = null;
  }

  function setStatus(row, text, pending) {
    if (!row) return;
    var el = row.querySelector(".status");
    if (!text) {
      if (el) el.parentNode.removeChild(el);
      return;
    }
    if (!el) {
      el = document.createElement("div");
      row.appendChild(el);
    }
    el.className = "status" + (pending ? " pending" : "");
    el.textContent = text;
  }

  // ---------------------------------------------------------------- scrolling

  function scrollToBottom() {
    if (!log) return;
    log.scrollTop = log.scrollHeight;
  }

  /** Scroll to the newest content. A reply that ends with choices (buttons) is scrolled to
   *  its end, so what the resident can do next is on screen (the conversation rules: the
   *  current choices come last); any other reply stops at the top of its first row (a long
   *  answer is then read from its beginning). */
  function scrollToReply(firstRow) {
    var bottom = log.scrollHeight - log.clientHeight;
    var target = bottom;
    var lastRow = log.lastElementChild;
    if (lastRow && lastRow === typingRow) lastRow = lastRow.previousElementSibling;
    var endsWithChoices = !!(lastRow && lastRow.querySelector(".chips"));
    if (firstRow && !endsWithChoices) {
      target = Math.min(bottom, Math.max(0, firstRow.offsetTop - 8));
    }
    if (target <= log.scrollTop) return;
    if (log.scrollTo && !reduceMotion) {
      try {
        log.scrollTo({ top: target, behavior: "smooth" });
        return;
      } catch (e) {
        /* old browsers: fall through */
      }
    }
    log.scrollTop = target;
  }

  // ---------------------------------------------------------------- network

  function normalizeMessages(data) {
    if (!data || !Array.isArray(data.messages)) return null;
    var out = [];
    data.messages.forEach(function (m) {
      if (!m || typeof m !== "object") return;
      var text = typeof m.text === "string" ? m.text : "";
      var buttons = [];
      if (Array.isArray(m.buttons)) {
        m.buttons.forEach(function (b) {
          if (!b || typeof b !== "object") return;
          var title = typeof b.title === "string" ? b.title.trim() : "";
          var payload = typeof b.payload === "string" ? b.payload : "";
          if (!title && !payload) return;
          buttons.push({ title: title || payload, payload: payload || title });
        });
      }
      if (text.trim() || buttons.length) out.push({ text: text, buttons: buttons });
    });
    return out;
  }

  function postChat(text) {
    return post(API_URL, {
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(token ? { sender: token, text: text } : { text: text }),
    });
  }

  /** The photo as a form (the browser sets the multipart boundary); the token goes along. */
  function postPhoto(file) {
    var data = new FormData();
    if (token) data.append("sender", token);
    data.append("photo", file, file.name || "anh.jpg");
    return post(PHOTO_URL, { headers: { Accept: "application/json" }, body: data });
  }

  async function post(url, request) {
    var ctrl = typeof AbortController === "function" ? new AbortController() : null;
    var timer = ctrl
      ? setTimeout(function () {
          ctrl.abort();
        }, REQUEST_TIMEOUT_MS)
      : null;
    try {
      var res = await fetch(url, {
        method: "POST",
        headers: request.headers,
        body: request.body,
        credentials: "same-origin",
        cache: "no-store",
        signal: ctrl ? ctrl.signal : undefined,
      });
      var data = null;
      try {
        data = await res.json();
      } catch (e) {
        data = null;
      }
      return { status: res.status, ok: res.ok, data: data, timeout: false };
    } catch (e) {
      return { status: 0, ok: false, data: null, timeout: !!(e && e.name === "AbortError") };
    } finally {
      if (timer) clearTimeout(timer);
    }
  }

  // ---------------------------------------------------------------- updates
  // Messages that arrive outside a request: a volunteer's replies during a handoff, and the
  // bot resuming afterwards. Numbered per resident; the last number seen is kept across
  // reloads. Asked for only once the page knows the resident has an identity.

  var updates = loadUpdates();

  function loadUpdates() {
    try {
      var saved = JSON.parse(storageGet(UPDATES_KEY) || "null");
      if (saved && typeof saved.of === "string" && typeof saved.last === "number") return saved;
    } catch (e) {
      /* ignore */
    }
    return { of: null, last: 0 };
  }

  function saveUpdates() {
    storageSet(UPDATES_KEY, updates.of ? JSON.stringify(updates) : null);
  }

  async function pollUpdates() {
    try {
      if (updates.of) await fetchUpdates();
    } catch (e) {
      /* offline for a moment: try again at the next tick */
    }
    setTimeout(pollUpdates, UPDATES_EVERY_MS);
  }

  async function fetchUpdates() {
    var headers = { Accept: "application/json" };
    if (token) headers[TOKEN_HEADER] = token;
    var res = await fetch(UPDATES_URL + "?after=" + updates.last, {
      headers: headers,
      credentials: "same-origin",
      cache: "no-store",
    });
    if (res.status === 401) {
      // The identity is gone (cookie expired or cleared): the next message starts a new one.
      token = null;
      updates = { of: null, last: 0 };
      saveUpdates();
      return;
    }
    if (res.ok) {
      var data = await res.json();
      var messages = normalizeMessages(data) || [];
      var firstRow = null;
      messages.forEach(function (m) {
        var r = addBotMessage(m.text, m.buttons, false);
        if (!firstRow) firstRow = r;
      });
      if (firstRow) scrollToReply(firstRow);
      if (typeof data.last === "number" && data.last > updates.last) {
        updates.last = data.last;
        saveUpdates();
      }
    }
  }

  // ---------------------------------------------------------------- queue

  /**
   * Send `text` to the bot. `display` is what the resident sees in their bubble
   * (a chip's title; the typed text otherwise). `typed` = came from the input box.
   */
  function sendMessage(text, display, typed) {
    text = String(text || "");
    if (text.normalize) text = text.normalize("NFC");
    if (!text.trim()) return;
    if (text.length > MAX_LEN) text = text.slice(0, MAX_LEN);
    cancelRetryChipsFor(text);
    var row = addUserBubble(display || text);
    enqueue({ text: text, row: row, typed: !!typed });
  }

  /** Send a photo the resident chose (a screenshot of an error, usually). */
  function sendPhoto(file) {
    if (!file) return;
    var row = addPhotoBubble(file);
    if (file.size > MAX_PHOTO_BYTES) {
      // Not uploaded at all: the server would refuse it, and mobile data is dear.
      setStatus(row, TEXT_NOT_SENT, false);
      scrollToReply(addBotMessage(TEXT_PHOTO_TOO_LARGE, [], true));
      return;
    }
    enqueue({ text: "", photo: file, row: row, typed: false });
  }

  function enqueue(job) {
    queue.push(job);
    pump();
  }

  async function pump() {
    if (busy) return;
    busy = true;
    try {
      while (queue.length) {
        var job = queue.shift();
        await runJob(job);
      }
    } finally {
      busy = false;
      hideTyping();
    }
  }

  async function runJob(job) {
    showTyping();
    var sentToken = token;
    var send = job.photo
      ? function () {
          return postPhoto(job.photo);
        }
      : function () {
          return postChat(job.text);
        };
    var result = await send();
    if (result.status === 401 && sentToken) {
      // The server no longer knows that identity (e.g. it changed its key): start afresh.
      token = null;
      result = await send();
    }
    hideTyping();
    if (result.data) adoptIdentity(result.data.sender);

    var messages = normalizeMessages(result.data);
    var firstRow = null;

    if (result.ok && messages) {
      setStatus(job.row, null);
      if (!messages.length) {
        firstRow = addBotMessage(TEXT_EMPTY_REPLY, [STARTER_BUTTONS[2]], true);
      } else {
        messages.forEach(function (m) {
          var r = addBotMessage(m.text, m.buttons, false);
          if (!firstRow) firstRow = r;
        });
      }
      scrollToReply(firstRow);
      return;
    }

    // ----- something went wrong: explain politely and let the resident resend
    var status = result.status;
    // Resending the same invalid text, or a photo the server refused, would not help.
    var canRetry = status !== 422 && !(job.photo && status >= 400 && status < 500 && status !== 429);
    setStatus(job.row, TEXT_NOT_SENT, false);

    var serverHasButtons = false;
    var notices = [];
    if (messages && messages.length) {
      notices = messages;
      serverHasButtons = messages.some(function (m) {
        return m.buttons.length > 0;
      });
    } else {
      notices = [{ text: fallbackText(result, job), buttons: [] }];
    }

    notices.forEach(function (m, i) {
      var extra = [];
      var isLast = i === notices.length - 1;
      if (isLast && canRetry && !serverHasButtons) extra.push(retryChipSpec(job));
      var r = addBotMessage(m.text, m.buttons, true, extra);
      if (!firstRow) firstRow = r;
    });

    // Keep what they typed, so they can fix it or just press "Gửi".
    if (job.typed && input && !input.value.trim()) {
      input.value = job.text;
      onInputChanged();
    }
    scrollToReply(firstRow);
  }

  function fallbackText(result, job) {
    if (result.timeout) return TEXT_TIMEOUT;
    if (job.photo && result.status === 413) return TEXT_PHOTO_TOO_LARGE;
    switch (result.status) {
      case 0:
        return TEXT_OFFLINE;
      case 422:
      case 413:
        return TEXT_INVALID;
      case 429:
        return TEXT_TOO_FAST;
      case 502:
      case 503:
      case 504:
        return TEXT_BUSY;
      default:
        return TEXT_OFFLINE;
    }
  }

  function retryChipSpec(job) {
    return {
      title: TEXT_RETRY,
      className: "retry",
      register: function (chip) {
        retryChips.push({ text: job.text, chip: chip });
      },
      onPress: function () {
        forgetRetryChip(job.text);
        // The text is being resent from here: don't leave a duplicate in the input box.
        if (input && input.value === job.text) {
          input.value = "";
          onInputChanged();
        }
        setStatus(job.row, TEXT_RESENDING, true);
        enqueue({ text: job.text, photo: job.photo, row: job.row, typed: job.typed });
      },
    };
  }

  function forgetRetryChip(text) {
    retryChips = retryChips.filter(function (r) {
      return r.text !== text;
    });
  }

  /** The resident re-sent the same text another way: old "Gửi lại" chips are moot. */
  function cancelRetryChipsFor(text) {
    retryChips.forEach(function (r) {
      if (r.text === text && r.chip.parentNode) disableChipGroup(r.chip.parentNode, null);
    });
    forgetRetryChip(text);
  }

  // ---------------------------------------------------------------- input box

  function autoGrow() {
    input.style.height = "auto";
    var max = 180;
    input.style.height = Math.min(input.scrollHeight + 4, max) + "px";
  }

  function onInputChanged() {
    var value = input.value;
    sendBtn.disabled = !value.trim();
    autoGrow();
    if (value.length >= MAX_LEN - 200) {
      counter.hidden = false;
      counter.textContent = value.length + "/" + MAX_LEN + " ký tự";
      counter.classList.toggle("full", value.length >= MAX_LEN);
    } else if (!counter.hidden) {
      counter.hidden = true;
      counter.textContent = "";
    }
  }

  function submitInput() {
    var text = input.value;
    if (!text.trim()) {
      onInputChanged();
      return;
    }
    input.value = "";
    onInputChanged();
    sendMessage(text.trim(), null, true);
  }

  // ---------------------------------------------------------------- start

  function init() {
    log = document.getElementById("log");
    form = document.getElementById("composer-form");
    input = document.getElementById("input");
    sendBtn = document.getElementById("send");
    counter = document.getElementById("counter");
    photoBtn = document.getElementById("photo");
    photoInput = document.getElementById("photo-input");
    if (!log || !form || !input || !sendBtn) return;

    if (photoBtn && photoInput && window.FormData) {
      photoBtn.hidden = false;
      photoBtn.addEventListener("click", function () {
        photoInput.click();
      });
      photoInput.addEventListener("change", function () {
        var file = photoInput.files && photoInput.files[0];
        photoInput.value = ""; // the same picture can be chosen again
        sendPhoto(file);
      });
    }

    input.maxLength = MAX_LEN;

    form.addEventListener("submit", function (e) {
      e.preventDefault();
      submitInput();
    });

    input.addEventListener("keydown", function (e) {
      if (e.key !== "Enter" || e.shiftKey || e.altKey || e.ctrlKey || e.metaKey) return;
      // Vietnamese IMEs (Telex/VNI) compose characters: never send mid-composition.
      if (e.isComposing || e.keyCode === 229) return;
      e.preventDefault();
      submitInput();
    });

    input.addEventListener("input", onInputChanged);

    // When the on-screen keyboard opens, keep the newest messages and the input in view.
    input.addEventListener("focus", function () {
      setTimeout(function () {
        scrollToBottom();
        if (input.scrollIntoView) {
          try {
            input.scrollIntoView({ block: "nearest" });
          } catch (e) {
            /* ignore */
          }
        }
      }, 300);
    });
    if (window.visualViewport) {
      var lastH = window.visualViewport.height;
      window.visualViewport.addEventListener("resize", function () {
        var h = window.visualViewport.height;
        if (h < lastH && document.activeElement === input) scrollToBottom();
        lastH = h;
      });
    }

    addBotMessage(
      WELCOME_TEXT,
      STARTER_BUTTONS.map(function (b) {
        return { title: b.title, payload: b.payload };
      }),
      false
    );
    onInputChanged();
    setTimeout(pollUpdates, UPDATES_EVERY_MS);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
