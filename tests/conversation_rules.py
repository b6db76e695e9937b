"""The rules every turn of the bot follows, so that an elderly resident can follow it, as code.

A turn is the bubbles the bot answers one message with: `{"text", "buttons"}` dicts as the
gateway's /api/chat returns them (`buttons`: `{"title", "payload"}` dicts, possibly absent).
`violations(turn)` names every rule the turn breaks:

- **few bubbles**: at most `MAX_BUBBLES`;
- **one question**: at most one bubble asks something. A bubble asks when it has buttons;
  when its text ends with a question mark, optionally followed only by "ạ", spaces or emoji
  ("Anh/chị ở xã nào ạ?", "Mình làm tiếp nhé? 🙂"); or when a sentence inside it ends with
  "ạ?" (the polite particle marks a question put to the resident: "anh/chị ở xã, phường nào
  ạ? Gõ tên là được"). Any other "?" inside a text does not count ("Quên mật khẩu? Bấm…");
- **current choices last**: when any bubble has buttons, the last bubble has buttons (the
  answer comes first, the choices the resident acts on now come last, where the eye is);
- **one phone screen**: no bubble over `SCREEN_CHARS` characters or `SCREEN_LINES` lines.

`assert_follows_rules` fails a test with the turn's texts and every violation.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

Bubble = Mapping[str, object]

MAX_BUBBLES = 4
# One phone screen at 360x740 CSS px in the web chat (the smallest common Android screen):
# the message log is 509 px high between the header and the composer, and one bot bubble in
# it shows at most 502 characters of step text, or 18 one-row lines (measured in headless
# Chromium with the chat's own CSS; tests/bot/test_first_turn_browser.py measures again and
# fails if the limits below stop fitting). 12 lines leave room for lines that wrap.
SCREEN_CHARS = 450
SCREEN_LINES = 12
# After a question mark: the polite particle, spaces, and emoji (with their joiners,
# variation selectors and skin tones).
_QUESTION_TAIL_CHARS = frozenset("ạẠ\u200d\ufe0f\u20e3")
_EMOJI_CATEGORIES = frozenset({"So", "Sk"})
QUESTION_MARKS = ("?", "？")
_POLITE_QUESTION = re.compile(r"[ạẠ]\s*[?？]")


@dataclass(frozen=True)
class Violation:
    """One rule a turn breaks; `bubble` is the 0-based index of the bubble concerned."""

    rule: str
    detail: str
    bubble: int | None = None

    def __str__(self) -> str:
        where = "" if self.bubble is None else f" (bubble {self.bubble + 1})"
        return f"{self.rule}{where}: {self.detail}"


def text_of(bubble: Bubble) -> str:
    return str(bubble.get("text") or "")


def buttons_of(bubble: Bubble) -> list[Mapping[str, str]]:
    """The bubble's buttons: `{"title", "payload"}` dicts."""
    buttons = bubble.get("buttons")
    return list(buttons) if isinstance(buttons, list) else []


def titles_of(bubble: Bubble) -> list[str]:
    return [str(button["title"]) for button in buttons_of(bubble)]


def has_buttons(bubble: Bubble) -> bool:
    return bool(buttons_of(bubble))


def _is_tail(char: str) -> bool:
    return (
        char.isspace()
        or char in _QUESTION_TAIL_CHARS
        or unicodedata.category(char) in _EMOJI_CATEGORIES
    )


def asks_in_words(text: str) -> bool:
    """Whether `text` ends with a question mark (then only "ạ", spaces or emoji), or has a
    sentence ending with "ạ?"."""
    rest = unicodedata.normalize("NFC", text)
    if _POLITE_QUESTION.search(rest):
        return True
    while rest and _is_tail(rest[-1]):
        rest = rest[:-1]
    return rest.endswith(QUESTION_MARKS)


def is_question(bubble: Bubble) -> bool:
    """Whether the bubble asks the resident something: buttons, or a question in words."""
    return has_buttons(bubble) or asks_in_words(text_of(bubble))


def _screen_violation(index: int, text: str) -> Violation | None:
    chars = len(unicodedata.normalize("NFC", text))
    lines = len(text.splitlines())
    if chars <= SCREEN_CHARS and lines <= SCREEN_LINES:
        return None
    return Violation(
        "one phone screen",
        f"{chars} characters, {lines} lines (at most {SCREEN_CHARS}, {SCREEN_LINES})",
        index,
    )


def violations(turn: Sequence[Bubble]) -> list[Violation]:
    """Every rule the turn breaks (none: an empty list)."""
    found: list[Violation] = []
    if len(turn) > MAX_BUBBLES:
        found.append(Violation("few bubbles", f"{len(turn)} bubbles (at most {MAX_BUBBLES})"))
    questions = [index for index, bubble in enumerate(turn) if is_question(bubble)]
    if len(questions) > 1:
        numbers = ", ".join(str(index + 1) for index in questions)
        found.append(Violation("one question", f"bubbles {numbers} each ask something"))
    with_buttons = [index for index, bubble in enumerate(turn) if has_buttons(bubble)]
    if with_buttons and not has_buttons(turn[-1]):
        found.append(
            Violation(
                "current choices last",
                f"the last bubble has no buttons, bubble {with_buttons[-1] + 1} has",
                len(turn) - 1,
            )
        )
    for index, bubble in enumerate(turn):
        screen = _screen_violation(index, text_of(bubble))
        if screen is not None:
            found.append(screen)
    return found


def describe(turn: Sequence[Bubble]) -> str:
    """The turn as a test failure shows it: each bubble's text and button titles."""
    lines = []
    for number, bubble in enumerate(turn, start=1):
        titles = titles_of(bubble)
        lines.append(f"  {number}. {text_of(bubble)!r}" + (f" {titles}" if titles else ""))
    return "\n".join(lines)


def assert_follows_rules(turn: Sequence[Bubble], what: str) -> None:
    """Fail with every rule `turn` (the bot's answer to `what`) breaks and its bubbles."""
    broken = violations(turn)
    assert not broken, (
        f"the answer to {what} breaks the conversation rules:\n"
        + "\n".join(f"- {v}" for v in broken)
        + f"\n{describe(turn)}"
    )
