"""The synthetic activity of `cns seed-demo`: deterministic, marked synthetic, consistent with
what the gateway, actions, desk and announcement worker record, and removed without touching
real rows."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db import aware
from core.models import (
    Announcement,
    Delivery,
    DeliveryStatus,
    Event,
    EventType,
    FallbackText,
    Ticket,
    TicketState,
    Volunteer,
    VolunteerCommune,
)
from core.places import commune_by_code
from reports.demo import (
    DEMO_ACCOUNT,
    DEMO_LINK,
    DEMO_PREFIX,
    VOLUNTEER_MARK,
    clear_demo,
    demo_communes,
    seed_demo,
)
from reports.metrics import commune_report
from reports.model import LOCAL_TZ, Period

NOW = datetime(2026, 12, 2, 3, tzinfo=UTC)
PLACES = ("00004", "00008", "00025")


def _seed(session: Session, residents: int = 150, seed: int = 7) -> Any:
    made = seed_demo(session=session, commune_codes=PLACES, residents=residents, seed=seed, now=NOW)
    session.commit()
    return made


def _events(session: Session) -> list[Event]:
    return list(session.scalars(select(Event).order_by(Event.occurred_at, Event.id)))


ANNOUNCEMENT_EVENTS = {
    EventType.ANNOUNCEMENT_SENT,
    EventType.ANNOUNCEMENT_FAILED,
    EventType.ANNOUNCEMENT_REPLY,
}


def _snapshot(session: Session) -> list[tuple[Any, ...]]:
    """Every synthetic row's values; announcements by title and time, not by their ids."""
    notices = {
        str(row.id): (row.title, aware(row.send_at))
        for row in session.scalars(select(Announcement))
    }
    rows = session.execute(
        select(
            Event.occurred_at,
            Event.resident_id,
            Event.commune_code,
            Event.channel,
            Event.type,
            Event.key,
            Event.value,
        ).order_by(Event.occurred_at, Event.type, Event.resident_id)
    )
    texts = session.execute(select(FallbackText.text, FallbackText.resident_id))
    deliveries = session.execute(
        select(Delivery.announcement_id, Delivery.resident_id, Delivery.status, Delivery.reason)
    )
    events = [
        (*row[:5], notices[row.key] if row.type in ANNOUNCEMENT_EVENTS else row.key, row[6])
        for row in rows
    ]
    sent = sorted((notices[str(a)], *rest) for a, *rest in deliveries)
    return events + sorted(tuple(row) for row in texts) + sent


def test_same_seed_same_data_another_seed_other_data(session: Session) -> None:
    first = _seed(session)
    before = _snapshot(session)
    clear_demo(session=session)
    again = _seed(session)
    assert _snapshot(session) == before
    assert (again.events, again.tickets) == (first.events, first.tickets)
    clear_demo(session=session)
    _seed(session, seed=8)
    assert _snapshot(session) != before


def test_everything_is_marked_synthetic(session: Session) -> None:
    made = _seed(session)
    events = _events(session)
    assert len(events) == made.events > 5000
    assert all(event.synthetic for event in events)
    assert {event.commune_code for event in events} == set(PLACES)
    assert {event.channel for event in events} == {"zalo", "telegram", "web"}
    for event in events:
        assert event.resident_id.startswith(DEMO_PREFIX)
        assert len(event.resident_id) == 32
    texts = list(session.scalars(select(FallbackText)))
    assert len(texts) == made.fallback_texts > 0
    assert all(text.synthetic for text in texts)
    tickets = list(session.scalars(select(Ticket)))
    assert len(tickets) == made.tickets > 0
    assert {ticket.channel_user_id for ticket in tickets} == {DEMO_ACCOUNT}
    volunteers = list(session.scalars(select(Volunteer)))
    assert len(volunteers) == made.volunteers >= 2 * len(PLACES)
    assert all(volunteer.display_name.endswith(VOLUNTEER_MARK) for volunteer in volunteers)
    notices = list(session.scalars(select(Announcement)))
    assert len(notices) == made.announcements >= 6
    assert all(n.title.endswith(VOLUNTEER_MARK) and n.link == DEMO_LINK for n in notices)
    assert all(n.author_id is None for n in notices)
    deliveries = list(session.scalars(select(Delivery)))
    assert len(deliveries) == made.deliveries > 0
    assert all(delivery.resident_id.startswith(DEMO_PREFIX) for delivery in deliveries)


