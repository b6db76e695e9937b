"""Plumbing shared by the actions: button payloads, entities, requests waiting for the
resident's answers, database work.

A button sends `/<intent>{json}`; Rasa reads the JSON as entities without the NLU model. The
entities name what the button is about (`service`, `lesson`, `step`…) so that an old button, a
double tap or a resident coming back days later always does the same, expected thing.
Payloads are ASCII and short (Telegram allows 64 bytes of callback data).

A turn is at most MAX_BUBBLES messages, each readable on one phone screen (BUBBLE_LIMIT
characters), and the last one carries the choices.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection, Iterable
from typing import Any, TypeVar

from rasa_sdk import Tracker

from core.db import session_scope
from nlu.controls import payload

T = TypeVar("T")
Button = dict[str, str]
BUBBLE_LIMIT = 450  # characters: one phone screen
MAX_BUBBLES = 4  # messages in one turn, on every channel
# The question that closes a turn with nothing else to choose (data/domain.yml).
ASK_HOW_TO_HELP = "utter_ask_how_to_help"


def button(title: str, intent: str, **entities: str | int) -> Button:
    return {"title": title, "payload": payload(intent, **entities)}


def bubbles(parts: Iterable[str], separator: str = "\n\n") -> list[str]:
    """`parts` in order, joined into as few messages of at most BUBBLE_LIMIT characters as
    they fit in (a part longer than that stays one message of its own)."""
    packed: list[str] = []
    for part in parts:
        if packed and len(packed[-1]) + len(separator) + len(part) <= BUBBLE_LIMIT:
            packed[-1] += separator + part
        else:
            packed.append(part)
    return packed


def intent_name(tracker: Tracker) -> str:
    """The intent of the latest message ("" when there is none)."""
    return str((tracker.latest_message.get("intent") or {}).get("name") or "")


def entity(tracker: Tracker, name: str) -> Any:
    """The value of the first `name` entity of the latest message, or None."""
    for item in tracker.latest_message.get("entities") or []:
        if item.get("entity") == name:
            return item.get("value")
    return None


def int_entity(tracker: Tracker, name: str) -> int | None:
    value = entity(tracker, name)
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def str_entity(tracker: Tracker, name: str) -> str | None:
    value = entity(tracker, name)
    return value if isinstance(value, str) and value else None


def request_waits(tracker: Tracker, slot: str, answers: Collection[str]) -> bool:
    """True while the request kept in `slot` waits for the resident: an action set the slot in
    this session, and every message since answered a question the request waits on (its intent
    is one of `answers`). Any other message abandoned it; so did the end of the session in
    which it was made (a slot carried over by `session_started`)."""
    if not tracker.get_slot(slot):
        return False
    set_here = False
    for event in reversed(tracker.events):
        kind = event.get("event")
        if kind == "session_started":
            return False  # carried over from an earlier session
        if set_here and kind == "action":
            return True
        if kind == "slot" and event.get("name") == slot:
            set_here = True
        elif kind == "user" and not set_here:
            intent = (event.get("parse_data") or {}).get("intent") or {}
            if intent.get("name") not in answers:
                return False
    return False


async def in_session(work: Callable[..., T]) -> T:
    """Run `work(session)` in a worker thread, in one transaction."""

    def _run() -> T:
        with session_scope() as session:
            return work(session)

    return await asyncio.to_thread(_run)
