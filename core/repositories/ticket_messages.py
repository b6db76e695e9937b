"""A handoff conversation's messages: stored (masked) before they are relayed, and deleted with
the ticket's summary RETENTION_DAYS after it closes — at once when the resident has not
agreed to their words being kept (core/repositories/tickets.close_ticket)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import Select, delete, select, update
from sqlalchemy.orm import Session

from core.db import rowcount
from core.models import MessageAuthor, MessageKind, Ticket, TicketMessage, utcnow
from core.privacy import mask_pii

NOTE_PREFIX = "//"


def add_message(
    *,
    session: Session,
    ticket_id: int,
    author: MessageAuthor,
    text: str = "",
    kind: MessageKind = MessageKind.TEXT,
    volunteer_id: int | None = None,
    file_ref: str | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
    now: datetime | None = None,
) -> TicketMessage:
    """Store one message; its text is masked (ID and phone numbers, codes after "OTP")."""
    message = TicketMessage(
        ticket_id=ticket_id,
        author=author,
        volunteer_id=volunteer_id,
        kind=kind,
        text=mask_pii(text),
        file_ref=file_ref,
        latitude=latitude,
        longitude=longitude,
        created_at=now or utcnow(),
    )
    session.add(message)
    session.flush()
    return message


def mark_relayed(*, session: Session, message_id: int) -> None:
    session.execute(
        update(TicketMessage).where(TicketMessage.id == message_id).values(relayed_at=utcnow())
    )


def messages_of(*, session: Session, ticket_id: int, after: int = 0) -> Sequence[TicketMessage]:
    return session.scalars(
        select(TicketMessage)
        .where(TicketMessage.ticket_id == ticket_id, TicketMessage.id > after)
        .order_by(TicketMessage.id)
    ).all()


def drop_words(*, session: Session, tickets: Select[tuple[int]] | Iterable[int]) -> int:
    """Delete the messages and blank the summary of these tickets (ids, or a select of ids);
    returns how many messages went. Counts and times stay on the ticket."""
    ids = tickets if isinstance(tickets, Select) else list(tickets)
    gone = rowcount(session, delete(TicketMessage).where(TicketMessage.ticket_id.in_(ids)))
    session.execute(
        update(Ticket)
        .where(Ticket.id.in_(ids), Ticket.summary != "")
        .values(summary="")
        .execution_options(synchronize_session=False)
    )
    return gone


def purge_closed(*, session: Session, closed_before: datetime) -> int:
    """Delete the messages (and blank the summary) of tickets closed before `closed_before`;
    returns how many messages went."""
    old = select(Ticket.id).where(Ticket.closed_at.is_not(None), Ticket.closed_at < closed_before)
    return drop_words(session=session, tickets=old)
