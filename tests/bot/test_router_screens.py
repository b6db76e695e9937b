"""A photo through the router: fetched from the fake Bot API by file id (getFile + download,
the real wire format), read by the real Tesseract pool, answered with the problem's fix by the
gateway (Rasa not asked), counted as `screen_read`; in a handoff the volunteer gets the file id
with the masked text read off it; a web upload is read the same way."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from typing import Any

import pytest
from telegram import Bot

from bench.screens_gen import Screen, draw_screen
from bot.channels.telegram import photo_fetcher
from bot.messages import Attachment, InboundMessage
from bot.rasa_client import RasaClient
from bot.router import Router
from bot.screens import NOT_A_SCREEN_REPLY, OCR_NOTE, UNKNOWN_SCREEN_REPLY, Screens
from bot.typed_buttons import TypedButtons
from core.db import session_scope
from core.kv import make_redis
from core.models import MessageKind, Ticket, TicketReason
from core.privacy import ID_MASK, pseudonymize
from core.repositories.residents import set_commune
from core.repositories.ticket_messages import messages_of
from core.screens import ScreenReader
from tests.bot.desk.memory import Clock, MemoryDesk, MemorySender, make_handoff
from tests.bot.test_router import KEY, TOKEN, FakeRasa, _events
from tests.fakes.telegram_api import FakeTelegram

JSON = dict[str, Any]


def _screenshot(message: str, *, seed: int = 1) -> bytes:
    image = draw_screen(Screen("vneid", message, None, 1080, 2400, False, seed))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def reader() -> Iterator[ScreenReader]:
    pool = ScreenReader()
    yield pool
    pool.close()


@pytest.fixture
def telegram() -> Iterator[FakeTelegram]:
    with FakeTelegram() as fake:
        yield fake


@pytest.fixture
def rasa(app_database: str) -> Iterator[FakeRasa]:
    with FakeRasa() as fake:
        yield fake


@pytest.fixture
def desk() -> MemoryDesk:
    return MemoryDesk()


@pytest.fixture
def router(
    rasa: FakeRasa, telegram: FakeTelegram, reader: ScreenReader, desk: MemoryDesk
) -> Router:
    base = telegram.base_url
    bot = Bot(telegram.token, base_url=f"{base}/bot", base_file_url=f"{base}/file/bot")
    return Router(
        rasa=RasaClient(rasa.base_url, token=TOKEN),
        pseudonym_key=KEY,
        typed_buttons=TypedButtons(make_redis(None)),
        handoff=make_handoff(MemorySender(), desk, Clock()),
        screens=Screens(reader, fetchers={"telegram": photo_fetcher(bot)}),
    )


def _photo(telegram: FakeTelegram, user: JSON, data: bytes) -> InboundMessage:
    """The resident's photo as the Telegram adapter passes it on: its file id only."""
    sent = telegram.user_photo(user, data)
    file_id = sent["photo"][-1]["file_id"]
    return InboundMessage(
        channel="telegram",
        channel_user_id=str(user["id"]),
        text="",
        attachment=Attachment(MessageKind.PHOTO, f"telegram:{file_id}"),
    )


async def test_a_known_error_screen_gets_its_fix_without_asking_rasa(
    router: Router, rasa: FakeRasa, telegram: FakeTelegram
) -> None:
    user = telegram.user("Bà Tư")
    replies = await router.handle(_photo(telegram, user, _screenshot("Mã OTP đã hết hạn.")))

    assert "bước 5/9 – Nhập mã OTP nhận qua tin nhắn" in replies[0].text
    assert replies[1].text.startswith("❓ Nhập mã nhưng ứng dụng báo sai hoặc hết hạn.")
    assert 'Bấm "Gửi lại mã"' in replies[1].text
    assert [(b.title, b.payload) for b in replies[1].buttons] == [
        ("Làm tiếp bước 5", '/next_step{"service":"vneid_activation","step":5}'),
        ("Vẫn chưa được", '/request_human{"service":"vneid_activation","step":5}'),
    ]
    assert rasa.turns == []
    assert len(telegram.calls("getFile")) == 1
    resident = pseudonymize("telegram", str(user["id"]), key=KEY)
    assert _events(resident) == [
        ("message_in", None),
        ("screen_read", "vneid_activation.5.2"),
        ("message_out", None),
        ("message_out", None),
    ]


async def test_an_unknown_screen_is_said_to_be_unknown(
    router: Router, rasa: FakeRasa, telegram: FakeTelegram
) -> None:
    user = telegram.user("Ông Năm")
    screen = _screenshot("Giao dịch thành công. Cảm ơn quý khách.")
    replies = await router.handle(_photo(telegram, user, screen))
    assert [r.text for r in replies] == [UNKNOWN_SCREEN_REPLY]
    assert [b.payload for b in replies[0].buttons] == ["/request_human"]
    assert rasa.turns == []
    resident = pseudonymize("telegram", str(user["id"]), key=KEY)
    assert ("screen_read", None) in _events(resident)

    not_an_image = await router.handle(_photo(telegram, user, b"\xff\xd8\xff\xe0fake-jpeg"))
    assert [r.text for r in not_an_image] == [NOT_A_SCREEN_REPLY]


async def test_in_a_handoff_the_volunteer_gets_the_masked_text_with_the_file_id(
    router: Router, rasa: FakeRasa, telegram: FakeTelegram, desk: MemoryDesk
) -> None:
    user = telegram.user("Chị Hoa")
    resident = pseudonymize("telegram", str(user["id"]), key=KEY)
    with session_scope() as session:
        set_commune(session=session, resident_id=resident, commune_code="00004")
    hello = InboundMessage(channel="telegram", channel_user_id=str(user["id"]), text="gap nguoi")
    await router.handoff.request(
        resident=resident, message=hello, reason=TicketReason.REQUEST_HUMAN
    )
    photo = _photo(telegram, user, _screenshot("Hệ thống đang bảo trì. Vui lòng thử lại sau."))
    await router.handle(photo)

    assert rasa.turns == []
    (relayed,) = [text for _, text in desk.calls("resident_message")]
    assert isinstance(relayed, str)
    assert OCR_NOTE in relayed
    assert "bảo trì" in relayed
    assert ID_MASK in relayed  # the form's ID number, masked
    with session_scope() as session:
        ticket = session.query(Ticket).filter_by(resident_id=resident).one()
        (stored,) = [m for m in messages_of(session=session, ticket_id=ticket.id) if m.file_ref]
        assert photo.attachment is not None
        assert stored.file_ref == photo.attachment.ref  # the image itself is not stored
        assert OCR_NOTE in stored.text
        assert not re.search(r"\d{9}", stored.text.replace(" ", "")), stored.text


async def test_a_web_upload_is_read_from_its_bytes(router: Router, rasa: FakeRasa) -> None:
    upload = InboundMessage(
        channel="web",
        channel_user_id="u-web",
        text="",
        attachment=Attachment(MessageKind.PHOTO),
        image=_screenshot("Tên đăng nhập hoặc mật khẩu không đúng."),
    )
    assert "image=" not in repr(upload)  # the bytes never reach a log line
    replies = await router.handle(upload)
    assert "bước 4/5 – Cách 2: nhập số định danh và mật khẩu" in replies[0].text
    assert replies[1].buttons[0].payload == '/next_step{"service":"public_portal_login","step":4}'
    assert rasa.turns == []
