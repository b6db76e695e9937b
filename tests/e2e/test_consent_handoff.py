"""End-to-end: consent asked just in time (issue 16) — not on a first message, at the first
handoff, never on the scam path — and honoured on the handoff path and on withdrawal, and
tickets without a commune (findings 8 and 11 of issue 13), with the real trained model, action
server, database and the fake Telegram fallback desk."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from actions.commune import ASK_AGAIN_TEXT, ASK_TEXT
from actions.consent import AGREED_TEXT, REFUSED_TEXT
from actions.privacy_notice import QUESTIONS, Moment, consent_buttons, details_text
from core.models import FallbackText, Ticket, TicketState
from core.repositories.residents import set_commune
from core.repositories.volunteers import add_volunteer
from tests.stack import RunningStack

pytestmark = pytest.mark.e2e

Message = dict[str, object]
WAIT = 60.0
CHOICES = ["Đồng ý", "Không lưu", "Xem chi tiết"]
AGREE, REFUSE, _ = (b["payload"] for b in consent_buttons(None))


def _texts(messages: list[Message]) -> list[str]:
    return [str(m["text"]) for m in messages]


def _tracker(stack: RunningStack, sender: str) -> str:
    """Everything Rasa's tracker store holds of the conversation, as JSON text."""
    return json.dumps(stack.tracker(sender), ensure_ascii=False)


def _tickets(stack: RunningStack, sender: str) -> list[Ticket]:
    with stack.session() as session:
        rows = session.scalars(
            select(Ticket).where(Ticket.resident_id == stack.resident_id(sender))
        ).all()
        session.expunge_all()
        return list(rows)


def _missed(stack: RunningStack, sender: str) -> list[str]:
    """The kept words of the sender's messages the bot did not understand."""
    with stack.session() as session:
        where = FallbackText.resident_id == stack.resident_id(sender)
        return list(session.scalars(select(FallbackText.text).where(where)))


def _titles(message: Message) -> list[str]:
    return [b["title"] for b in message.get("buttons") or []]  # type: ignore[attr-defined]


def _asks_consent(messages: list[Message]) -> bool:
    return any("Đồng ý" in _titles(m) for m in messages)


def _lives_in_ba_dinh(stack: RunningStack, sender: str) -> None:
    with stack.session() as session:
        set_commune(session=session, resident_id=stack.resident_id(sender), commune_code="00004")


def test_a_first_time_resident_asking_for_a_service_gets_no_privacy_question(
    stack: RunningStack,
) -> None:
    replies = stack.chat("e2e-first-service", "lam giay khai sinh cho con")
    assert not _asks_consent(replies)
    assert not any(str(m["text"]).startswith("🔒") for m in replies)


def test_a_first_handoff_asks_consent_and_agreeing_opens_the_ticket(stack: RunningStack) -> None:
    sender = "e2e-agree-handoff"
    stack.chat(sender, "xin chào")
    _lives_in_ba_dinh(stack, sender)
    (question,) = stack.chat(sender, "/request_human")  # one bubble
    assert question["text"] == QUESTIONS[Moment.HANDOFF]
    assert _titles(question) == CHOICES
    assert _tickets(stack, sender) == []
    details = stack.press(sender, question, "Xem chi tiết")
    assert _texts(details) == [details_text(90), QUESTIONS[Moment.HANDOFF]]
    assert _titles(details[-1]) == ["Đồng ý", "Không lưu"]  # the choices last
    opened = stack.press(sender, details[-1], "Đồng ý")
    assert len(opened) <= 4
    assert _texts(opened)[0] == AGREED_TEXT
    assert any(t.startswith("Dạ, em đã báo Tổ công nghệ số Phường Ba Đình") for t in _texts(opened))
    assert len(_tickets(stack, sender)) == 1
    events = [kind for kind, _ in stack.events(sender)]
    assert events.index("consent_given") < events.index("handoff_requested")
    assert _texts(stack.chat(sender, "/cancel_handoff"))[0].startswith("Dạ, em đã huỷ")


