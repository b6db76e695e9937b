"""Tickets and the roster on SQLite and PostgreSQL: one active ticket per resident, claims only
by a volunteer of the commune and only once, closing, rating, the queue, erasure."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from core.erasure import erase_resident
from core.models import Ticket, TicketReason, TicketState, VolunteerRole
from core.repositories.tickets import (
    NotYourCommune,
    active_ticket,
    claim_ticket,
    close_ticket,
    open_ticket,
    queue_position,
    rate_ticket,
)
from core.repositories.volunteers import (
    add_volunteer,
    communes_of,
    list_volunteers,
    remove_volunteer,
    serves,
    volunteer_by_telegram,
)


def _open(
    session: Session,
    resident: str,
    commune: str | None = "00004",
    *,
    reason: TicketReason = TicketReason.REQUEST_HUMAN,
    service: str | None = None,
    step: int | None = None,
    summary: str = "",
) -> tuple[Ticket, bool]:
    return open_ticket(
        session=session,
        resident_id=resident,
        channel="telegram",
        channel_user_id=f"tg-{resident}",
        commune_code=commune,
        reason=reason,
        service=service,
        step=step,
        summary=summary,
    )


def test_roster_by_commune(session: Session) -> None:
    lan = add_volunteer(
        session=session, display_name="Lan", communes=["00004", "00008"], telegram_user_id=11
    )
    add_volunteer(session=session, display_name="Hùng", communes=["25819"], role=VolunteerRole.LEAD)
    session.commit()
    assert communes_of(session=session, volunteer_id=lan.id) == {"00004", "00008"}
    assert [v.display_name for v in list_volunteers(session=session, commune_code="00004")] == [
        "Lan"
    ]
    assert len(list_volunteers(session=session)) == 2
    assert volunteer_by_telegram(session=session, telegram_user_id=11) == lan
    assert serves(session=session, volunteer_id=lan.id, commune_code="00008")
    assert not serves(session=session, volunteer_id=lan.id, commune_code="25819")
    assert not serves(session=session, volunteer_id=lan.id, commune_code=None)
    assert remove_volunteer(session=session, volunteer_id=lan.id)
    session.commit()
    assert not remove_volunteer(session=session, volunteer_id=lan.id)
    assert list_volunteers(session=session, commune_code="00004") == []


def test_one_active_ticket_per_resident(session: Session) -> None:
    first, created = _open(
        session, "r1", service="birth_registration", step=2, summary="kẹt bước 2"
    )
    session.commit()
    assert created
    assert (first.state, first.urgent, first.service, first.step) == (
        "open",
        False,
        "birth_registration",
        2,
    )
    again, created_again = _open(session, "r1")
    assert (again.id, created_again) == (first.id, False)
    assert active_ticket(session=session, resident_id="r1") == first

    close_ticket(session=session, ticket_id=first.id, state=TicketState.RESOLVED)
    session.commit()
    assert active_ticket(session=session, resident_id="r1") is None
    later, created_later = _open(session, "r1")
    assert created_later
    assert later.id != first.id


def test_scam_tickets_are_urgent(session: Session) -> None:
    ticket, _ = _open(session, "r2", reason=TicketReason.SCAM)
    assert ticket.urgent


def test_only_a_volunteer_of_the_commune_claims_and_only_once(session: Session) -> None:
    lan = add_volunteer(session=session, display_name="Lan", communes=["00004"])
    mai = add_volunteer(session=session, display_name="Mai", communes=["00004"])
    other = add_volunteer(session=session, display_name="Tú", communes=["25819"])
    ticket, _ = _open(session, "r3")
    session.commit()

    with pytest.raises(NotYourCommune):
        claim_ticket(session=session, ticket_id=ticket.id, volunteer_id=other.id)
    first = claim_ticket(session=session, ticket_id=ticket.id, volunteer_id=lan.id)
    second = claim_ticket(session=session, ticket_id=ticket.id, volunteer_id=mai.id)
    session.commit()
    assert first.claimed
    assert not second.claimed
    assert second.ticket.claimed_by == lan.id
    assert second.ticket.state == TicketState.CLAIMED
    assert second.ticket.claimed_at is not None


def test_closing_is_once_and_rating_is_bounded(session: Session) -> None:
    ticket, _ = _open(session, "r4")
    session.commit()
    closed = close_ticket(session=session, ticket_id=ticket.id, state=TicketState.EXPIRED)
    assert closed is not None
    assert (closed.state, closed.closed_at is not None) == ("expired", True)
    assert close_ticket(session=session, ticket_id=ticket.id, state=TicketState.RESOLVED) is None
    with pytest.raises(ValueError, match="closing state"):
        close_ticket(session=session, ticket_id=ticket.id, state=TicketState.CLAIMED)
    rate_ticket(session=session, ticket_id=ticket.id, rating=5)
    session.commit()
    session.refresh(ticket)
    assert ticket.rating == 5
    with pytest.raises(ValueError, match="1 to 5"):
        rate_ticket(session=session, ticket_id=ticket.id, rating=6)


def test_queue_position_counts_open_tickets_of_the_commune(session: Session) -> None:
    first, _ = _open(session, "q1")
    second, _ = _open(session, "q2")
    elsewhere, _ = _open(session, "q3", commune="25819")
    session.commit()
    assert queue_position(session=session, ticket=first) == 1
    assert queue_position(session=session, ticket=second) == 2
    assert queue_position(session=session, ticket=elsewhere) == 1
    close_ticket(session=session, ticket_id=first.id, state=TicketState.CANCELLED)
    session.commit()
    assert queue_position(session=session, ticket=second) == 1


def test_erasure_cancels_and_unlinks_the_residents_tickets(session: Session) -> None:
    ticket, _ = _open(session, "e1", summary="số [số điện thoại]")
    session.commit()
    erasure = erase_resident(session=session, resident_id="e1", channel="telegram")
    session.commit()
    session.refresh(ticket)
    assert (ticket.resident_id, ticket.channel_user_id, ticket.summary) == (
        erasure.anonymous_id,
        "",
        "",
    )
    assert ticket.state == TicketState.CANCELLED
    assert active_ticket(session=session, resident_id="e1") is None
