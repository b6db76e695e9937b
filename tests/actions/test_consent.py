"""The privacy notice and the resident's explicit answer to it; withdrawing consent."""

from __future__ import annotations

from sqlalchemy import select

from actions.consent import AGREED_TEXT, REFUSED_TEXT, ActionConsent, notice_messages
from core.db import session_scope
from core.models import (
    EventType,
    FallbackText,
    MessageAuthor,
    Ticket,
    TicketReason,
    TicketState,
)
from core.repositories.events import keep_fallback_text, record_event
from core.repositories.residents import consent_notice_due, get_resident, has_consented
from core.repositories.ticket_messages import add_message, messages_of
from core.repositories.tickets import close_ticket, open_ticket
from tests.actions.helpers import payload_of, recorded, run_action, texts, titles
from tests.factories import make_tracker, press


async def _notice(resident: str) -> list[dict[str, object]]:
    events, messages = await run_action(
        ActionConsent(), make_tracker("consent", sender_id=resident)
    )
    assert events == []
    return messages


def _due(resident: str) -> bool:
    with session_scope() as session:
        return consent_notice_due(session=session, resident_id=resident)


async def test_the_notice_says_what_why_how_long_and_how_to_erase(app_database: str) -> None:
    assert _due("c1")
    messages = await _notice("c1")
    notice = notice_messages(90)
    assert texts(messages) == notice
    assert "lưu nội dung trò chuyện trong 90 ngày" in notice[0]
    assert "che đi, không lưu" in notice[0]
    assert "xóa dữ liệu của tôi" in notice[1]
    assert titles(messages[-1]) == ["Đồng ý", "Không lưu nội dung"]
    assert recorded("c1") == []
    with session_scope() as session:
        resident = get_resident(session=session, resident_id="c1")
        assert resident is not None
        assert resident.consent is None
        assert resident.consent_asked_at is not None
    assert not _due("c1")


async def test_agreeing_is_stored_and_ends_the_notice(app_database: str) -> None:
    notice = await _notice("c2")
    events, messages = await run_action(
        ActionConsent(), press(payload_of(notice[-1], "Đồng ý"), sender_id="c2")
    )
    assert events == []
    assert texts(messages) == [AGREED_TEXT]
    assert recorded("c2") == [("consent_given", None, None)]
    with session_scope() as session:
        assert has_consented(session=session, resident_id="c2")
    assert not _due("c2")


async def test_refusing_is_stored_and_respected(app_database: str) -> None:
    notice = await _notice("c3")
    _, messages = await run_action(
        ActionConsent(), press(payload_of(notice[-1], "Không lưu nội dung"), sender_id="c3")
    )
    assert texts(messages) == [REFUSED_TEXT]
    assert recorded("c3") == [("consent_refused", None, None)]
    with session_scope() as session:
        assert not has_consented(session=session, resident_id="c3")
    assert not _due("c3")


async def test_an_answer_without_a_notice_is_still_taken(app_database: str) -> None:
    _, messages = await run_action(
        ActionConsent(), press('/consent{"choice":"yes"}', sender_id="c4")
    )
    assert texts(messages) == [AGREED_TEXT]
    assert recorded("c4") == [("consent_given", None, None)]


async def test_withdrawing_consent_deletes_the_words_already_kept(app_database: str) -> None:
    """Finding 11: refusing after agreeing (an old notice's button) deletes the questions the
    bot missed and the conversations and summaries of closed tickets; an active ticket keeps
    its conversation until it closes, then loses it; the counts stay."""
    await run_action(ActionConsent(), press('/consent{"choice":"yes"}', sender_id="c5"))
    with session_scope() as session:
        missed = record_event(
            session=session, type=EventType.FALLBACK, channel="web", resident_id="c5"
        )
        keep_fallback_text(session=session, event=missed, text="con trau nha toi bi om")
        tickets = []
        for state in (TicketState.RESOLVED, TicketState.OPEN):
            ticket, _ = open_ticket(
                session=session,
                resident_id="c5",
                channel="web",
                channel_user_id="u5",
                commune_code="00004",
                reason=TicketReason.REQUEST_HUMAN,
                summary="Người dân nhắn gần đây:\n• con trau",
            )
            add_message(
                session=session, ticket_id=ticket.id, author=MessageAuthor.RESIDENT, text="trau"
            )
            ticket.state = state
            session.flush()
            tickets.append(ticket.id)
    await run_action(ActionConsent(), press('/consent{"choice":"no"}', sender_id="c5"))

    def kept() -> list[tuple[str, int]]:
        with session_scope() as session:
            assert session.scalars(select(FallbackText)).all() == []
            return [
                (session.get_one(Ticket, t).summary, len(messages_of(session=session, ticket_id=t)))
                for t in tickets
            ]

    assert kept() == [("", 0), ("Người dân nhắn gần đây:\n• con trau", 1)]
    with session_scope() as session:
        close_ticket(session=session, ticket_id=tickets[1], state=TicketState.CANCELLED)
    assert kept() == [("", 0), ("", 0)]
    assert recorded("c5") == [
        ("consent_given", None, None),
        ("fallback", None, None),
        ("consent_refused", None, None),
    ]
