"""The privacy question, just in time: asked at a handoff, when the bot gives up, when a
walkthrough is left half-way; "Xem chi tiết"; the answer, then what the question interrupted;
withdrawing consent."""

from __future__ import annotations

import json
from typing import Any

from rasa_sdk.events import SlotSet, UserUtteranceReverted
from sqlalchemy import select

from actions.commune import ASK_TEXT, PENDING_HANDOFF_SLOT
from actions.consent import AGREED_TEXT, REFUSED_TEXT, ActionConsent
from actions.fallback import GIVE_UP_TEXT, ActionDefaultFallback
from actions.handoff import ActionRequestHuman
from actions.navigation import ActionNextStep, ActionStopFlow
from actions.privacy_notice import QUESTIONS, Moment, details_text, progress_hint
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
from tests.factories import make_tracker, press, waiting

CHOICES = ["Đồng ý", "Không lưu", "Xem chi tiết"]
Message = dict[str, Any]


def _due(resident: str) -> bool:
    with session_scope() as session:
        return consent_notice_due(session=session, resident_id=resident)


def _controls(messages: list[Message]) -> list[Message]:
    return [m["custom"] for m in messages if m.get("custom")]


async def _ask_at_handoff(resident: str, commune: str | None = "00004") -> list[Message]:
    tracker = press("/request_human", sender_id=resident)
    if commune:
        tracker.slots["commune_code"] = commune
    events, messages = await run_action(ActionRequestHuman(), tracker)
    assert [e["name"] for e in events] == [PENDING_HANDOFF_SLOT]
    return messages


async def _answer(message: Message, title: str, resident: str, **slots: Any) -> Any:
    """Press `title` under `message`; a handoff in `slots` waits since action_request_human."""
    tracker = press(payload_of(message, title), sender_id=resident)
    tracker.slots.update(slots)
    if PENDING_HANDOFF_SLOT in slots:
        request = slots[PENDING_HANDOFF_SLOT]
        waiting(tracker, PENDING_HANDOFF_SLOT, request, set_by="action_request_human")
    return await run_action(ActionConsent(), tracker)


def _pending(resident: str, commune: str | None = "00004") -> dict[str, Any]:
    """The slots of a handoff waiting for the answer."""
    request = {"handoff": True, "reason": "request_human", "service": None, "step": None}
    slots: dict[str, Any] = {PENDING_HANDOFF_SLOT: json.dumps(request | {"summary": ""})}
    if commune:
        slots["commune_code"] = commune
    return slots


async def test_a_handoff_asks_one_short_question_and_keeps_nothing(app_database: str) -> None:
    assert _due("c1")
    messages = await _ask_at_handoff("c1")
    assert texts(messages) == [QUESTIONS[Moment.HANDOFF]]
    assert titles(messages[0]) == CHOICES
    assert payload_of(messages[0], "Đồng ý") == '/consent{"choice":"yes","reason":"handoff"}'
    assert _controls(messages) == []  # no ticket yet
    assert recorded("c1") == []
    with session_scope() as session:
        resident = get_resident(session=session, resident_id="c1")
        assert resident is not None
        assert resident.consent is None
        assert resident.consent_asked_at is not None
    assert not _due("c1")


async def test_details_show_the_full_notice_then_the_same_question(app_database: str) -> None:
    question = (await _ask_at_handoff("c2"))[0]
    events, messages = await _answer(question, "Xem chi tiết", "c2")
    assert events == []
    assert texts(messages) == [details_text(90), QUESTIONS[Moment.HANDOFF]]
    full = details_text(90)
    assert "90 ngày" in full
    assert "xóa dữ liệu của tôi" in full
    assert "che đi" in full
    assert titles(messages[-1]) == ["Đồng ý", "Không lưu"]
    assert payload_of(messages[-1], "Đồng ý") == payload_of(question, "Đồng ý")
    assert recorded("c2") == []


async def test_agreeing_at_a_handoff_opens_it_in_the_same_turn(app_database: str) -> None:
    question = (await _ask_at_handoff("c3"))[0]
    events, messages = await _answer(question, "Đồng ý", "c3", **_pending("c3"))
    assert texts(messages) == [AGREED_TEXT]
    assert [c["reason"] for c in _controls(messages)] == ["request_human"]
    assert events == [SlotSet(PENDING_HANDOFF_SLOT, None)]
    assert recorded("c3") == [("consent_given", None, None)]
    with session_scope() as session:
        assert has_consented(session=session, resident_id="c3")
    assert not _due("c3")


