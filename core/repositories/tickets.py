"""Handoff tickets: open (one at a time per resident), claim (atomically, only by a volunteer
of the ticket's commune, or from the fallback desk for a ticket without one), close, rate; and
a resident's place in the queue."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.db import aware, rowcount
from core.models import ACTIVE_TICKET_STATES, Ticket, TicketReason, TicketState, utcnow
from core.privacy import mask_pii
from core.repositories.residents import has_consented
from core.repositories.ticket_messages import drop_words
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
    now: datetime | None = None,
    sla_from: datetime | None = None,
    announcement_id: int | None = None,
) -> tuple[Ticket, bool]:
    """A new open ticket, or the resident's active one (False) — never a second.

    `sla_from` is when the unclaimed-time clock starts (default: now); `announcement_id` the
    announcement the resident asks about (checked by the caller: one that reached them)."""
    now = now or utcnow()
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
        summary=mask_pii(summary),
        state=TicketState.OPEN,
        created_at=now,
        sla_from=sla_from or now,
        announcement_id=announcement_id,
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


def may_act(*, session: Session, ticket: Ticket, volunteer_id: int) -> bool:
    """True when the volunteer may see and act on the ticket: they serve its commune, or it
    has none and they claimed it (from the fallback desk)."""
    if ticket.commune_code is None and ticket.claimed_by == volunteer_id:
        return True
    return serves(session=session, volunteer_id=volunteer_id, commune_code=ticket.commune_code)


def claim_ticket(
    *,
    session: Session,
    ticket_id: int,
    volunteer_id: int,
    now: datetime | None = None,
    fallback_desk: bool = False,
) -> Claim:
    """Take an open ticket; exactly one of several simultaneous presses wins. With
    `fallback_desk` (pressed in TELEGRAM_DESK_CHAT_ID) a ticket without a commune may be taken
    by any volunteer on the roster."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise LookupError(f"no ticket {ticket_id}")
    unplaced = fallback_desk and ticket.commune_code is None
    if not unplaced and not may_act(session=session, ticket=ticket, volunteer_id=volunteer_id):
        raise NotYourCommune(f"volunteer {volunteer_id} does not serve {ticket.commune_code}")
    taken = rowcount(
        session,
        update(Ticket)
        .where(Ticket.id == ticket_id, Ticket.state == TicketState.OPEN)
        .values(state=TicketState.CLAIMED, claimed_by=volunteer_id, claimed_at=now or utcnow()),
    )
    session.refresh(ticket)
    return Claim(ticket=ticket, claimed=taken == 1)


def close_ticket(
    *, session: Session, ticket_id: int, state: TicketState, now: datetime | None = None
) -> Ticket | None:
    """Resolve, expire or cancel an active ticket; None when it was not active any more.

    Without the resident's consent their words live only as long as the ticket: its messages
    and summary go as it closes (with consent, RETENTION_DAYS later: `purge_closed`)."""
    if state not in CLOSED_STATES:
        raise ValueError(f"{state} is not a closing state")
    closed = rowcount(
        session,
        update(Ticket)
        .where(Ticket.id == ticket_id, Ticket.state.in_(ACTIVE_TICKET_STATES))
        .values(state=state, closed_at=now or utcnow()),
    )
    if not closed:
        return None
    ticket = session.get(Ticket, ticket_id)
    if ticket is not None:
        if not has_consented(session=session, resident_id=ticket.resident_id):
            drop_words(session=session, tickets=[ticket_id])
        session.refresh(ticket)
    return ticket


def rate_ticket(*, session: Session, ticket_id: int, rating: int) -> None:
    if not 1 <= rating <= 5:
        raise ValueError("a rating is 1 to 5")
    session.execute(update(Ticket).where(Ticket.id == ticket_id).values(rating=rating))


def _of_commune(commune_code: str | None) -> ColumnElement[bool]:
    """Tickets of the commune; those without a commune form a queue of their own."""
    if commune_code is None:
        return Ticket.commune_code.is_(None)
    return Ticket.commune_code == commune_code


def queue_position(*, session: Session, ticket: Ticket) -> int:
    """1 for the oldest open ticket of the commune; counts the open tickets up to this one."""
    ahead = session.scalar(
        select(func.count())
        .select_from(Ticket)
        .where(
            _of_commune(ticket.commune_code),
            Ticket.state == TicketState.OPEN,
            or_(
                Ticket.created_at < ticket.created_at,
                and_(Ticket.created_at == ticket.created_at, Ticket.id < ticket.id),
            ),
        )
    )
    return int(ahead or 0) + 1


def tickets_opened_since(*, session: Session, commune_code: str | None, since: datetime) -> int:
    """How many tickets the commune got since `since` (whatever became of them)."""
    count = session.scalar(
        select(func.count())
        .select_from(Ticket)
        .where(_of_commune(commune_code), Ticket.created_at >= since)
    )
    return int(count or 0)


def active_tickets(
    *, session: Session, communes: Iterable[str], unplaced: bool = False
) -> Sequence[Ticket]:
    """Open and claimed tickets of these communes (and, with `unplaced`, those without a
    commune): urgent first, then oldest first."""
    where: ColumnElement[bool] = Ticket.commune_code.in_(list(communes))
    if unplaced:
        where = or_(where, Ticket.commune_code.is_(None))
    return session.scalars(
        select(Ticket)
        .where(where, Ticket.state.in_(ACTIVE_TICKET_STATES))
        .order_by(Ticket.urgent.desc(), Ticket.created_at, Ticket.id)
    ).all()


def open_tickets(*, session: Session) -> Sequence[Ticket]:
    """Every unclaimed ticket (what the service-level timers look at)."""
    return session.scalars(
        select(Ticket).where(Ticket.state == TicketState.OPEN).order_by(Ticket.id)
    ).all()


class SlaStep(enum.StrEnum):
    REMINDED = "reminded_at"
    ESCALATED = "escalated_at"


def mark_sla_step(*, session: Session, ticket_id: int, step: SlaStep, now: datetime) -> bool:
    """Record a service-level step once; False when it was already taken (by this or another
    gateway) or the ticket is no longer open."""
    column = getattr(Ticket, step.value)
    taken = rowcount(
        session,
        update(Ticket)
        .where(Ticket.id == ticket_id, Ticket.state == TicketState.OPEN, column.is_(None))
        .values({step.value: now}),
    )
    return taken == 1


def typical_wait_minutes(*, session: Session, commune_code: str | None, default: int) -> int:
    """How long the commune's recent claimed tickets waited (median, whole minutes), or
    `default` when there is no history yet."""
    rows = session.execute(
        select(Ticket.sla_from, Ticket.claimed_at)
        .where(Ticket.commune_code == commune_code, Ticket.claimed_at.is_not(None))
        .order_by(Ticket.claimed_at.desc())
        .limit(21)
    ).all()
    waits = sorted(
        max(0.0, (aware(claimed) - aware(start)).total_seconds() / 60)
        for start, claimed in rows
        if claimed is not None
    )
    if not waits:
        return default
    return max(1, round(waits[len(waits) // 2]))
