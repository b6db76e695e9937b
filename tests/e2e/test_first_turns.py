"""First turns an elderly resident can follow, on the real stack (trained Rasa, action server,
gateway): every flow type as a first-time resident, on the web chat (/api/chat) and on
Telegram (the fake Bot API), each turn checked against the conversation rules
(tests/conversation_rules.py: few bubbles, one question, the current choices last, one phone
screen per bubble).

A first message is a real training example of its intent, and the test checks NLU understood
it so (a rule checked on the wrong flow would prove nothing). On Telegram the gateway joins a
turn's bubbles into fewer messages (bot/channels/bubbles.py): a Telegram resident and a web
resident say the same things, the web resident's bubbles are what the router answered, and
Telegram must receive exactly those bubbles joined, the last message carrying the keyboard of
the current choices.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any

import pytest

from bot.channels.bubbles import join
from bot.channels.telegram_wire import MAX_TEXT
from bot.messages import Button, OutboundMessage
from bot.outbox import Limits
from core.content.services import SERVICES_DIR, load_service_guide
from core.privacy import pseudonymize
from tests.conversation_rules import (
    assert_follows_rules,
    buttons_of,
    describe,
    has_buttons,
    titles_of,
    violations,
)
from tests.domain import first_example
from tests.e2e.test_telegram_handoff import buttons, text_of
from tests.stack import PSEUDONYM_KEY, RunningStack

pytestmark = pytest.mark.e2e

JSON = dict[str, Any]
Message = dict[str, object]
WAIT = 60.0
QUIET = 3.0  # seconds without a new message: a turn sent all it had (paced 1 a second)
WALKTHROUGH = "birth_registration"  # has documents to prepare and a step with a link
DOCUMENTS = "Xem giấy tờ cần chuẩn bị"
NEXT, DONE = "Tiếp theo", "Xong rồi"
STUCK = "tôi bị kẹt"


@dataclass(frozen=True)
class Opening:
    """A first-time resident's first message and the intent NLU must understand it as."""

    name: str
    text: str
    intent: str


OPENINGS = [
    *(
        Opening(path.stem, first_example(f"service_{path.stem}"), f"service_{path.stem}")
        for path in sorted(SERVICES_DIR.glob("*.yml"))
    ),
    Opening("lesson", first_example("lesson_safe_passwords"), "lesson_safe_passwords"),
    Opening("greeting", "xin chào", "greet"),
    Opening("scam", first_example("report_scam"), "report_scam"),
    Opening("fallback", "", "nlu_fallback"),  # text: the stack's nonsense (see `_said`)
    Opening("handoff", first_example("request_human"), "request_human"),
]


def _said(stack: RunningStack, opening: Opening) -> Opening:
    """The opening as sent: the fallback one takes a message this model falls back on."""
    if opening.intent == "nlu_fallback":
        return replace(opening, text=stack.nonsense())
    return opening


def _understood(intents: list[tuple[str, str | None]], opening: Opening) -> None:
    said = [key for type_, key in intents if type_ == "intent"]
    assert opening.intent in said, f"{opening.text!r} was understood as {said}, not {opening}"


@pytest.mark.parametrize("opening", OPENINGS, ids=lambda opening: opening.name)
def test_a_first_message_on_the_web_follows_the_rules(
    stack: RunningStack, opening: Opening
) -> None:
    name = f"rules-web-{opening.name}"
    opening = _said(stack, opening)
    turn = stack.chat(name, opening.text)
    _understood(stack.events(name), opening)
    assert_follows_rules(turn, repr(opening.text))


def _start(stack: RunningStack, name: str) -> list[Message]:
    first = stack.chat(name, first_example(f"service_{WALKTHROUGH}"))
    assert ("service_started", WALKTHROUGH) in stack.events(name)
    return first


def test_stuck_on_the_web_follows_the_rules(stack: RunningStack) -> None:
    _start(stack, "rules-web-stuck")
    turn = stack.chat("rules-web-stuck", STUCK)
    assert ("service_stuck", WALKTHROUGH) in stack.events("rules-web-stuck")
    assert_follows_rules(turn, repr(STUCK))


def test_the_documents_button_on_the_web_follows_the_rules(stack: RunningStack) -> None:
    first = _start(stack, "rules-web-documents")
    turn = stack.press("rules-web-documents", first[-1], DOCUMENTS)
    assert_follows_rules(turn, DOCUMENTS)


def test_every_step_to_the_last_on_the_web_follows_the_rules(stack: RunningStack) -> None:
    turn = _start(stack, "rules-web-steps")
    for step in range(2, len(load_service_guide(WALKTHROUGH).steps) + 1):
        turn = stack.press("rules-web-steps", turn[-1], NEXT)
        assert_follows_rules(turn, f"{NEXT} to step {step}")
    turn = stack.press("rules-web-steps", turn[-1], DONE)
    assert ("service_completed", WALKTHROUGH) in stack.events("rules-web-steps")
    assert_follows_rules(turn, DONE)


