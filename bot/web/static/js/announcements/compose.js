/* Writing an announcement: the form with its live character count, the live preview of what
 * each channel will show (POST /announcements/preview, a moment after typing stops), for
 * province staff the choice of the whole province or some of its communes (searchable without
 * diacritics), and saving the draft (POST /announcements).
 *
 *   const compose = createCompose({ api, say, onSaved });
 *   compose.setUp(me, categories)  fill the form for the signed-in staff member (GET /me) and
 *                                  the categories of GET /announcements
 *   onSaved(announcement)          called with the saved draft
 *   say(text, kind)                shows the page's status line ("success", "error")
 */

import { problemText } from "../common/api.js";
import { elementsById, make, plain } from "../common/dom.js";
import { T, TEXT_LIMIT, characters, count } from "./labels.js";
import { showPreview } from "./preview.js";

const PREVIEW_DELAY_MS = 400;

export function createCompose({ api, say, onSaved }) {
  const el = elementsById({
    form: "compose",
    title: "title",
    text: "text",
    textCount: "text-count",
    link: "link",
    category: "category",
    sendAt: "send-at",
    expiresAt: "expires-at",
    reachChoice: "reach-choice",
    wholeProvince: "whole-province",
    picker: "commune-picker",
    search: "commune-search",
    communeCount: "commune-count",
    communeList: "commune-list",
    error: "compose-error",
    save: "save",
    preview: "preview",
    previewNote: "preview-note",
  });
  const state = { me: null, communes: [], chosen: new Set(), timer: null, asked: 0 };
  const defaultNote = el.previewNote.textContent;

  function province() {
    return state.me && state.me.scope.kind === "province";
  }

  function someCommunes() {
    return province() && el.form.elements.reach.value === "communes";
  }

  function content() {
    return {
      title: el.title.value,
      text: el.text.value,
      link: el.link.value.trim() || null,
      category: el.category.value,
    };
  }

  // ------------------------------------------------------------ count and preview

  function showCount() {
    const used = characters(el.text.value);
    const over = used - TEXT_LIMIT;
    el.textCount.textContent =
      count(used) + "/" + count(TEXT_LIMIT) + " ký tự" + (over > 0 ? " – " + T.overLimit(over) : "");
    el.textCount.dataset.kind = over > 0 ? "error" : "";
  }

  function edited() {
    showCount();
    clearTimeout(state.timer);
    state.timer = setTimeout(preview, PREVIEW_DELAY_MS);
  }

  function note(text, kind) {
    el.previewNote.textContent = text;
    el.previewNote.dataset.kind = kind || "";
  }

  async function preview() {
    const asked = ++state.asked;
    const body = content();
    if (!body.title.trim() || !body.text.trim()) {
      el.preview.replaceChildren();
      note(defaultNote);
      return;
    }
    const result = await api.post("/announcements/preview", body);
    if (asked !== state.asked) return; // the text changed meanwhile
    if (result.ok && result.data) {
      note("");
      showPreview(el.preview, result.data.channels);
    } else {
      el.preview.replaceChildren();
      note(problemText(result), "error");
    }
  }

  // ------------------------------------------------------------ communes (province staff)

  function showCommunes() {
    el.picker.hidden = !someCommunes();
    const words = plain(el.search.value).split(" ").filter(Boolean);
    const matching = state.communes.filter((c) => words.every((w) => c.key.includes(w)));
    el.communeList.replaceChildren(
      ...matching.map((c) => {
        const label = make("label", "choice");
        const box = make("input");
        box.type = "checkbox";
        box.value = c.code;
        box.checked = state.chosen.has(c.code);
        label.append(box, " ", make("span", "", c.name));
        return label;
      }),
    );
    el.communeCount.textContent = matching.length
      ? T.chosen(state.chosen.size, matching.length)
      : T.noMatch;
  }

  function toggled(event) {
    const box = event.target;
    if (box.type !== "checkbox") return;
    if (box.checked) state.chosen.add(box.value);
    else state.chosen.delete(box.value);
    showCommunes();
  }

  // ------------------------------------------------------------ saving

  function failed(text) {
    el.error.textContent = text;
    el.error.hidden = !text;
  }

  async function save(event) {
    event.preventDefault();
    failed("");
    const body = {
      ...content(),
      send_at: el.sendAt.value || null,
      expires_at: el.expiresAt.value || null,
    };
    if (!body.title.trim() || !body.text.trim()) {
      failed(T.needTitleAndText);
      return;
    }
    if (someCommunes()) {
      if (!state.chosen.size) {
        failed(T.noCommunes);
        return;
      }
      body.province = state.me.scope.code;
      body.communes = Array.from(state.chosen);
    }
    el.save.disabled = true;
    const result = await api.post("/announcements", body);
    el.save.disabled = false;
    if (!result.ok || !result.data) {
      failed(problemText(result));
      return;
    }
    const made = result.data;
    say(made.waiting ? T.savedWaiting : made.may_approve ? T.savedApprove : T.saved, "success");
    clear();
    onSaved(made);
  }

  function clear() {
    el.form.reset();
    state.chosen.clear();
    el.search.value = "";
    failed("");
    showCount();
    showCommunes();
    el.preview.replaceChildren();
    note(defaultNote);
  }

  // ------------------------------------------------------------ set-up

  function setUp(me, categories) {
    const again = state.me !== null && state.me !== undefined; // signed in anew: start empty
    state.me = me;
    el.category.replaceChildren(
      ...categories.map((c) => {
        const option = make("option", "", c.label);
        option.value = c.value;
        return option;
      }),
    );
    el.reachChoice.hidden = !province();
    el.wholeProvince.textContent = T.wholeProvince(me.scope.name);
    state.communes = me.communes
      .map((c) => ({ code: c.code, name: c.name, key: plain(c.name) + " " + c.code }))
      .sort((a, b) => a.name.localeCompare(b.name, "vi"));
    if (again) {
      clear();
      return;
    }
    // First load: keep what was typed while the page was still loading.
    showCount();
    showCommunes();
    note(defaultNote);
  }

  el.form.addEventListener("submit", save);
  for (const field of [el.title, el.text, el.link, el.category]) {
    field.addEventListener("input", edited);
  }
  el.reachChoice.addEventListener("change", showCommunes);
  el.search.addEventListener("input", showCommunes);
  el.communeList.addEventListener("change", toggled);

  return { setUp };
}
