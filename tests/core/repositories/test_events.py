"""Recording and listing events, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from core.models import EventType
from core.repositories.events import list_events, record_event


def test_record_and_list_in_order(session: Session) -> None:
    record_event(session=session, type=EventType.MESSAGE_IN, channel="web", resident_id="r1")
    record_event(
        session=session,
        type=EventType.INTENT,
        channel="web",
        resident_id="r1",
        key="greet",
        value=0.93,
    )
    record_event(
        session=session,
        type=EventType.MESSAGE_IN,
        channel="zalo",
        resident_id="r2",
        commune_code="00004",
    )
    session.commit()

    events = list_events(session=session, resident_id="r1")
    assert [(e.type, e.key, e.value) for e in events] == [
        ("message_in", None, None),
        ("intent", "greet", 0.93),
    ]
    other = list_events(session=session, type=EventType.MESSAGE_IN)
    assert [(e.resident_id, e.channel, e.commune_code) for e in other] == [
        ("r1", "web", None),
        ("r2", "zalo", "00004"),
    ]


def test_explicit_time_is_kept(session: Session) -> None:
    when = datetime(2026, 6, 30, 17, 30, tzinfo=UTC)  # 1 July 00:30 in Vietnam
    record_event(
        session=session,
        type=EventType.CSAT,
        channel="telegram",
        resident_id="r",
        value=5,
        ticket_id=42,
        occurred_at=when,
    )
    session.commit()
    (event,) = list_events(session=session, type=EventType.CSAT)
    stored = (
        event.occurred_at if event.occurred_at.tzinfo else event.occurred_at.replace(tzinfo=UTC)
    )
    assert stored == when
    assert event.ticket_id == 42
    assert event.value == 5
