"""End-to-end (issue 18, item 4): a resident answering an announcement, through the real
trained model, action server, gateway, announcement worker and database, over the Telegram
wire format (fake Bot API). The announcement reaches a subscribed resident with its two
buttons; a typed reply soon after it is understood normally and counted as
`announcement_reply`; "Hỏi thêm" opens a ticket about it, and so does asking for a person in
words soon after it; the volunteer reads the announcement on the ticket's card in the forum
topic. Each test has a commune of its own (an announcement goes to a whole commune).

The outbox's ledger of what it handed over is keyed by announcement id: run against a Redis
database that an earlier run's scratch database (ids from 1 again) left its ledger in, nothing
is sent (flush TEST_REDIS_URL's database between runs)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.announcements import STOP, ask_more
from core.models import (
    Announcement,
    AnnouncementCategory,
    AnnouncementStatus,
    Delivery,
    DeliveryStatus,
    Ticket,
    TicketReason,
    utcnow,
)
from core.privacy import pseudonymize
from core.repositories.residents import set_commune, set_consent
from core.repositories.subscriptions import subscribe
from tests.e2e.test_telegram_handoff import JSON, WAIT, Chat, buttons, text_of
from tests.stack import PSEUDONYM_KEY, RunningStack

pytestmark = pytest.mark.e2e

TITLE = "Cảnh báo: giả danh công an gọi điện"
TEXT = "Công an không gọi điện yêu cầu chuyển tiền hay cài ứng dụng. Gặp thì báo ngay cho xã."


def _announce(stack: RunningStack, commune: str) -> int:
    """A warning of `commune`, due now (warnings go out in quiet hours too)."""
    now = utcnow()
    with stack.session() as session:
        row = Announcement(
            commune_code=commune,
            title=TITLE,
            text=TEXT,
            category=AnnouncementCategory.WARNING,
            send_at=now - timedelta(seconds=1),
            expires_at=now + timedelta(days=1),
            status=AnnouncementStatus.APPROVED,
        )
        session.add(row)
        session.flush()
        return row.id


def _sent(stack: RunningStack, announcement: int, resident: str) -> bool:
    with stack.session() as session:
        status = session.scalar(
            select(Delivery.status).where(
                Delivery.announcement_id == announcement, Delivery.resident_id == resident
            )
        )
    return status == DeliveryStatus.SENT


def _wait(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(what)
        time.sleep(0.2)


def _subscriber(stack: RunningStack, name: str, commune: str) -> tuple[JSON, str, Chat]:
    """A Telegram resident who wrote to the bot, agreed to the privacy notice, lives in
    `commune` and subscribed: (their user, pseudonymous id, chat)."""
    user = stack.telegram.user(name)
    resident = pseudonymize("telegram", str(user["id"]), key=PSEUDONYM_KEY)
    chat = Chat(stack, user["id"])
    stack.telegram.user_command(user, "start")  # a bot may write only to those who wrote to it
    chat.text("Dạ, em chào anh/chị!")
    with stack.session() as session:
        set_consent(session=session, resident_id=resident, consent=True)
        set_commune(session=session, resident_id=resident, commune_code=commune)
        subscribe(
            session=session,
            resident_id=resident,
            channel="telegram",
            channel_user_id=str(user["id"]),
        )
    return user, resident, chat


def _events(stack: RunningStack, resident: str, type_: str) -> list[tuple[str, str | None]]:
    return [e for e in stack.events_of_resident(resident) if e[0] == type_]


def _ticket_card(stack: RunningStack, resident: str, announcement: int) -> tuple[int, JSON]:
    """The resident's ticket, checked to be about `announcement`, and its card on the desk."""
    with stack.session() as session:
        ticket = session.scalars(select(Ticket).where(Ticket.resident_id == resident)).one()
        assert (ticket.announcement_id, ticket.reason) == (announcement, TicketReason.ANNOUNCEMENT)
        ticket_id = ticket.id
    desk = Chat(stack, stack.desk_chat["id"])
    desk.seen = (0, 0)
    card = desk.next(lambda m: f"Yêu cầu #{ticket_id} " in text_of(m), "no card of the ticket")
    assert f"Thông báo đã gửi: {TITLE}" in text_of(card)
    assert TEXT in text_of(card)
    assert _events(stack, resident, "handoff_requested") == [("handoff_requested", "announcement")]
    return ticket_id, card


def test_a_reply_is_counted_and_ask_more_opens_a_ticket_about_it(stack: RunningStack) -> None:
    tg = stack.telegram
    tam, resident, me = _subscriber(stack, "Tâm", "00160")
    announcement = _announce(stack, "00160")

    # The worker sends it with its two buttons; the platform's answer marks it sent.
    notice = me.text(TITLE)
    assert TEXT in text_of(notice)
    assert buttons(notice) == [
        ("Hỏi thêm", f'/request_human{{"announcement":"{announcement}"}}'),
        (STOP.title, STOP.payload),
    ]
    assert buttons(notice)[0][1] == ask_more(announcement).payload
    _wait(lambda: _sent(stack, announcement, resident), "the delivery was never marked sent")

    # A typed reply: understood as usual, counted once as a reply to the announcement.
    tg.user_text(tam, "cam on xa nhieu")
    me.text("Dạ, không có gì ạ")
    tg.user_text(tam, "cam on nhe")
    me.text("Dạ, không có gì ạ")
    replies = _events(stack, resident, "announcement_reply")
    assert replies == [("announcement_reply", str(announcement))]

    # "Hỏi thêm": a ticket about the announcement, which the volunteer reads on its card.
    tg.press(tam, notice, text="Hỏi thêm")
    me.text("lượt thứ")
    ticket_id, card = _ticket_card(stack, resident, announcement)
    (topic,) = [
        t for t in tg.topics(stack.desk_chat) if t["message_thread_id"] == card["message_thread_id"]
    ]
    assert topic["name"] == f"#{ticket_id} · Phường Nghĩa Đô, Hà Nội · Hỏi thêm về thông báo"
    assert buttons(card) == [("Nhận hỗ trợ", f"d:c:{ticket_id}")]


def test_asking_for_a_person_in_words_soon_after_it_opens_a_ticket_about_it(
    stack: RunningStack,
) -> None:
    hai, resident, me = _subscriber(stack, "Hải", "00166")
    announcement = _announce(stack, "00166")
    me.text(TITLE)
    _wait(lambda: _sent(stack, announcement, resident), "the delivery was never marked sent")
    stack.telegram.user_text(hai, "toi muon gap nguoi ho tro")
    me.text("lượt thứ")
    _ticket_card(stack, resident, announcement)
    assert _events(stack, resident, "announcement_reply") == [
        ("announcement_reply", str(announcement))
    ]
