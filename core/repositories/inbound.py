"""Inbound updates: stored before acknowledged, processed once, payload dropped after."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.models import InboundUpdate, utcnow


def store_update(*, session: Session, channel: str, key: str, payload: str) -> int | None:
    """Keep the update; its id, or None when this channel already delivered this key."""
    row = InboundUpdate(channel=channel, update_key=key, payload=payload, received_at=utcnow())
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return None
    return row.id


def store_updates(
    *, session: Session, channel: str, updates: Sequence[tuple[str, str]]
) -> list[int | None]:
    """`store_update` for several (key, payload) pairs in one transaction (one commit)."""
    return [
        store_update(session=session, channel=channel, key=key, payload=payload)
        for key, payload in updates
    ]


def mark_processed(*, session: Session, update_id: int) -> None:
    session.execute(
        update(InboundUpdate)
        .where(InboundUpdate.id == update_id)
        .values(processed_at=utcnow(), payload=None)
    )


def unprocessed(*, session: Session, channel: str) -> Sequence[InboundUpdate]:
    """Updates stored but not processed (a gateway stopped in between), oldest first."""
    return session.scalars(
        select(InboundUpdate)
        .where(InboundUpdate.channel == channel, InboundUpdate.processed_at.is_(None))
        .order_by(InboundUpdate.id)
    ).all()