def test_refused_consent_keeps_no_words_in_rasa_nor_on_the_ticket(stack: RunningStack) -> None:
    sender = "e2e-refuse-handoff"
    asked = stack.chat(sender, "cho toi gap nguoi ho tro that gap")
    assert _texts(asked) == [QUESTIONS[Moment.HANDOFF]]
    refused = stack.press(sender, asked[-1], "Không lưu")  # consent first, then the commune
    assert _texts(refused) == [REFUSED_TEXT, ASK_TEXT]
    opened = stack.chat(sender, "phuong ba dinh ha noi")
    assert any(t.startswith("Dạ, em đã báo Tổ công nghệ số Phường Ba Đình") for t in _texts(opened))
    kept = _tracker(stack, sender)
    assert "that gap" not in kept  # not in the user events, the pending slot nor the control
    assert "ba dinh ha noi" not in kept
    (ticket,) = _tickets(stack, sender)
    assert ticket.summary == ""
    assert _texts(stack.chat(sender, "/cancel_handoff"))[0].startswith("Dạ, em đã huỷ")


def test_withdrawing_consent_deletes_the_words_kept(stack: RunningStack) -> None:
    sender = "e2e-withdraw"
    stack.chat(sender, AGREE)
    missed = stack.missed_message()
    stack.chat(sender, missed)  # not understood: kept
    words = missed.split()[1]
    assert words in _tracker(stack, sender)
    assert _missed(stack, sender) == [missed.replace("0912345678", "[số điện thoại]")]
    withdrawn = stack.chat(sender, REFUSE)  # an old question's button
    assert _texts(withdrawn)[0] == REFUSED_TEXT
    assert words not in _tracker(stack, sender)
    assert _missed(stack, sender) == []
    assert ("consent_refused", None) in stack.events(sender)  # the counts stay


def test_asking_twice_for_a_person_asks_the_commune_again(stack: RunningStack) -> None:
    sender = "e2e-twice"
    assert _texts(stack.chat(sender, "/request_human")) == [QUESTIONS[Moment.HANDOFF]]
    assert _texts(stack.chat(sender, "/request_human"))[0] == ASK_TEXT  # not answered: on
    again = stack.chat(sender, "/request_human")
    assert _texts(again)[0] == ASK_AGAIN_TEXT
    assert not any("đã báo" in t for t in _texts(again))
    assert _tickets(stack, sender) == []


def test_a_scam_without_a_commune_is_claimed_from_the_fallback_desk(stack: RunningStack) -> None:
    tg = stack.telegram
    hoa = tg.user("Hoa", last_name="Lê")
    with stack.session() as session:  # a volunteer of another commune, in the fallback group
        add_volunteer(
            session=session, display_name="Chị Hoa", communes=["00008"], telegram_user_id=hoa["id"]
        )
    sender = "e2e-scam-nowhere"
    cards_before = len(tg.sent(chat_id=stack.desk_chat["id"]))
    replies = stack.chat(sender, '/request_human{"reason":"scam"}')
    assert not _asks_consent(replies)  # never delayed by the privacy question
    opened = _texts(replies)
    assert "Dạ, em đã báo Tổ công nghệ số. Người hỗ trợ sẽ nhắn cho bác ngay tại đây ạ." in opened
    (ticket,) = _tickets(stack, sender)
    assert ticket.commune_code is None

    def card() -> Message | None:
        for message in tg.sent(chat_id=stack.desk_chat["id"])[cards_before:]:
            if f"Yêu cầu #{ticket.id} " in str(message.get("text") or ""):
                return message
        return None

    tg.wait_for(lambda _: card() is not None, WAIT)
    tg.press(hoa, card(), data=f"d:c:{ticket.id}")  # type: ignore[arg-type]
    tg.wait_for(
        lambda _: any(
            a.get("text") == f"Anh/chị đã nhận yêu cầu #{ticket.id}."
            for a in tg.answered_callbacks()
        ),
        WAIT,
    )
    (claimed,) = _tickets(stack, sender)
    assert claimed.state == TicketState.CLAIMED


def test_the_scam_path_never_asks_for_consent(stack: RunningStack) -> None:
    replies = stack.chat("e2e-scam-first", "tôi vừa bị lừa chuyển khoản")
    assert ("intent", "report_scam") in stack.events("e2e-scam-first")
    assert not _asks_consent(replies)
