"""The whole handoff loop over the real Telegram wire format: python-telegram-bot in the
gateway polls a fake Bot API server on 127.0.0.1, with the real trained model, action server
and database. A resident asks for a human → ticket, forum topic and "Nhận hỗ trợ" → a volunteer
of another commune cannot claim, one registered with /dangky can → text and photos relay both
ways (`//` stays in the group), the bot keeps quiet meanwhile → close → rating buttons → the
bot answers again."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import select

from bench.screens_gen import Screen, draw_screen
from bot.channels.bubbles import PARAGRAPH
from core.models import Event, EventType, Ticket
from core.repositories.invites import create_invite
from core.repositories.volunteers import add_volunteer
from tests.stack import RunningStack

pytestmark = pytest.mark.e2e

JSON = dict[str, Any]
WAIT = 60.0


def buttons(message: JSON) -> list[tuple[str, str]]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard") or []
    return [(b["text"], b["callback_data"]) for row in rows for b in row]


def text_of(message: JSON) -> str:
    return str(message.get("text") or message.get("caption") or "")


class Chat:
    """What the bot sent to one chat (or forum topic), read in order bubble by bubble: a
    message holds a turn's bubbles, a blank line between them."""

    def __init__(self, stack: RunningStack, chat_id: int, thread_id: int | None = None) -> None:
        self.telegram = stack.telegram
        self.chat_id = chat_id
        self.thread_id = thread_id
        self.seen = (len(self.all()), 0)  # (message, bubble) where reading goes on

    def all(self) -> list[JSON]:
        return self.telegram.sent(chat_id=self.chat_id, thread_id=self.thread_id)

    def unread(self) -> Iterator[tuple[tuple[int, int], JSON, str]]:
        for index, message in enumerate(self.all()):
            for part, bubble in enumerate(text_of(message).split(PARAGRAPH)):
                if (index, part) >= self.seen:
                    yield (index, part), message, bubble

    def find(self, match: Callable[[JSON, str], bool], what: str) -> JSON:
        """The message of the first new bubble matching `match` (waits for it); later reads
        start after that bubble."""
        self.telegram.wait_for(lambda _: any(match(m, b) for _, m, b in self.unread()), WAIT)
        for (index, part), message, bubble in self.unread():
            if match(message, bubble):
                self.seen = (index, part + 1)
                return message
        raise AssertionError(what)

    def next(self, match: Callable[[JSON], bool], what: str) -> JSON:
        return self.find(lambda message, _: match(message), what)

    def text(self, part: str) -> JSON:
        return self.find(lambda _, bubble: part in bubble, f"no message with {part!r}")


