"""Handoff tickets: open (one at a time per resident), claim (atomically, only by a volunteer
of the ticket's commune), close, rate; and a resident's place in the queue."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.db import rowcount
from core.models import ACTIVE_TICKET_STATES, Ticket, TicketReason, TicketState, utcnow
from core.repositories.volunteers import serves

CLOSED_STATES = (TicketState.RESOLVED, TicketState.EXPIRED, TicketState.CANCELLED)


class NotYourCommune(PermissionError):
    """A volunteer acted on a ticket of a commune they do not serve."""


@dataclass(frozen=True)
class Claim:
    """The outcome of pressing "Nhận hỗ trợ": who holds the ticket now."""

    ticket: Ticket
    claimed: bool  # True when this press took it


def active_ticket(*, session: Session, resident_id: str) -> Ticket | None:
    return session.scalars(
        select(Ticket).where(
            Ticket.resident_id == resident_id, Ticket.state.in_(ACTIVE_TICKET_STATES)
        )
    ).one_or_none()


def open_ticket(
    *,
    session: Session,
    resident_id: str,
    channel: str,
    channel_user_id: str,
    commune_code: str | None,
    reason: TicketReason,
    service: str | None = None,
    step: int | None = None,
    summary: str = "",
) -> tuple[Ticket, bool]:
    """A new open ticket, or the resident's active one (False) — never a second."""
    existing = active_ticket(session=session, resident_id=resident_id)
    if existing is not None:
        return existing, False
    ticket = Ticket(
        resident_id=resident_id,
        channel=channel,
        channel_user_id=channel_user_id,
        commune_code=commune_code,
        reason=reason,
        urgent=reason == TicketReason.SCAM,
        service=service,
        step=step,
        summary=summary,
        state=TicketState.OPEN,
        created_at=utcnow(),
    )
    try:
        with session.begin_nested():
            session.add(ticket)
    except IntegrityError:  # the same resident, a moment earlier, in another process
        raced = active_ticket(session=session, resident_id=resident_id)
        if raced is None:
            raise
        return raced, False
    return ticket, True


def claim_ticket(*, session: Session, ticket_id: int, volunteer_id: int) -> Claim:
    """Take an open ticket; exactly one of several simultaneous presses wins."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise LookupError(f"no ticket {ticket_id}")
    if not serves(session=session, volunteer_id=volunteer_id, commune_code=ticket.commune_code):
        raise NotYourCommune(f"volunteer {volunteer_id} does not serve {ticket.commune_code}")
    taken = rowcount(
        session,
        update(Ticket)
        .where(Ticket.id == ticket_id, Ticket.state == TicketState.OPEN)
        .values(state=TicketState.CLAIMED, claimed_by=volunteer_id, claimed_at=utcnow()),
    )
    session.refresh(ticket)
    return Claim(ticket=ticket, claimed=taken == 1)


def close_ticket(*, session: Session, ticket_id: int, state: TicketState) -> Ticket | None:
    """Resolve, expire or cancel an active ticket; None when it was not active any more."""
    if state not in CLOSED_STATES:
        raise ValueError(f"{state} is not a closing state")
    closed = rowcount(
        session,
        update(Ticket)
        .where(Ticket.id == ticket_id, Ticket.state.in_(ACTIVE_TICKET_STATES))
        .values(state=state, closed_at=utcnow()),
    )
    if not closed:
        return None
    ticket = session.get(Ticket, ticket_id)
    if ticket is not None:
        session.refresh(ticket)
    return ticket


def rate_ticket(*, session: Session, ticket_id: int, rating: int) -> None:
    if not 1 <= rating <= 5:
        raise ValueError("a rating is 1 to 5")
    session.execute(update(Ticket).where(Ticket.id == ticket_id).values(rating=rating))


def queue_position(*, session: Session, ticket: Ticket) -> int:
    """1 for the oldest open ticket of the commune; counts the open tickets up to this one."""
    commune = (
        Ticket.commune_code.is_(None)
        if ticket.commune_code is None
        else Ticket.commune_code == ticket.commune_code
    )
    ahead = session.scalar(
        select(func.count())
        .select_from(Ticket)
        .where(commune, Ticket.state == TicketState.OPEN, Ticket.created_at < ticket.created_at)
    )
    return int(ahead or 0) + 1
