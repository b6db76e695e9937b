"""Helpers for action tests: run an action, read its messages and buttons, read back the
metric events it recorded."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from core.db import session_scope
from core.models import EventType
from core.repositories.events import list_events
from tests.conversation_rules import assert_follows_rules, describe, is_question


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


def assert_one_question_last(messages: list[dict[str, Any]]) -> None:
    """A turn an elderly resident can follow (tests/conversation_rules.py), whose one question
    is its last bubble, with the choices."""
    assert_follows_rules(messages, "the turn")
    assert is_question(messages[-1]), describe(messages)
