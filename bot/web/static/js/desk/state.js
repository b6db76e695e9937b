/* What the desk's modules share: its elements (filled by main.js), its API client, its state
 * and the settings more than one module reads. */

import { createApi } from "../common/api.js";
import { noteServerClock } from "./clock.js";

export const api = createApi({ base: "/desk/api", timeoutMs: 20000, onResponse: noteServerClock });
export const el = {};
export const state = {
  me: null, // the signed-in volunteer
  tickets: [],
  listTimer: null,
  listSeq: 0, // bumps to ignore answers of a cancelled list poll
  current: null, // the open conversation, see newConversation() in conversation.js
  pushedHistory: false,
};
export const MAX_LEN = 2000; // of a reply
export const MESSAGES_EVERY_MS = 2000;
export const NARROW = window.matchMedia("(max-width: 799px)");
