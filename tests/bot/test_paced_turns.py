"""A turn's bubbles on the paced channels, end to end through the channel adapters, the outbox
and the fake platforms (real wire formats): a walkthrough start reaches Telegram and Zalo as
two messages (the step's buttons end the first), a button in the middle stays usable, the next
turn keeps its place and its pace, and Zalo's 5-button and 8-reply limits are kept."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis
from telegram import Bot, Update

from bot.channels.telegram import ResidentChat
from bot.channels.telegram_wire import TelegramTransport
from bot.channels.zalo import (
    MORE_BUTTONS,
    ZaloChannel,
    ZaloTokens,
    ZaloTransport,
    ZaloWindow,
)
from bot.messages import Button, InboundMessage, OutboundMessage
from bot.outbox import Limits, Outbox
from tests.factories import offline_settings
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.zalo_api import FakeZalo

JSON = dict[str, Any]
STEP = (Button("Tiếp theo", "/next_step"), Button("Tôi bị kẹt ở bước này", "/stuck"))
CONSENT = (Button("Đồng ý", "/consent_yes"), Button("Không", "/consent_no"))
START = [
    OutboundMessage("Dạ, em hướng dẫn anh/chị đăng ký khai sinh trên Cổng dịch vụ công."),
    OutboundMessage("Chi phí: miễn phí."),
    OutboundMessage("Cần chuẩn bị: căn cước của cha mẹ, giấy chứng sinh."),
    OutboundMessage("Bước 1/5 – Đăng nhập\nMở dichvucong.gov.vn, bấm Đăng nhập.", STEP),
    OutboundMessage("🔒 Em xin phép lưu nội dung trò chuyện trong 90 ngày."),
    OutboundMessage("Anh/chị có đồng ý cho em lưu không ạ?", CONSENT),
]
STEP_TWO = OutboundMessage("Bước 2/5 – Khai thông tin\nĐiền tên của bé.", STEP)
LESSONS = OutboundMessage(
    "Anh/chị chọn một bài nhé:", tuple(Button(f"Bài {n}", f"/lesson_{n}") for n in range(1, 8))
)


class Scripted:
    """A router that answers from a script (payload or text → the turn's bubbles)."""

    def __init__(self, script: dict[str, list[OutboundMessage]]) -> None:
        self.script = script
        self.heard: list[str] = []

    async def answer(self, message: InboundMessage) -> list[OutboundMessage]:
        self.heard.append(message.text)
        return self.script[message.text]


async def until(check: Callable[[], bool]) -> None:
    """Poll a fake (a server in another thread: nothing to await on) until `check` holds."""
    async with asyncio.timeout(20):
        while not check():  # noqa: ASYNC110
            await asyncio.sleep(0.01)


def keyboard(message: JSON) -> list[str]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard") or []
    return [button["callback_data"] for row in rows for button in row]


@pytest.fixture
def telegram() -> Iterator[FakeTelegram]:
    with FakeTelegram(enforce_limits=True) as fake:
        yield fake


@pytest.fixture
async def outbox(redis: Redis, unique: str) -> AsyncIterator[Outbox]:
    yield Outbox(redis, Limits(), namespace=f"{unique}:outbox")
    for key in await redis.keys(f"{unique}:*"):
        await redis.delete(key)


@pytest.fixture
async def bot(telegram: FakeTelegram) -> AsyncIterator[Bot]:
    async with Bot(telegram.token, base_url=f"{telegram.base_url}/bot") as running:
        yield running


async def test_telegram_walkthrough_start_in_two_messages_and_its_step_button_works(
    telegram: FakeTelegram, outbox: Outbox, bot: Bot
) -> None:
    router = Scripted({"dang ky khai sinh": START, "/next_step": [STEP_TWO]})
    resident = ResidentChat(router, outbox)  # type: ignore[arg-type]
    user = telegram.user("Ba")
    telegram.private_chat(user)
    numbers = itertools.count(1)
    sender = asyncio.create_task(outbox.run("telegram", TelegramTransport(bot)))
    try:
        started = time.monotonic()
        said = telegram.user_text(user, "dang ky khai sinh")
        update = Update.de_json({"update_id": next(numbers), "message": said}, bot)
        await resident.on_message(update, None)  # type: ignore[arg-type]
        await until(lambda: len(telegram.sent(chat_id=user["id"])) == 2)
        took = time.monotonic() - started
        first, second = telegram.sent(chat_id=user["id"])
        assert first["text"] == "\n\n".join(m.text for m in START[:4])
        assert first["text"].split("\n\n")[3].startswith("Bước 1/5 – Đăng nhập")
        assert keyboard(first) == ["/next_step", "/stuck"]
        assert second["text"] == "\n\n".join(m.text for m in START[4:])
        assert keyboard(second) == ["/consent_yes", "/consent_no"]
        assert took < 3.0  # one pause of 1.05 s, not five

        # The step's button, under the first message, still works after the consent question.
        query = telegram.press(user, first, data="/next_step")
        update = Update.de_json({"update_id": next(numbers), "callback_query": query}, bot)
        await resident.on_button(update, None)  # type: ignore[arg-type]
        await until(lambda: len(telegram.sent(chat_id=user["id"])) == 3)
        answered = [
            a for a in telegram.answered_callbacks() if a["callback_query_id"] == query["id"]
        ]
        assert len(answered) == 1
        assert router.heard == ["dang ky khai sinh", "/next_step"]
        third = telegram.sent(chat_id=user["id"])[2]
        assert third["text"] == STEP_TWO.text
        assert keyboard(third) == ["/next_step", "/stuck"]
        assert telegram.rate_limited_count == 0  # paced between turns as before
    finally:
        sender.cancel()


async def test_telegram_turns_queued_together_keep_their_order(
    telegram: FakeTelegram, outbox: Outbox, bot: Bot
) -> None:
    router = Scripted({"a": START, "b": [STEP_TWO], "c": [OutboundMessage("Dạ.")]})
    resident = ResidentChat(router, outbox)  # type: ignore[arg-type]
    user = telegram.user("Tư")
    telegram.private_chat(user)
    for number, text in enumerate("abc", start=1):
        said = telegram.user_text(user, text)
        update = Update.de_json({"update_id": number, "message": said}, bot)
        await resident.on_message(update, None)  # type: ignore[arg-type]
    sender = asyncio.create_task(outbox.run("telegram", TelegramTransport(bot)))
    try:
        await until(lambda: len(telegram.sent(chat_id=user["id"])) == 4)
    finally:
        sender.cancel()
    texts = [m["text"] for m in telegram.sent(chat_id=user["id"])]
    assert texts[2:] == [STEP_TWO.text, "Dạ."]
    assert texts[0].startswith(START[0].text)
    assert texts[1].endswith(START[-1].text)
    assert telegram.rate_limited_count == 0


@pytest.fixture
async def zalo_channel(
    app_database: str, zalo: FakeZalo, outbox: Outbox, redis: Redis
) -> AsyncIterator[ZaloChannel]:
    """Zalo's channel on a scripted router, its outbox sending to the fake Zalo."""
    settings = offline_settings(app_database, **zalo.gateway_settings())
    window = ZaloWindow(redis)
    script = {
        "khai sinh": START,
        "/next_step": [STEP_TWO],
        "bai hoc": [LESSONS],
        "/lesson_7": [OutboundMessage("Bài 7.")],
        "noi nhieu": [OutboundMessage(f"Ý thứ {n}.") for n in range(1, 11)],
    }
    channel = ZaloChannel(Scripted(script), outbox, window)  # type: ignore[arg-type]
    async with httpx.AsyncClient() as http:
        transport = ZaloTransport(settings, ZaloTokens(settings, redis, http), window, http)
        sender = asyncio.create_task(outbox.run("zalo", transport))
        yield channel
        sender.cancel()


async def zalo_says(
    zalo: FakeZalo, channel: ZaloChannel, user: str, event: Any, count: int
) -> None:
    """The channel processes the resident's event; waits until the OA sent `count` in all."""
    await channel.process(json.loads(event.body))
    await until(lambda: len(zalo.sent(user)) >= count)
    assert len(zalo.sent(user)) == count


def zalo_buttons(message: JSON) -> list[str]:
    return [button["payload"] for button in message["buttons"]]


async def test_zalo_walkthrough_start_in_two_messages_and_its_step_button_works(
    zalo: FakeZalo, zalo_channel: ZaloChannel
) -> None:
    user = zalo.user("Bác Ba")
    await zalo_says(zalo, zalo_channel, user, zalo.user_text(user, "khai sinh", deliver=False), 2)
    first, second = zalo.sent(user)
    assert first["text"] == "\n\n".join(m.text for m in START[:4])
    assert zalo_buttons(first) == ["/next_step", "/stuck"]
    assert second["text"] == "\n\n".join(m.text for m in START[4:])
    assert zalo_buttons(second) == ["/consent_yes", "/consent_no"]
    pressed = zalo.user_press(user, first, payload="/next_step", deliver=False)
    await zalo_says(zalo, zalo_channel, user, pressed, 3)
    assert zalo.sent(user)[2]["text"] == STEP_TWO.text


async def test_zalo_more_than_five_buttons_follow_in_a_message_of_their_own(
    zalo: FakeZalo, zalo_channel: ZaloChannel
) -> None:
    user = zalo.user("Bác Tư")
    await zalo_says(zalo, zalo_channel, user, zalo.user_text(user, "bai hoc", deliver=False), 2)
    menu, more = zalo.sent(user)
    assert menu["text"] == LESSONS.text
    assert zalo_buttons(menu) == [f"/lesson_{n}" for n in range(1, 6)]
    assert more["text"] == MORE_BUTTONS
    assert zalo_buttons(more) == ["/lesson_6", "/lesson_7"]
    pressed = zalo.user_press(user, more, payload="/lesson_7", deliver=False)
    await zalo_says(zalo, zalo_channel, user, pressed, 3)
    assert zalo.sent(user)[2]["text"] == "Bài 7."


async def test_zalo_a_long_turn_stays_within_the_free_replies(
    zalo: FakeZalo, zalo_channel: ZaloChannel, outbox: Outbox
) -> None:
    """Ten bubbles were ten of the eight free replies (the last two refused, -311)."""
    user = zalo.user("Bác Năm")
    await zalo_says(zalo, zalo_channel, user, zalo.user_text(user, "noi nhieu", deliver=False), 1)
    (message,) = zalo.sent(user)
    assert message["text"].split("\n\n") == [f"Ý thứ {n}." for n in range(1, 11)]
    assert await outbox.redis.xlen(outbox.dead_letters) == 0
