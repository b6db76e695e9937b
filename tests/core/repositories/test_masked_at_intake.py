"""Every store of free text masks what it is given, whoever calls it: a ticket's summary, a
handoff message, the words of a question the bot missed (the PII corpus through each)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import EventType, FallbackText, MessageAuthor, Ticket, TicketMessage, TicketReason
from core.repositories.events import keep_fallback_text, record_event
from core.repositories.ticket_messages import add_message
from core.repositories.tickets import open_ticket
from tests.pii_corpus import CORPUS


def _leaks(stored: list[str]) -> list[tuple[str, list[str]]]:
    return [
        (sample.text, sample.leaks(text))
        for sample, text in zip(CORPUS, stored, strict=True)
        if sample.leaks(text)
    ]


def test_ticket_summaries_are_masked(session: Session) -> None:
    for number, sample in enumerate(CORPUS):
        open_ticket(
            session=session,
            resident_id=f"r{number}",
            channel="web",
            channel_user_id=f"web-{number}",
            commune_code="00004",
            reason=TicketReason.REQUEST_HUMAN,
            summary=f"Người dân nhắn gần đây:\n• {sample.text}",
        )
    session.commit()
    stored = session.scalars(select(Ticket.summary).order_by(Ticket.id)).all()
    assert _leaks(list(stored)) == []


def test_handoff_messages_are_masked(session: Session) -> None:
    ticket, _ = open_ticket(
        session=session,
        resident_id="r",
        channel="web",
        channel_user_id="web-r",
        commune_code="00004",
        reason=TicketReason.REQUEST_HUMAN,
    )
    for sample in CORPUS:
        add_message(
            session=session, ticket_id=ticket.id, author=MessageAuthor.RESIDENT, text=sample.text
        )
    session.commit()
    stored = session.scalars(select(TicketMessage.text).order_by(TicketMessage.id)).all()
    assert _leaks(list(stored)) == []


def test_missed_questions_are_masked(session: Session) -> None:
    for sample in CORPUS:
        event = record_event(
            session=session, type=EventType.FALLBACK, channel="web", resident_id="r"
        )
        keep_fallback_text(session=session, event=event, text=sample.text)
    session.commit()
    stored = session.scalars(select(FallbackText.text).order_by(FallbackText.id)).all()
    assert _leaks(list(stored)) == []
