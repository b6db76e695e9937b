"""Inbound updates: stored before acknowledged, processed once, payload dropped after."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
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
    """`store_update` for several (key, payload) pairs in one INSERT … ON CONFLICT DO NOTHING
    (one round trip): each pair's id, or None for a key already delivered (also earlier in
    the same batch)."""
    if not updates:
        return []
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    now = utcnow()
    rows = [
        {"channel": channel, "update_key": key, "payload": payload, "received_at": now}
        for key, payload in updates
    ]
    statement = (
        insert(InboundUpdate)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["channel", "update_key"])
        .returning(InboundUpdate.update_key, InboundUpdate.id)
    )
    stored = dict(session.execute(statement).tuples().all())
    ids: list[int | None] = []
    for key, _ in updates:
        ids.append(stored.pop(key, None))
    return ids


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