def _joined(turn: list[Message]) -> list[tuple[str, list[tuple[str, str]]]]:
    """The turn as Telegram must receive it: (text, keyboard) of each joined message."""
    bubbles = [
        OutboundMessage(
            str(m["text"] or ""),
            tuple(Button(b["title"], b["payload"]) for b in buttons_of(m)),
        )
        for m in turn
    ]
    return [(m.text, [(b.title, b.payload) for b in m.buttons]) for m in join(bubbles, MAX_TEXT)]


@dataclass
class Twins:
    """A first-time Telegram resident and a first-time web resident saying the same things.
    `say` and `press` do a turn on both; `received` waits for Telegram's messages of the turn
    and returns what is wrong with the turn (nothing: an empty list)."""

    stack: RunningStack
    name: str
    user: JSON = field(init=False)
    web: str = field(init=False)
    turn: list[Message] = field(default_factory=list)  # the web resident's latest turn
    what: str = ""
    messages: list[JSON] = field(default_factory=list)  # Telegram's messages of that turn
    seen: int = 0

    def __post_init__(self) -> None:
        self.user = self.stack.telegram.user(f"Rules {self.name}")
        self.web = f"rules-twin-{self.name}"

    @property
    def resident_id(self) -> str:
        return pseudonymize("telegram", str(self.user["id"]), key=PSEUDONYM_KEY)

    def all(self) -> list[JSON]:
        return self.stack.telegram.sent(chat_id=self.user["id"])

    def say(self, text: str) -> None:
        self.turn, self.what = self.stack.chat(self.web, text), repr(text)
        self.stack.telegram.user_text(self.user, text)

    def press(self, title: str) -> list[str]:
        """Press `title` under the latest turn, on the web and on Telegram; what is wrong with
        the turn (see `received`), or that there is no such button."""
        if title not in titles_of(self.turn[-1]):
            return [f"after {self.what}: no button {title!r} in {describe(self.turn[-1:])}"]
        self.turn, self.what = self.stack.press(self.web, self.turn[-1], title), title
        found = [m for m in self.messages if title in [t for t, _ in buttons(m)]]
        assert found, f"no Telegram message with {title!r} in {self.messages}"
        self.stack.telegram.press(self.user, found[-1], text=title)
        return self.received()

    def _arrived(self, count: int) -> list[JSON]:
        """The turn's `count` new messages, or fewer if no more came for `QUIET` seconds."""
        deadline = time.monotonic() + WAIT
        last, since = len(self.all()), time.monotonic()
        while last < self.seen + count and time.monotonic() < deadline:
            time.sleep(0.05)
            if len(self.all()) != last:
                last, since = len(self.all()), time.monotonic()
            elif last > self.seen and time.monotonic() - since > QUIET:
                break
        arrived = self.all()[self.seen : self.seen + count]
        self.seen += len(arrived)
        return arrived

    def received(self) -> list[str]:
        expected = _joined(self.turn)
        self.messages = self._arrived(len(expected))
        got = [(text_of(m), buttons(m)) for m in self.messages]
        problems = [f"{self.what} on Telegram: {v}" for v in violations(self.turn)]
        last = got[-1][1] if got else None
        if any(has_buttons(m) for m in self.turn) and last != expected[-1][1]:
            problems.append(
                f"{self.what} on Telegram: the last message has {last}, "
                f"not the current choices {expected[-1][1]}"
            )
        elif got != expected:
            problems.append(f"{self.what}: Telegram got {got}, not\n{describe(self.turn)}")
        return problems


def _quiet_after(twins: list[Twins]) -> None:
    """Nothing more arrives after each chat's last turn (e.g. a late notice)."""
    time.sleep(2 * Limits().per_chat_interval)
    late = [twin.name for twin in twins if len(twin.all()) != twin.seen]
    assert not late, f"more Telegram messages came for {late}"


def test_first_messages_on_telegram_follow_the_rules(stack: RunningStack) -> None:
    """Every opening from its own Telegram resident at once: Telegram paces each chat, not
    the chats together."""
    twins = {_said(stack, opening): Twins(stack, opening.name) for opening in OPENINGS}
    for opening, twin in twins.items():
        twin.say(opening.text)
    problems: list[str] = []
    for opening, twin in twins.items():
        problems += twin.received()
        _understood(stack.events(twin.web), opening)
        _understood(stack.events_of_resident(twin.resident_id), opening)
    _quiet_after(list(twins.values()))
    assert not problems, "\n".join(problems)


def test_a_walkthrough_on_telegram_follows_the_rules(stack: RunningStack) -> None:
    """Stuck at step 1, on by typing, every step to the last and "Xong rồi"; then another
    resident's documents button."""
    walk = Twins(stack, "walkthrough")
    problems: list[str] = []
    for text in (first_example(f"service_{WALKTHROUGH}"), STUCK, "tiếp theo"):
        walk.say(text)
        problems += walk.received()
    for _ in range(3, len(load_service_guide(WALKTHROUGH).steps) + 1):  # step 3 to the last
        problems += walk.press(NEXT)
    problems += walk.press(DONE)
    assert ("service_completed", WALKTHROUGH) in stack.events_of_resident(walk.resident_id)

    documents = Twins(stack, "documents")
    documents.say(first_example(f"service_{WALKTHROUGH}"))
    problems += documents.received()
    problems += documents.press(DOCUMENTS)
    _quiet_after([walk, documents])
    assert not problems, "\n".join(problems)
