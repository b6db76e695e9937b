"""Erasing a resident's data on request (delete_my_data in chat, `cns forget` for staff).

The profile and progress are deleted. Events keep the commune's counts but are moved to a fresh
random id, so nothing left can be linked to the resident or to each other's past.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import CursorResult, delete, text, update
from sqlalchemy.orm import Session

from core.db import make_engine
from core.models import Event, EventType, Progress, Resident
from core.repositories.events import record_event

ERASED_PREFIX = "erased-"


@dataclass(frozen=True)
class Erasure:
    """What an erasure removed; `anonymous_id` now holds the resident's unlinkable counts."""

    anonymous_id: str
    events_unlinked: int
    progress_deleted: int
    profile_deleted: bool


def _rowcount(session: Session, statement: Any) -> int:
    return cast(CursorResult[Any], session.execute(statement)).rowcount or 0


def erase_resident(*, session: Session, resident_id: str, channel: str) -> Erasure:
    """Erase the resident's profile and progress and unlink their events; records data_erased."""
    anonymous_id = ERASED_PREFIX + secrets.token_hex(12)
    resident = session.get(Resident, resident_id)
    commune = resident.commune_code if resident else None
    unlinked = _rowcount(
        session,
        update(Event).where(Event.resident_id == resident_id).values(resident_id=anonymous_id),
    )
    progress = _rowcount(session, delete(Progress).where(Progress.resident_id == resident_id))
    profile = _rowcount(session, delete(Resident).where(Resident.id == resident_id))
    record_event(
        session=session,
        type=EventType.DATA_ERASED,
        channel=channel,
        resident_id=anonymous_id,
        commune_code=commune,
    )
    return Erasure(anonymous_id, unlinked, progress, bool(profile))


def erase_rasa_tracker(url: str, sender_id: str) -> int:
    """Delete a conversation from Rasa's SQL tracker store (its own `events` table)."""
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            result = connection.execute(
                text("DELETE FROM events WHERE sender_id = :sender"), {"sender": sender_id}
            )
            return result.rowcount or 0
    finally:
        engine.dispose()