async def test_refusing_at_a_handoff_still_opens_it(app_database: str) -> None:
    question = (await _ask_at_handoff("c4"))[0]
    _, messages = await _answer(question, "Không lưu", "c4", **_pending("c4"))
    assert texts(messages) == [REFUSED_TEXT]
    assert [c["reason"] for c in _controls(messages)] == ["request_human"]
    assert recorded("c4") == [("consent_refused", None, None)]
    with session_scope() as session:
        assert not has_consented(session=session, resident_id="c4")
    assert not _due("c4")


async def test_consent_first_then_the_commune_one_question_a_turn(app_database: str) -> None:
    question = (await _ask_at_handoff("c5", commune=None))[0]
    assert texts([question]) == [QUESTIONS[Moment.HANDOFF]]
    events, messages = await _answer(question, "Đồng ý", "c5", **_pending("c5", commune=None))
    assert texts(messages) == [AGREED_TEXT, ASK_TEXT]
    assert _controls(messages) == []
    assert [e["name"] for e in events] == [PENDING_HANDOFF_SLOT]  # still waiting


async def test_a_scam_is_never_delayed_by_the_question(app_database: str) -> None:
    tracker = press('/request_human{"reason":"scam"}', sender_id="c6")
    _, messages = await run_action(ActionRequestHuman(), tracker)
    assert texts(messages) == []
    assert [c["reason"] for c in _controls(messages)] == ["scam"]
    assert _due("c6")  # asked another time, never in an emergency


async def test_when_the_bot_gives_up_it_asks_to_keep_missed_questions(app_database: str) -> None:
    tracker = make_tracker("nlu_fallback", sender_id="c7")
    events, messages = await run_action(ActionDefaultFallback(), tracker)
    assert texts(messages) == [GIVE_UP_TEXT, QUESTIONS[Moment.FALLBACK]]
    assert titles(messages[-1]) == CHOICES
    assert events == [UserUtteranceReverted()]
    _, answered = await _answer(messages[-1], "Đồng ý", "c7")
    assert texts(answered) == [AGREED_TEXT]
    assert answered[-1]["response"] == "utter_default"  # then the offer of a person
    # Answered: the next time the bot gives up, it only offers a person.
    _, later = await run_action(ActionDefaultFallback(), tracker)
    assert [m.get("response") for m in later] == ["utter_default"]


async def test_leaving_a_walkthrough_half_way_asks_to_keep_the_place(app_database: str) -> None:
    step = '/next_step{"service":"birth_registration","step":3}'
    await run_action(ActionNextStep(), press(step, sender_id="c8"))
    stop = press('/stop_flow{"service":"birth_registration"}', sender_id="c8")
    _, stopped = await run_action(ActionStopFlow(), stop)
    assert texts(stopped)[-1] == QUESTIONS[Moment.PROGRESS]
    assert titles(stopped[-1]) == CHOICES
    _, answered = await _answer(stopped[-1], "Không lưu", "c8")
    assert texts(answered) == [REFUSED_TEXT, progress_hint(kept=False)]
    assert answered[-1]["response"] == "utter_ask_how_to_help"
    # Asked once: leaving again only says how to come back within the session.
    _, again = await run_action(ActionStopFlow(), stop)
    assert texts(again)[1:] == [progress_hint(kept=False)]


async def test_an_answer_without_a_question_is_still_taken(app_database: str) -> None:
    _, messages = await run_action(
        ActionConsent(), press('/consent{"choice":"yes"}', sender_id="c9")
    )
    assert texts(messages) == [AGREED_TEXT]
    assert messages[-1]["response"] == "utter_ask_how_to_help"
    assert recorded("c9") == [("consent_given", None, None)]


async def test_withdrawing_consent_deletes_the_words_already_kept(app_database: str) -> None:
    """Finding 11: refusing after agreeing (an old question's button) deletes the questions the
    bot missed and the conversations and summaries of closed tickets; an active ticket keeps
    its conversation until it closes, then loses it; the counts stay."""
    await run_action(ActionConsent(), press('/consent{"choice":"yes"}', sender_id="c10"))
    with session_scope() as session:
        missed = record_event(
            session=session, type=EventType.FALLBACK, channel="web", resident_id="c10"
        )
        keep_fallback_text(session=session, event=missed, text="con trau nha toi bi om")
        tickets = []
        for state in (TicketState.RESOLVED, TicketState.OPEN):
            ticket, _ = open_ticket(
                session=session,
                resident_id="c10",
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
    await run_action(ActionConsent(), press('/consent{"choice":"no"}', sender_id="c10"))

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
    assert recorded("c10") == [
        ("consent_given", None, None),
        ("fallback", None, None),
        ("consent_refused", None, None),
    ]
