/* Thông báo cho người dân — the announcements page (announcements.html): sign-in through the
 * shared account module, then the form with its preview (compose.js) and the list with each
 * announcement's detail (list.js). JSON API under /admin/api. Server text reaches the page
 * through textContent only.
 */

import { createAccount } from "../common/account.js";
import { createApi } from "../common/api.js";
import { elementsById } from "../common/dom.js";
import { createCompose } from "./compose.js";
import { createList } from "./list.js";

const el = elementsById({
  view: "announce-view",
  status: "status",
  meName: "me-name",
  meScope: "me-scope",
});

function say(text, kind) {
  el.status.textContent = text || "";
  el.status.hidden = !text;
  el.status.dataset.kind = kind || "";
}

const api = createApi({ base: "/admin/api" });
const list = createList({ api, say });
const compose = createCompose({ api, say, onSaved: () => list.refresh() });

async function signedIn(me) {
  el.meName.textContent = me.name;
  el.meScope.textContent = me.scope.name;
  say("");
  const data = await list.refresh();
  if (data) compose.setUp(me, data.categories);
}

const account = createAccount({
  api,
  main: el.view,
  onSignedIn: signedIn,
  onSignedOut: () => {
    list.close();
    say("");
  },
  onError: (text) => say(text, "error"),
});

account.start();
