"""Recording and reading support-metric events."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from core.db import rowcount
from core.models import Event, EventType, FallbackText, utcnow
from core.privacy import mask_pii

FALLBACK_TEXT_LIMIT = 500


def record_event(
    *,
    session: Session,
    type: EventType,
    channel: str,
    resident_id: str,
    commune_code: str | None = None,
    key: str | None = None,
    value: float | None = None,
    ticket_id: int | None = None,
    occurred_at: datetime | None = None,
) -> Event:
    """Append one event; the caller's session commits it."""
    event = Event(
        type=type.value,
        channel=channel,
        resident_id=resident_id,
        commune_code=commune_code,
        key=key,
        value=value,
        ticket_id=ticket_id,
        occurred_at=occurred_at or utcnow(),
    )
    session.add(event)
    session.flush()
    return event


def record_events(
    *,
    session: Session,
    channel: str,
    resident_id: str,
    commune_code: str | None,
    rows: Sequence[tuple[EventType, str | None, float | None]],
) -> list[Event]:
    """Append (type, key, value) events of one resident at one moment, in order, with one
    flush; the caller's session commits them."""
    now = utcnow()
    events = [
        Event(
            type=type_.value,
            channel=channel,
            resident_id=resident_id,
            commune_code=commune_code,
            key=key,
            value=value,
            occurred_at=now,
        )
        for type_, key, value in rows
    ]
    session.add_all(events)
    session.flush()
    return events


def keep_fallback_text(*, session: Session, event: Event, text: str) -> FallbackText:
    """Keep the words (masked) of a message the bot did not understand, next to its fallback
    event. Only for residents who consented; erased with them and after retention."""
    kept = FallbackText(
        event_id=event.id,
        occurred_at=event.occurred_at,
        commune_code=event.commune_code,
        resident_id=event.resident_id,
        text=mask_pii(text.strip())[:FALLBACK_TEXT_LIMIT],
    )
    session.add(kept)
    session.flush()
    return kept


def kept_fallback_texts(
    *, session: Session, start: datetime, end: datetime
) -> Sequence[FallbackText]:
    """The kept (consented, masked) words of messages the bot did not understand in
    [start, end), oldest first; the synthetic ones of `cns seed-demo` left out."""
    query = (
        select(FallbackText)
        .where(
            FallbackText.occurred_at >= start,
            FallbackText.occurred_at < end,
            FallbackText.synthetic.is_(False),
        )
        .order_by(FallbackText.occurred_at, FallbackText.id)
    )
    return session.scalars(query).all()


def purge_fallback_texts(*, session: Session, before: datetime) -> int:
    """Delete kept fallback words older than `before` (RETENTION_DAYS)."""
    return rowcount(session, delete(FallbackText).where(FallbackText.occurred_at < before))


def list_events(
    *, session: Session, resident_id: str | None = None, type: EventType | None = None
) -> Sequence[Event]:
    """Events in the order they were recorded, optionally for one resident and/or type."""
    query = select(Event).order_by(Event.id)
    if resident_id is not None:
        query = query.where(Event.resident_id == resident_id)
    if type is not None:
        query = query.where(Event.type == type.value)
    return session.scalars(query).all()