def test_deliveries_match_the_workers_events(session: Session) -> None:
    _seed(session)
    settled = {
        EventType.ANNOUNCEMENT_SENT: DeliveryStatus.SENT,
        EventType.ANNOUNCEMENT_FAILED: DeliveryStatus.FAILED,
    }
    from_events = sorted(
        (int(e.key or 0), e.resident_id, e.channel, settled[EventType(e.type)].value)
        for e in _events(session)
        if e.type in settled
    )
    deliveries = list(session.scalars(select(Delivery)))
    from_rows = sorted(
        (d.announcement_id, d.resident_id, d.channel, d.status)
        for d in deliveries
        if d.status != DeliveryStatus.UNREACHABLE
    )
    assert from_events == from_rows
    reasons = {(d.status, d.reason) for d in deliveries}
    assert (DeliveryStatus.UNREACHABLE, "zalo_48h") in reasons
    assert (DeliveryStatus.SENT, None) in reasons
    asked = [t for t in session.scalars(select(Ticket)) if t.reason == "announcement"]
    assert asked
    assert all(ticket.announcement_id is not None for ticket in asked)


def test_events_follow_the_flows(session: Session) -> None:
    _seed(session)
    by_resident: dict[str, list[Event]] = defaultdict(list)
    for event in _events(session):
        by_resident[event.resident_id].append(event)
    tickets = {ticket.id: ticket for ticket in session.scalars(select(Ticket))}
    teams: dict[str | None, set[int]] = defaultdict(set)
    for link in session.scalars(select(VolunteerCommune)):
        teams[link.commune_code].add(link.volunteer_id)
    for resident, own in by_resident.items():
        assert len([e for e in own if e.type.startswith("consent_")]) == 1, resident
        seen: set[tuple[str, object]] = set()
        for event in own:
            _check(event, seen, tickets, teams)
            seen |= {(event.type, event.key), (event.type, event.ticket_id)}
    for ticket in tickets.values():
        assert ticket.state in (TicketState.RESOLVED, TicketState.EXPIRED)
        assert ticket.closed_at is not None
        assert aware(ticket.closed_at) < NOW  # nothing is left open
        assert (ticket.claimed_at is None) == (ticket.state == TicketState.EXPIRED)


def _check(
    event: Event,
    seen: set[tuple[str, object]],
    tickets: dict[int, Ticket],
    teams: dict[str | None, set[int]],
) -> None:
    """One event against the resident's earlier ones (`seen`: (type, key) and (type, ticket))."""
    type_, key, value = EventType(event.type), event.key, event.value or 0.0
    if type_ in (EventType.UNSUBSCRIBED, EventType.ANNOUNCEMENT_SENT):
        assert (EventType.SUBSCRIBED, event.channel) in seen
    if type_ == EventType.ANNOUNCEMENT_REPLY:
        assert (EventType.ANNOUNCEMENT_SENT, key) in seen
    if type_ == EventType.SERVICE_COMPLETED:
        assert (EventType.SERVICE_STARTED, key) in seen
    if type_ in (EventType.SERVICE_STEP, EventType.SERVICE_STUCK):
        assert (EventType.SERVICE_STARTED, key) in seen
        assert value >= 1
    if type_ == EventType.LESSON_COMPLETED:
        assert (EventType.LESSON_STARTED, key) in seen
        assert 0 <= value <= 1
    if type_ == EventType.FALLBACK:
        assert 0.2 <= value <= 0.5
    if type_ in (EventType.HANDOFF_CLAIMED, EventType.HANDOFF_RESOLVED):
        assert event.ticket_id is not None
        assert (EventType.HANDOFF_REQUESTED, event.ticket_id) in seen
        ticket = tickets[event.ticket_id]
        assert ticket.resident_id == event.resident_id
        assert ticket.claimed_by in teams[ticket.commune_code]
        waited = aware(event.occurred_at) - aware(ticket.created_at)
        assert value == pytest.approx(waited.total_seconds())
    if type_ == EventType.CSAT:
        assert event.ticket_id is not None
        assert 1 <= value <= 5
        assert tickets[event.ticket_id].rating == value


def test_kept_words_only_after_consent_and_match_their_fallback(session: Session) -> None:
    _seed(session)
    fallbacks = {e.id: e for e in _events(session) if e.type == EventType.FALLBACK}
    consented = {
        e.resident_id: aware(e.occurred_at)
        for e in _events(session)
        if e.type == EventType.CONSENT_GIVEN
    }
    texts = list(session.scalars(select(FallbackText)))
    for text in texts:
        event = fallbacks[text.event_id]
        assert (text.resident_id, text.commune_code) == (event.resident_id, event.commune_code)
        assert aware(text.occurred_at) == aware(event.occurred_at)
        assert consented[text.resident_id] < aware(text.occurred_at)
        assert text.text.isascii()  # typed without diacritics


