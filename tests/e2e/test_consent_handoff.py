"""End-to-end: consent honoured on the handoff path and on withdrawal, and tickets without a
commune (findings 8 and 11 of issue 13), with the real trained model, action server, database
and the fake Telegram fallback desk."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from actions.commune import ASK_AGAIN_TEXT, ASK_TEXT
from actions.consent import AGREE_BUTTON, AGREED_TEXT, notice_messages
from core.models import FallbackText, Ticket, TicketState
from core.repositories.volunteers import add_volunteer
from tests.stack import RunningStack

pytestmark = pytest.mark.e2e

Message = dict[str, object]
WAIT = 60.0


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


def _answer_notice(stack: RunningStack, sender: str, title: str) -> list[Message]:
    """Write a first message, then answer the privacy notice that follows the reply."""
    first = stack.chat(sender, "xin chào")
    return stack.press(sender, first[-1], title)


def test_refused_consent_keeps_no_words_in_rasa_nor_on_the_ticket(stack: RunningStack) -> None:
    sender = "e2e-refuse-handoff"
    _answer_notice(stack, sender, "Không lưu nội dung")
    asked = stack.chat(sender, "cho toi gap nguoi ho tro that gap")
    assert _texts(asked) == [ASK_TEXT]
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
    notice = stack.chat(sender, "xin chào")
    stack.press(sender, notice[-1], "Đồng ý")
    stack.chat(sender, "cai may giat nha toi bi hong 0912345678")  # not understood: kept
    assert "may giat" in _tracker(stack, sender)
    assert _missed(stack, sender) == ["cai may giat nha toi bi hong [số điện thoại]"]
    withdrawn = stack.press(sender, notice[-1], "Không lưu nội dung")  # the old notice's button
    assert _texts(withdrawn)[0].startswith("Dạ, em sẽ không lưu nội dung")
    assert "may giat" not in _tracker(stack, sender)
    assert _missed(stack, sender) == []
    assert ("consent_refused", None) in stack.events(sender)  # the counts stay


def test_asking_twice_for_a_person_asks_the_commune_again(stack: RunningStack) -> None:
    sender = "e2e-twice"
    assert _texts(stack.chat(sender, "/request_human"))[0] == ASK_TEXT
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
    opened = _texts(stack.chat(sender, '/request_human{"reason":"scam"}'))
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


def test_an_answer_while_the_notice_is_due_settles_it_in_the_same_turn(
    stack: RunningStack,
) -> None:
    """An old notice's "Đồng ý" (a day later the notice is due again) answers it: Rasa's turn
    channel does not show the notice after the reply (nlu/channel.py)."""
    sender = "e2e-consent-first"
    replies = stack.chat(sender, AGREE_BUTTON["payload"])
    assert _texts(replies) == [AGREED_TEXT]
    assert ("consent_given", None) in stack.events(sender)
    assert _texts(stack.chat(sender, "xin chào"))[-1] not in notice_messages(90)
