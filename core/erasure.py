"""Erasing a resident's data on request (delete_my_data in chat, `cns forget` for staff), and
their words when they withdraw consent.

The profile, progress and announcement subscriptions are deleted. Events and announcement
deliveries keep the commune's counts but are moved to a fresh random id, so nothing left can
be linked to the resident or to each other's past.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import delete, select, text, update
from sqlalchemy.orm import Session

from core.db import make_engine, rowcount
from core.models import (
    ACTIVE_TICKET_STATES,
    Event,
    EventType,
    FallbackText,
    Progress,
    Resident,
    Ticket,
    TicketState,
    utcnow,
)
from core.repositories.announcements import unlink_deliveries
from core.repositories.events import record_event
from core.repositories.subscriptions import drop_subscriptions
from core.repositories.ticket_messages import drop_words
from core.repositories.tickets import CLOSED_STATES

ERASED_PREFIX = "erased-"
ALL_TICKETS = (*ACTIVE_TICKET_STATES, *CLOSED_STATES)


@dataclass(frozen=True)
class Erasure:
    """What an erasure removed; `anonymous_id` now holds the resident's unlinkable counts."""

    anonymous_id: str
    events_unlinked: int
    progress_deleted: int
    profile_deleted: bool


def erase_resident(*, session: Session, resident_id: str, channel: str) -> Erasure:
    """Erase the resident's profile, progress and subscriptions and unlink their events and
    announcement deliveries; records data_erased."""
    anonymous_id = ERASED_PREFIX + secrets.token_hex(12)
    resident = session.get(Resident, resident_id)
    commune = resident.commune_code if resident else None
    unlinked = rowcount(
        session,
        update(Event).where(Event.resident_id == resident_id).values(resident_id=anonymous_id),
    )
    progress = rowcount(session, delete(Progress).where(Progress.resident_id == resident_id))
    drop_subscriptions(session=session, resident_id=resident_id)
    unlink_deliveries(session=session, resident_id=resident_id, anonymous_id=anonymous_id)
    # Tickets keep their counts and times but lose everything that points at the person.
    forget_words(session=session, resident_id=resident_id, tickets=ALL_TICKETS)
    rowcount(
        session,
        update(Ticket)
        .where(Ticket.resident_id == resident_id, Ticket.state.in_(ACTIVE_TICKET_STATES))
        .values(state=TicketState.CANCELLED, closed_at=utcnow()),
    )
    rowcount(
        session,
        update(Ticket)
        .where(Ticket.resident_id == resident_id)
        .values(resident_id=anonymous_id, channel_user_id="", summary=""),
    )
    profile = rowcount(session, delete(Resident).where(Resident.id == resident_id))
    record_event(
        session=session,
        type=EventType.DATA_ERASED,
        channel=channel,
        resident_id=anonymous_id,
        commune_code=commune,
    )
    return Erasure(anonymous_id, unlinked, progress, bool(profile))


def forget_words(
    *, session: Session, resident_id: str, tickets: tuple[str, ...] = CLOSED_STATES
) -> int:
    """Delete the words kept of a resident (consent withdrawn): the questions the bot missed
    and the conversations and summaries of their tickets in these states — closed ones by
    default; an open ticket keeps its conversation until it closes, then loses it
    (`close_ticket`). Counts (events) stay. Returns how many kept texts went."""
    texts = rowcount(session, delete(FallbackText).where(FallbackText.resident_id == resident_id))
    theirs = select(Ticket.id).where(Ticket.resident_id == resident_id, Ticket.state.in_(tickets))
    return texts + drop_words(session=session, tickets=theirs)


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
