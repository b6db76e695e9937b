"""The outbox against the fake Bot API (real python-telegram-bot, real wire format) on the
in-process Redis stand-in and real Redis: order per chat, pacing without a single 429 from a
server enforcing Telegram's limits, retry after 429 and 5xx, dead letters, and a sender killed
mid-queue losing nothing and sending nothing twice."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import pytest
from redis.asyncio import Redis
from telegram import Bot
from telegram.request import HTTPXRequest

from bot.channels.telegram_wire import TelegramTransport, queue
from bot.messages import OutboundMessage
from bot.outbox import Envelope, Limits, Outbox
from tests.fakes.telegram_api import FakeTelegram
from tests.stopping import cancelled

JSON = dict[str, Any]


@pytest.fixture
def make_outbox(fresh_redis: Redis, unique: str) -> Any:
    """Outboxes under this test's own key prefix (real Redis is shared with other runs)."""

    def make(limits: Limits | None = None, **kwargs: Any) -> Outbox:
        return Outbox(fresh_redis, limits or Limits(), namespace=f"{unique}:outbox", **kwargs)

    return make


@pytest.fixture
def telegram() -> Iterator[FakeTelegram]:
    with FakeTelegram(enforce_limits=True) as fake:
        yield fake


def residents(telegram: FakeTelegram, count: int) -> list[JSON]:
    """Users who have started the bot (so it may write to them)."""
    users = [telegram.user(f"U{n}") for n in range(count)]
    for user in users:
        telegram.private_chat(user)
    return users


async def sender(outbox: Outbox, fake: FakeTelegram) -> tuple[Bot, asyncio.Task[None]]:
    bot = Bot(
        fake.token,
        base_url=f"{fake.base_url}/bot",
        request=HTTPXRequest(connection_pool_size=64, pool_timeout=30),
    )
    await bot.initialize()
    return bot, asyncio.create_task(outbox.run("telegram", TelegramTransport(bot)))


def texts(fake: FakeTelegram, chat: int) -> list[str]:
    return [m.get("text", "") for m in fake.sent(chat_id=chat)]


async def wait_until(check: Any) -> None:
    """Poll the fake (a server in another thread: nothing to await on) until `check` holds."""
    async with asyncio.timeout(20):
        while not check():  # noqa: ASYNC110
            await asyncio.sleep(0.05)


async def announce_to(outbox: Outbox, count: int) -> None:
    """An announcement's bulk messages, one to each of chats "0", "1", …"""
    for chat in range(count):
        await outbox.put(Envelope("telegram", str(chat), OutboundMessage("tb"), bulk=True))


async def stop(bot: Bot, task: asyncio.Task[None]) -> None:
    await cancelled(task)
    async with asyncio.timeout(10):
        await bot.shutdown()


async def test_paced_in_order_without_a_single_429(
    make_outbox: Any, fresh_redis: Redis, telegram: FakeTelegram
) -> None:
    outbox = make_outbox()
    users = residents(telegram, 8)
    for n in range(3):
        for user in users:
            await queue(outbox, user["id"], [OutboundMessage(f"tin {n}")])
    bot, task = await sender(outbox, telegram)
    await wait_until(lambda: all(len(texts(telegram, u["id"])) == 3 for u in users))
    await stop(bot, task)
    assert all(texts(telegram, u["id"]) == ["tin 0", "tin 1", "tin 2"] for u in users)
    assert telegram.rate_limited_count == 0
    assert await outbox.pending("telegram") == 0


async def test_a_group_is_paced_per_minute_across_its_topics(
    make_outbox: Any, fresh_redis: Redis, telegram: FakeTelegram
) -> None:
    # A clock 60× faster than the wall: a minute of pacing takes one second of the test.
    outbox = make_outbox(Limits(group_per_minute=3), clock=lambda: time.monotonic() * 60)
    group = telegram.forum_group("Bàn hỗ trợ")
    for n in range(5):
        await queue(outbox, group["id"], [OutboundMessage(f"g{n}")], group=True)
    bot, task = await sender(outbox, telegram)
    started = time.monotonic()
    await wait_until(lambda: len(texts(telegram, group["id"])) == 3)
    first_three = time.monotonic() - started
    await wait_until(lambda: len(texts(telegram, group["id"])) == 5)
    all_five = time.monotonic() - started
    await stop(bot, task)
    assert texts(telegram, group["id"]) == [f"g{n}" for n in range(5)]
    assert all_five - first_three >= 0.5  # the fourth waited for the minute to pass


async def test_a_direct_send_to_a_group_counts_in_its_minute(
    make_outbox: Any, fresh_redis: Redis, telegram: FakeTelegram
) -> None:
    """A ticket's card goes to the desk group outside the stream: it waits for the group's
    minute as the stream's messages do, and counts in it."""
    outbox = make_outbox(Limits(group_per_minute=3), clock=lambda: time.monotonic() * 60)
    group = telegram.forum_group("Bàn hỗ trợ")
    for n in range(2):
        await queue(outbox, group["id"], [OutboundMessage(f"g{n}")], group=True)
    bot, task = await sender(outbox, telegram)
    await wait_until(lambda: len(texts(telegram, group["id"])) == 2)
    started = time.monotonic()
    await outbox.direct(
        "telegram", lambda: bot.send_message(group["id"], "thẻ 1"), group=str(group["id"])
    )
    third = time.monotonic() - started
    await outbox.direct(
        "telegram", lambda: bot.send_message(group["id"], "thẻ 2"), group=str(group["id"])
    )
    fourth = time.monotonic() - started
    await stop(bot, task)
    assert texts(telegram, group["id"]) == ["g0", "g1", "thẻ 1", "thẻ 2"]
    assert fourth - third >= 0.5  # the fourth waited for the group's minute to pass


async def test_429_and_5xx_are_retried_and_order_is_kept(
    make_outbox: Any, fresh_redis: Redis, telegram: FakeTelegram
) -> None:
    outbox = make_outbox()
    (user,) = residents(telegram, 1)
    telegram.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    telegram.fail_next("sendMessage", 502, "Bad Gateway")
    for n in range(3):
        await queue(outbox, user["id"], [OutboundMessage(f"tin {n}")])
    bot, task = await sender(outbox, telegram)
    await wait_until(lambda: len(texts(telegram, user["id"])) == 3)
    await stop(bot, task)
    assert texts(telegram, user["id"]) == ["tin 0", "tin 1", "tin 2"]
    failed = [c for c in telegram.calls("sendMessage") if not c["ok"]]
    assert len(failed) == 2


async def test_a_refused_message_goes_to_dead_letters_and_the_rest_goes_on(
    make_outbox: Any, fresh_redis: Redis, telegram: FakeTelegram
) -> None:
    outbox = make_outbox()
    (user,) = residents(telegram, 1)
    telegram.fail_next("sendMessage", 400, "Bad Request: chat not found")
    for n in range(2):
        await queue(outbox, user["id"], [OutboundMessage(f"tin {n}")])
    bot, task = await sender(outbox, telegram)
    await wait_until(lambda: len(texts(telegram, user["id"])) == 1)
    await stop(bot, task)
    assert texts(telegram, user["id"]) == ["tin 1"]
    dead: list[tuple[str, dict[str, str]]] = await fresh_redis.xrange(outbox.dead_letters)  # type: ignore[assignment]
    assert len(dead) == 1
    assert '"tin 0"' in dead[0][1]["e"]
    assert "chat not found" in dead[0][1]["why"].lower()


async def test_a_sender_killed_mid_queue_loses_nothing_and_repeats_nothing(
    make_outbox: Any, fresh_redis: Redis, telegram: FakeTelegram
) -> None:
    outbox = make_outbox(Limits(per_chat_interval=0.2))
    users = residents(telegram, 3)
    for n in range(6):
        for user in users:
            await queue(outbox, user["id"], [OutboundMessage(f"tin {n}")])
    bot, task = await sender(outbox, telegram)
    await wait_until(lambda: sum(len(texts(telegram, u["id"])) for u in users) >= 6)
    await stop(bot, task)  # killed with messages read but not sent
    await fresh_redis.delete(
        outbox.stream("telegram") + ":lease"
    )  # the dead sender's lease ran out
    bot, task = await sender(outbox, telegram)
    await wait_until(lambda: all(len(texts(telegram, u["id"])) >= 6 for u in users))
    await asyncio.sleep(0.5)  # anything sent twice would show up by now
    await stop(bot, task)
    for user in users:
        assert texts(telegram, user["id"]) == [f"tin {n}" for n in range(6)]
    assert await outbox.pending("telegram") == 0


async def test_a_sender_that_lost_its_lease_sends_nothing_the_next_one_sent(
    make_outbox: Any, fresh_redis: Redis, telegram: FakeTelegram
) -> None:
    """A stalled gateway whose lease another replica took: once it gets the lease back it
    sends nothing the other one sent (and removed) meanwhile."""
    outbox = make_outbox(Limits(per_chat_interval=0.3))
    users = residents(telegram, 2)
    for n in range(8):
        for user in users:
            await queue(outbox, user["id"], [OutboundMessage(f"tin {n}")])
    stream, lease = outbox.stream("telegram"), outbox.stream("telegram") + ":lease"
    bot, task = await sender(outbox, telegram)
    await wait_until(lambda: sum(len(texts(telegram, u["id"])) for u in users) >= 2)
    await fresh_redis.set(lease, "another-gateway", ex=60)  # taken while this one stalled
    await asyncio.sleep(1.5)  # it notices at its next renewal; a send under way finishes
    sent = {u["id"]: texts(telegram, u["id"]) for u in users}
    entries: list[tuple[str, dict[str, str]]] = await fresh_redis.xrange(stream)  # type: ignore[assignment]
    for entry_id, _ in entries:  # the other gateway sends the rest and removes them
        await fresh_redis.xack(stream, "senders", entry_id)
        await fresh_redis.xdel(stream, entry_id)
    await fresh_redis.delete(lease)  # ...and goes away
    await asyncio.sleep(2.0)  # this one holds the lease again: a repeat would show by now
    await stop(bot, task)
    assert entries, "the other gateway had something left to send"
    assert {u["id"]: texts(telegram, u["id"]) for u in users} == sent


async def test_long_text_is_split_before_queueing(
    make_outbox: Any, fresh_redis: Redis, telegram: FakeTelegram
) -> None:
    outbox = make_outbox()
    (user,) = residents(telegram, 1)
    sentence = "Dạ, bác làm theo từng bước nhé. "
    await queue(outbox, user["id"], [OutboundMessage(sentence * 300)])
    assert await outbox.pending("telegram") == 3
    bot, task = await sender(outbox, telegram)
    await wait_until(lambda: len(texts(telegram, user["id"])) == 3)
    await stop(bot, task)
    parts = texts(telegram, user["id"])
    assert all(len(p) <= 4096 for p in parts)
    assert all(p.endswith("nhé.") for p in parts)
    assert " ".join(parts) == (sentence * 300).strip()


async def test_bulk_messages_take_only_the_slots_replies_leave(
    make_outbox: Any, fresh_redis: Redis, telegram: FakeTelegram
) -> None:
    """60 announcement messages queued before a burst of 10 replies: the replies jump ahead of
    every bulk message not yet started, and each tagged message reports its outcome."""
    outbox = make_outbox()
    crowd = residents(telegram, 60)
    askers = residents(telegram, 10)
    for n, user in enumerate(crowd):
        await outbox.put(
            Envelope("telegram", str(user["id"]), OutboundMessage("tb"), bulk=True, tag=f"t{n}")
        )
    telegram.block_bot(crowd[-1])
    bot, task = await sender(outbox, telegram)
    await wait_until(lambda: len(telegram.sent()) >= 5)
    for user in askers:
        await queue(outbox, user["id"], [OutboundMessage("trả lời")])
    await wait_until(lambda: len(telegram.sent()) == 69)
    async with asyncio.timeout(10):
        while len(await outbox.read_outcomes()) < 60:  # noqa: ASYNC110 (Redis: nothing to await on)
            await asyncio.sleep(0.05)
    await stop(bot, task)
    order = [m["text"] for m in telegram.sent()]
    first_reply = order.index("trả lời")
    assert order[first_reply : first_reply + 10] == ["trả lời"] * 10
    assert first_reply <= 5 + 3  # a few bulk sends were already under way
    outcomes = await outbox.read_outcomes()
    assert sorted((o.tag, o.reason) for o in outcomes) == sorted(
        [(f"t{n}", None) for n in range(59)] + [("t59", "blocked")]
    )
    await outbox.drop_outcomes(outcomes)
    assert await outbox.read_outcomes() == []
    assert telegram.rate_limited_count == 0