def test_telegram_handoff_loop(stack: RunningStack) -> None:
    tg = stack.telegram
    resident = tg.user("Ba", last_name="Nguyễn")
    lan = tg.user("Lan", last_name="Trần")
    hoa = tg.user("Hoa")
    with stack.session() as session:
        code = create_invite(session=session, communes=["00004"])
        add_volunteer(
            session=session, display_name="Chị Hoa", communes=["00008"], telegram_user_id=hoa["id"]
        )

    # A volunteer registers with the one-time code.
    lan_private = Chat(stack, lan["id"])
    tg.user_command(lan, "dangky", code)
    lan_private.text("đã được đăng ký làm tình nguyện viên, nhận hỗ trợ cho: Phường Ba Đình")

    # The resident asks for a person; the privacy question first (refused, typed), then the
    # commune, then the ticket opens.
    me = Chat(stack, resident["id"])
    desk = Chat(stack, stack.desk_chat["id"])
    tg.user_text(resident, "toi muon gap nguoi ho tro")
    me.text("Anh/chị đồng ý không ạ?")
    tg.user_text(resident, "khong luu")
    me.text("anh/chị ở xã, phường nào")
    tg.user_text(resident, "phuong ba dinh ha noi")
    me.text("em đã ghi nhận anh/chị ở Phường Ba Đình")
    queued = me.text("lượt thứ 1")
    assert buttons(queued) == [("Thôi, không cần nữa", "/cancel_handoff")]

    # A forum topic with the summary and the claim button, in the fallback desk group.
    card = desk.next(lambda m: buttons(m) != [], "no ticket card")
    thread = card["message_thread_id"]
    (topic,) = [t for t in tg.topics(stack.desk_chat) if t["message_thread_id"] == thread]
    assert topic["name"].endswith(" · Phường Ba Đình, Hà Nội · Cần người hỗ trợ")
    assert "toi muon gap nguoi ho tro" not in text_of(card)  # no consent: no words kept
    ticket_id = int(topic["name"].split()[0].lstrip("#"))
    assert buttons(card) == [("Nhận hỗ trợ", f"d:c:{ticket_id}")]

    # Another commune's volunteer cannot claim; the registered one can, exactly once.
    tg.press(hoa, card, data=f"d:c:{ticket_id}")
    tg.wait_for(
        lambda _: any("xã khác" in (a.get("text") or "") for a in tg.answered_callbacks()), WAIT
    )
    tg.press(lan, card, data=f"d:c:{ticket_id}")
    me.text("Lan Trần ở Tổ công nghệ số đã nhận hỗ trợ bác")
    topic_chat = Chat(stack, stack.desk_chat["id"], thread)
    topic_chat.seen = (0, 0)
    topic_chat.text("✋ Lan Trần đã nhận")
    assert all(a.get("callback_query_id") for a in tg.answered_callbacks())

    # Relaying both ways: text and a photo each way; a // note stays in the group; the bot
    # does not answer the resident meanwhile.
    tg.user_text(lan, "Dạ bác cần giúp gì ạ?", chat=stack.desk_chat, thread_id=thread)
    me.text("Dạ bác cần giúp gì ạ?")
    tg.user_text(resident, "dang ky khai sinh cho chau")
    topic_chat.text("👤 Người dân: dang ky khai sinh cho chau")
    tg.user_photo(resident, b"anh-man-hinh", caption="man hinh bao loi")
    photo_in_topic = topic_chat.next(lambda m: m.get("method") == "sendPhoto", "no photo relayed")
    assert text_of(photo_in_topic) == "👤 Người dân: man hinh bao loi"
    assert tg.file_bytes(photo_in_topic["photo"][-1]["file_id"]) == b"anh-man-hinh"
    tg.user_text(lan, "// bác này cần gọi lại", chat=stack.desk_chat, thread_id=thread)
    tg.user_photo(
        lan, b"huong-dan", caption="Bác bấm vào đây", chat=stack.desk_chat, thread_id=thread
    )
    photo_to_me = me.next(lambda m: m.get("method") == "sendPhoto", "no photo to the resident")
    assert text_of(photo_to_me) == "Bác bấm vào đây"
    assert tg.file_bytes(photo_to_me["photo"][-1]["file_id"]) == b"huong-dan"
    said_to_me = [text_of(m) for m in me.all()]
    assert not any("gọi lại" in t for t in said_to_me)
    assert not any("Bước 1/" in t for t in said_to_me)  # no walkthrough: the bot kept quiet

    # Close: the resident gets the rating buttons, rates, and the bot answers again.
    claimed_card = tg.sent(chat_id=stack.desk_chat["id"], thread_id=thread)[0]
    assert [t for t, _ in buttons(claimed_card)] == ["Đóng – đã xong", "Trả lại cho bot"]
    tg.press(lan, claimed_card, data=f"d:r:{ticket_id}")
    rating = me.next(lambda m: len(buttons(m)) == 5, "no rating buttons")
    me.text("Dạ, bác còn cần hỗ trợ gì nữa không ạ?")
    tg.press(resident, rating, text="5")
    me.text("em cảm ơn bác đã chấm điểm")
    tg.user_text(resident, "dang ky khai sinh cho con")
    me.text("Bước 1/")
    assert next(t for t in tg.topics(stack.desk_chat) if t["message_thread_id"] == thread)[
        "is_closed"
    ]

    with stack.session() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        assert (ticket.state, ticket.rating) == ("resolved", 5)
        kinds = session.scalars(
            select(Event.type).where(Event.ticket_id == ticket_id).order_by(Event.id)
        ).all()
    handoff_kinds = [k for k in kinds if k != EventType.MESSAGE_OUT]
    assert handoff_kinds == ["handoff_requested", "handoff_claimed", "handoff_resolved", "csat"]


def test_commands_and_files_without_a_handoff(stack: RunningStack) -> None:
    """/start, /help and /menu answer in Vietnamese; outside a handoff a photo that is no
    picture gets a polite note, a screenshot of a known VNeID error its fix (read from the
    fake Bot API's getFile + download); a long press of a button is answered."""
    tg = stack.telegram
    resident = tg.user("Tư")
    me = Chat(stack, resident["id"])
    tg.user_command(resident, "start")
    greeting = me.text("Dạ, em chào anh/chị!")
    assert "Tổ công nghệ số" in text_of(greeting)
    menu = me.next(lambda m: buttons(m) != [], "no menu buttons after /start")
    assert ("Gặp người hỗ trợ", "/request_human") in buttons(menu)
    tg.user_command(resident, "help")
    me.text("em hướng dẫn anh/chị từng bước")
    tg.user_photo(resident, b"anh-cccd")
    me.text("chưa mở được ảnh này")
    screen = Screen("vneid", "Số thuê bao không chính chủ.", None, 1080, 2400, True, seed=3)
    buffer = io.BytesIO()
    draw_screen(screen).save(buffer, "PNG")
    tg.user_photo(resident, buffer.getvalue())
    me.text("Đây là lỗi ở bước 1/9")
    fix = me.text("❓ Số điện thoại anh/chị đang dùng không đứng tên mình")
    assert ("Vẫn chưa được", '/request_human{"service":"vneid_activation","step":1}') in (
        buttons(fix)
    )
    press = tg.press(resident, menu, text="Làm giấy khai sinh")
    me.text("Bước 1/")
    answered = [a for a in tg.answered_callbacks() if a["callback_query_id"] == press["id"]]
    assert len(answered) == 1
