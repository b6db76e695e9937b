"""Factories for test objects (trackers, messages)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker


def make_tracker(
    intent: str,
    *,
    sender_id: str = "resident-1",
    channel: str | None = "web",
    text: str = "",
    slots: dict[str, Any] | None = None,
) -> Tracker:
    """A tracker whose latest message has `intent`, as the action server receives it."""
    metadata = {"channel": channel} if channel else {}
    return Tracker(
        sender_id=sender_id,
        slots=slots or {},
        latest_message={
            "intent": {"name": intent, "confidence": 0.97},
            "entities": [],
            "text": text,
            "metadata": metadata,
        },
        events=[],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )
