"""The Telegram forum desk against the fake Bot API (real python-telegram-bot, real wire
format): a topic and card per ticket, who may press what, reminders in the topic, escalation
to the commune's leads and the fallback group, closing the topic."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from telegram import Bot, Update

from bot.channels.telegram_wire import TelegramTransport
from bot.desk.handoff import Handoff
from bot.desk.telegram import TelegramDesk
from bot.messages import InboundMessage
from bot.outbox import Limits, Outbox
from core.db import session_scope
from core.kv import make_redis
from core.models import TicketReason, VolunteerRole
from core.repositories.desk import link_desk
from core.repositories.residents import set_commune
from core.repositories.volunteers import add_volunteer
from tests.bot.desk.memory import Clock, MemorySender, make_handoff
from tests.fakes.telegram_api import FakeTelegram

JSON = dict[str, Any]


@dataclass
class World:
    tg: FakeTelegram
    handoff: Handoff
    desk: TelegramDesk
    commune_group: JSON
    fallback_group: JSON
    lan: JSON  # volunteer of 00004
    lead: JSON  # lead of 00004
    hoa: JSON  # volunteer of another commune
    stranger: JSON  # not on the roster


@pytest.fixture
async def world(app_database: str) -> AsyncIterator[World]:
    with FakeTelegram() as tg:
        commune_group, fallback = tg.forum_group("Ba Đình"), tg.forum_group("Chung")
        people = [tg.user(name) for name in ("Lan", "Tuấn", "Hoa", "Khách")]
        for person in people:
            tg.private_chat(person)
        lan, lead, hoa, stranger = people
        with session_scope() as session:
            link_desk(session=session, chat_id=commune_group["id"], communes=["00004"])
            for user, commune, role in (
                (lan, "00004", VolunteerRole.VOLUNTEER),
                (lead, "00004", VolunteerRole.LEAD),
                (hoa, "00008", VolunteerRole.VOLUNTEER),
            ):
                add_volunteer(
                    session=session,
                    display_name=user["first_name"],
                    communes=[commune],
                    telegram_user_id=user["id"],
                    role=role,
                )
            set_commune(session=session, resident_id="r1", commune_code="00004")
        base = tg.base_url
        bot = Bot(tg.token, base_url=f"{base}/bot", base_file_url=f"{base}/file/bot")
        async with bot:
            outbox = Outbox(make_redis(None), Limits(per_chat_interval=0.0))
            sender = asyncio.create_task(outbox.run("telegram", TelegramTransport(bot)))
            handoff = make_handoff(MemorySender(), None, Clock())  # type: ignore[arg-type]
            handoff.notifiers.clear()
            desk = TelegramDesk(bot, handoff, outbox, fallback["id"])
            handoff.notifiers.append(desk)
            yield World(tg, handoff, desk, commune_group, fallback, lan, lead, hoa, stranger)
            sender.cancel()


async def sent(world: World, chat: JSON, count: int) -> list[JSON]:
    """What the bot sent to `chat`, once the outbox has delivered `count` messages there."""
    await world.tg.wait_for_async(lambda _: len(world.tg.sent(chat_id=chat["id"])) >= count)
    found = world.tg.sent(chat_id=chat["id"])
    assert len(found) == count, found
    return found


async def open_ticket(world: World) -> tuple[int, JSON]:
    await world.handoff.request(
        resident="r1",
        message=InboundMessage(channel="web", channel_user_id="u1", text="gap nguoi"),
        reason=TicketReason.SCAM,
        summary="Người dân nhắn gần đây:\n• bi lua chuyen tien",
    )
    ticket = await world.handoff.active("r1")
    assert ticket is not None
    (card,) = world.tg.sent(chat_id=world.commune_group["id"])
    return ticket.id, card


async def press(world: World, user: JSON, card: JSON, data: str) -> str:
    """`user` presses a card button; returns the text the bot answered the press with."""
    return await handle(world, world.tg.press(user, card, data=data))


async def handle(world: World, query: JSON) -> str:
    """The desk handles one callback query; returns the text it answered it with."""
    update = Update.de_json({"update_id": 1, "callback_query": query}, world.desk.bot)
    await world.desk.on_button(update, None)  # type: ignore[arg-type]
    answers = [a for a in world.tg.answered_callbacks() if a["callback_query_id"] == query["id"]]
    assert len(answers) == 1  # every press is answered
    return str(answers[0].get("text") or "")


async def test_a_ticket_opens_a_topic_in_its_communes_group(world: World) -> None:
    ticket, card = await open_ticket(world)
    (topic,) = world.tg.topics(world.commune_group)
    assert topic["name"] == f"#{ticket} · Phường Ba Đình, Hà Nội · Khẩn: nghi bị lừa đảo"
    assert card["message_thread_id"] == topic["message_thread_id"]
    assert card["text"].startswith(f"Yêu cầu #{ticket} — Khẩn: nghi bị lừa đảo")
    assert "bi lua chuyen tien" in card["text"]
    assert world.tg.topics(world.fallback_group) == []


async def test_who_may_press_what(world: World) -> None:
    ticket, card = await open_ticket(world)
    assert "chưa có trong danh sách" in await press(world, world.stranger, card, f"d:c:{ticket}")
    assert "xã khác" in await press(world, world.hoa, card, f"d:c:{ticket}")
    # Two presses at the same moment, on the same card: one wins, the other is told who.
    lan_press = world.tg.press(world.lan, card, data=f"d:c:{ticket}")
    lead_press = world.tg.press(world.lead, card, data=f"d:c:{ticket}")
    assert await handle(world, lan_press) == f"Anh/chị đã nhận yêu cầu #{ticket}."
    assert await handle(world, lead_press) == "Yêu cầu này đã có Lan nhận."
    card = world.tg.sent(chat_id=world.commune_group["id"])[0]  # now with the close buttons
    assert (
        await press(world, world.lead, card, f"d:r:{ticket}")
        == "Chỉ người đã nhận yêu cầu mới đóng được ạ."
    )
    assert await world.handoff.active("r1") is not None
    assert await press(world, world.lan, card, f"d:b:{ticket}") == ""
    assert await world.handoff.active("r1") is None
    (topic,) = world.tg.topics(world.commune_group)
    assert topic["is_closed"]
    (final_card, *notes) = await sent(world, world.commune_group, 3)
    assert "reply_markup" not in final_card or not final_card["reply_markup"]["inline_keyboard"]
    assert [n["text"] for n in notes][-1] == f"Yêu cầu #{ticket}: Đã xong."


async def test_reminder_in_the_topic_then_escalation_to_leads_and_fallback(world: World) -> None:
    ticket, _ = await open_ticket(world)
    view = await world.handoff.active("r1")
    assert view is not None
    await world.desk.reminded(view, 30)
    await world.desk.escalated(view, 60)
    in_topic = [m["text"] for m in await sent(world, world.commune_group, 3)][1:]
    assert in_topic[0].startswith("⏰ Người dân đã chờ 30 phút")
    assert in_topic[1].startswith(f"⚠️ Yêu cầu #{ticket} (Phường Ba Đình, Hà Nội")
    to_lead = [m["text"] for m in await sent(world, world.lead, 1)]
    assert to_lead == [in_topic[1]]
    assert world.tg.sent(chat_id=world.lan["id"]) == []  # volunteers are not paged
    assert [m["text"] for m in await sent(world, world.fallback_group, 1)] == [in_topic[1]]


async def test_a_ticket_without_a_commune_is_claimed_in_the_fallback_group(world: World) -> None:
    """Finding 8: a scam reported before the resident named their commune opens a topic in
    the fallback group, where anyone on the roster may claim it (before, nobody could)."""
    await world.handoff.request(
        resident="r9",
        message=InboundMessage(channel="web", channel_user_id="u9", text="cuu toi"),
        reason=TicketReason.SCAM,
    )
    ticket = await world.handoff.active("r9")
    assert ticket is not None
    (topic,) = world.tg.topics(world.fallback_group)
    assert topic["name"] == f"#{ticket.id} · Chưa rõ xã · Khẩn: nghi bị lừa đảo"
    (card,) = world.tg.sent(chat_id=world.fallback_group["id"])
    assert "chưa có trong danh sách" in await press(world, world.stranger, card, f"d:c:{ticket.id}")
    assert await press(world, world.hoa, card, f"d:c:{ticket.id}") == (
        f"Anh/chị đã nhận yêu cầu #{ticket.id}."
    )
    claimed = world.tg.sent(chat_id=world.fallback_group["id"])[0]
    assert await press(world, world.hoa, claimed, f"d:r:{ticket.id}") == ""
    assert await world.handoff.active("r9") is None
