"""Helpers for action tests: run an action, read its messages and buttons, read back the
metric events it recorded."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.flows import BUBBLE_LIMIT, MAX_BUBBLES
from core.db import session_scope
from core.models import EventType
from core.repositories.events import list_events


async def run_action(
    action: Action, tracker: Tracker, domain: dict[str, Any] | None = None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(events returned, messages sent) by one run of `action`."""
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker, domain or {})
    return events, dispatcher.messages


def recorded(resident: str, *types: EventType) -> list[tuple[str, str | None, float | None]]:
    """(type, key, value) of the resident's metric events, in order, optionally of some types."""
    with session_scope() as session:
        return [
            (e.type, e.key, e.value)
            for e in list_events(session=session, resident_id=resident)
            if not types or e.type in types
        ]


def texts(messages: list[dict[str, Any]]) -> list[str]:
    return [str(m["text"]) for m in messages if m.get("text")]


def titles(message: dict[str, Any]) -> list[str]:
    return [b["title"] for b in message.get("buttons") or []]


def payload_of(message: dict[str, Any], title: str) -> str:
    """The payload of the button called `title` (fails loudly when there is none)."""
    matches = [b["payload"] for b in message.get("buttons") or [] if b["title"] == title]
    assert matches, f"no button {title!r} in {titles(message)}"
    return str(matches[0])


QUESTION_END = re.compile(r"\?\s*(ạ)?\s*[^\w\s]*\s*$")


def is_question(message: dict[str, Any]) -> bool:
    """A bubble asks something: it has buttons, or its text ends with "?" (then "ạ", emoji)."""
    return bool(message.get("buttons")) or bool(QUESTION_END.search(str(message.get("text") or "")))


def assert_one_question_last(messages: list[dict[str, Any]]) -> None:
    """A turn an elderly resident can follow: at most MAX_BUBBLES bubbles of one screen each,
    one question, and it is the last bubble, with the choices."""
    assert 1 <= len(messages) <= MAX_BUBBLES, texts(messages)
    assert all(len(text) <= BUBBLE_LIMIT for text in texts(messages)), texts(messages)
    assert [is_question(m) for m in messages] == [False] * (len(messages) - 1) + [True], texts(
        messages
    )