def test_a_believable_month(session: Session) -> None:
    made = _seed(session, residents=400)
    events = _events(session)
    assert aware(events[0].occurred_at) >= Period(2026, 9).start
    assert aware(events[-1].occurred_at) < NOW
    messages = [aware(e.occurred_at) for e in events if e.type == EventType.MESSAGE_IN]
    local = [moment.astimezone(LOCAL_TZ) for moment in messages]
    weekday = sum(moment.weekday() < 5 for moment in local) / len(local)
    daytime = sum(7 <= moment.hour < 22 for moment in local) / len(local)
    assert weekday > 0.75
    assert daytime > 0.85
    started = [e.key for e in events if e.type == EventType.SERVICE_STARTED]
    assert max(set(started), key=started.count) in ("vneid_activation", "health_insurance")
    ratings = [e.value or 0 for e in events if e.type == EventType.CSAT]
    assert sum(r >= 4 for r in ratings) / len(ratings) > 0.7
    moved = defaultdict(set)
    for event in events:
        moved[event.resident_id].add(event.commune_code)
    assert any(len(places) > 1 for places in moved.values())
    assert made.last_full_month == Period(2026, 11)
    report = commune_report(session=session, commune_code="00004", period=Period(2026, 11))
    assert report.synthetic
    assert report.current.residents >= 20
    assert report.previous.residents >= 20
    assert report.current.handoffs_expired + report.current.handoffs_resolved > 0
    assert report.volunteers
    assert report.missed
    assert report.lessons
    assert any(row.stuck_step is not None for row in report.services)
    assert [row.category for row in report.announcements] == ["warning", "event"]
    assert all(row.targeted > row.sent > 0 for row in report.announcements)
    assert sum(row.replies for row in report.announcements) > 0
    assert {row.channel for row in report.subscriptions} == {"zalo", "telegram", "web"}
    assert sum(row.subscribers for row in report.subscriptions) >= 20


def test_events_target_adds_residents_until_reached(session: Session) -> None:
    made = seed_demo(session=session, commune_codes=PLACES, residents=None, events=3000, now=NOW)
    assert 3000 <= made.events < 3300
    assert made.residents > 10


def test_clear_leaves_real_rows(session: Session) -> None:
    real_volunteer = Volunteer(display_name="Chị Hoa")
    session.add(real_volunteer)
    session.flush()
    session.add(VolunteerCommune(volunteer_id=real_volunteer.id, commune_code="00004"))
    real_ticket = Ticket(
        resident_id="a" * 32,
        channel="zalo",
        channel_user_id="123",
        commune_code="00004",
        reason="request_human",
        claimed_by=real_volunteer.id,
    )
    session.add(real_ticket)
    session.flush()
    real_event = Event(
        commune_code="00004",
        channel="zalo",
        resident_id="a" * 32,
        type=EventType.FALLBACK.value,
        ticket_id=real_ticket.id,
    )
    session.add(real_event)
    session.flush()
    session.add(FallbackText(event_id=real_event.id, resident_id="a" * 32, text="real words"))
    real_notice = Announcement(
        title="Lịch tiêm chủng (mô phỏng)",  # a staff member's, whatever its title
        text="Thứ Bảy",
        category="event",
        commune_code="00004",
        send_at=NOW,
        expires_at=NOW,
        author_id=None,
    )
    session.add(real_notice)
    session.commit()
    made = _seed(session)

    cleared = clear_demo(session=session)
    session.commit()

    assert (cleared.events, cleared.fallback_texts) == (made.events, made.fallback_texts)
    assert (cleared.tickets, cleared.volunteers) == (made.tickets, made.volunteers)
    assert cleared.announcements == made.announcements
    assert [n.id for n in session.scalars(select(Announcement))] == [real_notice.id]
    assert list(session.scalars(select(Delivery))) == []
    assert [e.id for e in _events(session)] == [real_event.id]
    assert [t.text for t in session.scalars(select(FallbackText))] == ["real words"]
    assert [t.id for t in session.scalars(select(Ticket))] == [real_ticket.id]
    assert [v.display_name for v in session.scalars(select(Volunteer))] == ["Chị Hoa"]
    assert len(list(session.scalars(select(VolunteerCommune)))) == 1


def test_demo_communes_start_with_ba_dinh() -> None:
    assert demo_communes("01", 3)[0] == "00004"
    assert all(commune_by_code(code).province.code == "79" for code in demo_communes("79", 4))  # type: ignore[union-attr]
    with pytest.raises(LookupError):
        demo_communes("00")