class DelayedArrivals:
    """A platform reached after a delay that varies (the network, or a server that stalls and
    then takes its backlog at once): it admits each message when the delay is over, and keeps
    the moments, to count them in every second as Telegram does."""

    def __init__(self) -> None:
        self.admitted: list[float] = []

    async def deliver(self, envelope: Envelope) -> None:
        if (int(envelope.chat) // 10) % 2 == 0:  # ten stalled, ten not, ten stalled, ...
            await asyncio.sleep(0.3)
        self.admitted.append(time.monotonic())

    def busiest_second(self) -> int:
        times = sorted(self.admitted)
        return max(sum(t <= start < t + 1.0 for t in times) for start in times)


async def test_arrivals_bunched_by_delays_still_keep_to_30_a_second(make_outbox: Any) -> None:
    """Evenly spaced sends reach the platform unevenly; counting what may have arrived in the
    last second (sends finished within it, and those still under way) keeps every second of
    arrivals within the limit."""
    outbox = make_outbox()
    await announce_to(outbox, 90)
    platform = DelayedArrivals()
    started = time.monotonic()
    task = asyncio.create_task(outbox.run("telegram", platform))
    async with asyncio.timeout(20):
        while len(platform.admitted) < 90:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    elapsed = time.monotonic() - started
    await cancelled(task)
    assert platform.busiest_second() <= 30
    assert elapsed < 90 / 20  # the stalled round trips count, and still 20 a second or more


async def test_a_stop_that_meets_a_finished_send_still_stops_the_sender(
    make_outbox: Any,
) -> None:
    """The gateway stops the sender (cancels its task) in the same moment as a send finishes
    and wakes it: the sender still ends. (`asyncio.wait_for` in Python 3.11 returned the
    finished wait and dropped the cancellation, and the sender ran on: shutdown hung.)"""
    outbox = make_outbox()
    task = asyncio.create_task(outbox.run("telegram", DelayedArrivals()))

    def waiting_to_be_woken() -> bool:  # idle: nothing to send (Event keeps its `_waiters`)
        running = outbox.senders.get("telegram")
        return running is not None and bool(running.wake._waiters)

    await wait_until(waiting_to_be_woken)
    outbox.senders["telegram"].wake.set()  # a send finished…
    await cancelled(task)  # …and the stop comes before the sender has run again


async def test_bulk_messages_leave_the_reserve_of_each_second(make_outbox: Any) -> None:
    """Bulk messages alone use at most `global_per_second - bulk_reserve` of every second:
    the rest stays free for replies and for the sends made outside the stream."""
    outbox = make_outbox(Limits(bulk_reserve=5))
    await announce_to(outbox, 75)
    platform = DelayedArrivals()
    task = asyncio.create_task(outbox.run("telegram", platform))
    async with asyncio.timeout(20):
        while len(platform.admitted) < 75:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    await cancelled(task)
    assert platform.busiest_second() <= 25


async def test_direct_sends_are_paced_with_the_stream(
    make_outbox: Any, telegram: FakeTelegram
) -> None:
    """Sends made outside the stream (a ticket's card, whose id is kept) while an announcement
    fills the second: counted with the stream's sends, so the platform never answers 429 —
    even with no reserve left for them."""
    outbox = make_outbox(Limits(bulk_reserve=0))
    crowd = residents(telegram, 90)
    cards = residents(telegram, 12)
    for user in crowd:
        await outbox.put(Envelope("telegram", str(user["id"]), OutboundMessage("tb"), bulk=True))
    bot, task = await sender(outbox, telegram)
    await wait_until(lambda: len(telegram.sent()) >= 35)  # the second is full of bulk sends
    sent = await asyncio.gather(
        *(outbox.direct("telegram", lambda u=u: bot.send_message(u["id"], "thẻ")) for u in cards)
    )
    await wait_until(lambda: len(telegram.sent()) == 102)
    await stop(bot, task)
    assert [m.text for m in sent] == ["thẻ"] * 12
    assert telegram.rate_limited_count == 0


class SlowPlatform:
    """A platform whose answer takes `seconds`; it keeps which chats it accepted."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.accepted: list[str] = []
        self.started = asyncio.Event()

    async def deliver(self, envelope: Envelope) -> None:
        self.started.set()
        await asyncio.sleep(self.seconds)
        self.accepted.append(envelope.chat)


async def test_a_stopping_sender_finishes_the_sends_under_way(make_outbox: Any) -> None:
    """The gateway stopping (a restart, a deploy) lets the sends under way finish and be
    removed from the stream: the next sender does not send them again."""
    outbox = make_outbox()
    await announce_to(outbox, 3)
    slow = SlowPlatform(0.5)
    task = asyncio.create_task(outbox.run("telegram", slow))
    async with asyncio.timeout(10):
        await slow.started.wait()
    await cancelled(task)  # while the first sends wait for their answer
    assert slow.accepted != []
    fast = SlowPlatform(0.0)
    task = asyncio.create_task(outbox.run("telegram", fast))
    async with asyncio.timeout(10):
        while len(slow.accepted) + len(fast.accepted) < 3:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    await asyncio.sleep(0.5)  # a repeat would show by now
    await cancelled(task)
    assert sorted(slow.accepted + fast.accepted) == ["0", "1", "2"]


async def test_chats_done_with_are_forgotten(make_outbox: Any) -> None:
    """The sender keeps a chat only while it has something queued or pacing to keep: after an
    announcement to 90 residents it walks no 90 idle chats on every turn of its loop."""
    outbox = make_outbox()
    await announce_to(outbox, 90)
    platform = SlowPlatform(0.0)
    task = asyncio.create_task(outbox.run("telegram", platform))
    async with asyncio.timeout(20):
        while len(platform.accepted) < 90:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        assert len(outbox.senders["telegram"].chats) > 10  # the last second's, pacing kept
        while outbox.senders["telegram"].chats:  # noqa: ASYNC110
            await asyncio.sleep(0.1)
    await cancelled(task)
    assert "telegram" not in outbox.senders
