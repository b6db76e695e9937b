/* What each channel shows of an announcement: the `channels` of POST /admin/api/announcements/
 * preview or of an announcement's detail, drawn as that channel's message bubbles with their
 * buttons (the buttons are shown, not pressable).
 *
 *   showPreview(container, channels)  replace the container's content with one card a channel
 */

import { make } from "../common/dom.js";

function bubble(message) {
  const node = make("div", "bubble");
  node.append(make("p", "bubble-text", message.text));
  if (message.buttons.length) {
    const row = make("ul", "bubble-buttons");
    row.setAttribute("aria-label", "Nút bấm");
    for (const button of message.buttons) row.append(make("li", "bubble-button", button.title));
    node.append(row);
  }
  return node;
}

export function showPreview(container, channels) {
  const cards = channels.map((channel) => {
    const card = make("article", "channel-card");
    card.dataset.channel = channel.channel;
    const count = channel.messages.length;
    const head = make("h3", "channel-name", channel.name);
    const pieces = make("span", "channel-pieces", count === 1 ? "1 tin" : count + " tin");
    head.append(" ", pieces);
    card.append(head, ...channel.messages.map(bubble));
    return card;
  });
  container.replaceChildren(...cards);
}
