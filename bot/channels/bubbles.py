"""A turn's bubbles as few platform messages as fit, for the paced channels (Telegram, Zalo).

The router answers with one bubble per idea; the web chat shows them as they are. Telegram and
Zalo pace a chat (one message a second), so a walkthrough start of eight bubbles would trickle
in for eight seconds: `join` puts consecutive bubbles into one message, a blank line between
them, while the text fits the platform's limit. A bubble with buttons ends its message (a
message carries one keyboard, under its last words), so buttons in the middle of a turn stay
with their own bubble and remain usable. A file or place goes alone, as it came. A bubble is cut
only when it alone is over the limit, after a sentence or line where possible.

Lengths are counted as Telegram and Zalo count them: in UTF-16 code units (an emoji is two).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.messages import Button, OutboundMessage

PARAGRAPH = "\n\n"
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\n+")


def size(text: str) -> int:
    """The length of `text` as the platforms count it (UTF-16 code units)."""
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


def _fitting(text: str, limit: int) -> int:
    """How many characters from the start of `text` fit in `limit` UTF-16 code units."""
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return index
    return len(text)


def split_text(text: str, limit: int) -> list[str]:
    """Pieces of at most `limit` code units, cut after a sentence or line where possible."""
    pieces: list[str] = []
    rest = text.strip()
    while size(rest) > limit:
        window = rest[: _fitting(rest, limit)]
        cuts = [m.end() for m in _SENTENCE_END.finditer(window)]
        cut = cuts[-1] if cuts else window.rfind(" ") + 1 or len(window)
        pieces.append(rest[:cut].strip())
        rest = rest[cut:].strip()
    return [*pieces, rest] if rest else pieces


def join(messages: Sequence[OutboundMessage], limit: int) -> list[OutboundMessage]:
    """The bubbles in order as few messages of at most `limit` code units as they fit in; a
    message ends after a bubble with buttons (which it carries) and around a file or place."""
    out: list[OutboundMessage] = []
    texts: list[str] = []

    def end(buttons: tuple[Button, ...] = ()) -> None:
        if texts or buttons:
            out.append(OutboundMessage(PARAGRAPH.join(texts), buttons))
        texts.clear()

    for message in messages:
        if message.attachment is not None:
            end()
            out.append(message)
            continue
        for piece in split_text(message.text, limit):
            if texts and size(PARAGRAPH.join([*texts, piece])) > limit:
                end()
            texts.append(piece)
        if message.buttons:
            end(message.buttons)
    end()
    return out
