"""Recording support-metric events from inside an action, using the tracker's context."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from sqlalchemy.orm import Session

from actions.flows import in_session
from core.models import EventType
from core.repositories.events import record_event
from core.repositories.residents import commune_of

UNKNOWN_CHANNEL = "unknown"
COMMUNE_SLOT = "commune_code"


def tracker_channel(tracker: Tracker) -> str:
    """The channel the gateway named in the message metadata."""
    metadata: dict[str, Any] = tracker.latest_message.get("metadata") or {}
    channel = metadata.get("channel")
    return channel if isinstance(channel, str) and channel else UNKNOWN_CHANNEL


def tracker_commune(tracker: Tracker) -> str | None:
    """The commune code in the conversation's slot, if the resident gave it."""
    value = tracker.slots.get(COMMUNE_SLOT)
    return value if isinstance(value, str) else None


def record_for_tracker(
    session: Session,
    tracker: Tracker,
    type: EventType,
    *,
    key: str | None = None,
    value: float | None = None,
) -> None:
    """Append an event for the tracker's resident (the sender id is already a pseudonym)."""
    commune = tracker_commune(tracker) or commune_of(session=session, resident_id=tracker.sender_id)
    record_event(
        session=session,
        type=type,
        channel=tracker_channel(tracker),
        resident_id=tracker.sender_id,
        commune_code=commune,
        key=key,
        value=value,
    )


async def record_tracker_event(
    tracker: Tracker, type: EventType, *, key: str | None = None, value: float | None = None
) -> None:
    """`record_for_tracker` in its own transaction."""
    await in_session(
        lambda session: record_for_tracker(session, tracker, type, key=key, value=value)
    )
