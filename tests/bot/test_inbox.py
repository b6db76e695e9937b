"""The inbox answers each stored update once, also across a crash between queueing its replies
and marking it processed, and across a stop in the middle of its processing."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio import Redis
from sqlalchemy import update

from bot.inbox import BURST_PER_SECOND, Arrivals, Inbox, Payload
from bot.messages import OutboundMessage
from bot.outbox import Envelope, Outbox
from core.db import get_engine, session_scope
from core.models import InboundUpdate
from core.repositories.inbound import unprocessed
from tests.databases import forget_database_caches, scratch_database


class Resident:
    """A process function: two replies per update; can be told to hang mid-way."""

    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox
        self.calls: list[str] = []
        self.hang = False

    async def __call__(self, payload: Payload) -> None:
        self.calls.append(payload["text"])
        await self.outbox.put(Envelope("telegram", "42", OutboundMessage(f"1: {payload['text']}")))
        if self.hang:
            await asyncio.Event().wait()  # stopped here
        await self.outbox.put(Envelope("telegram", "42", OutboundMessage(f"2: {payload['text']}")))


@pytest.fixture
async def outbox(redis: Redis) -> AsyncIterator[Outbox]:
    box = Outbox(redis, namespace=f"test-{uuid.uuid4().hex[:8]}")
    yield box
    await redis.delete(box.stream("telegram"))


def _inbox(redis: Redis, resident: Resident, outbox: Outbox) -> Inbox:
    return Inbox(redis, f"t{uuid.uuid4().hex[:6]}", resident, lambda _: "42", outbox)


async def _queued(redis: Redis, outbox: Outbox) -> list[str]:
    entries: list[tuple[str, dict[str, str]]] = await redis.xrange(outbox.stream("telegram"))  # type: ignore[assignment]
    return [Envelope.loads(fields["e"]).message.text for _, fields in entries]


async def _settle(inbox: Inbox, channel: str) -> None:
    for _ in range(200):
        with session_scope() as session:
            if await inbox.idle() and not unprocessed(session=session, channel=channel):
                return
        await asyncio.sleep(0.02)
    raise AssertionError("the inbox did not finish")


async def test_an_update_answered_before_a_crash_is_not_answered_again(
    app_database: str, redis: Redis, outbox: Outbox
) -> None:
    resident = Resident(outbox)
    inbox = _inbox(redis, resident, outbox)
    running = asyncio.create_task(inbox.run())
    assert await inbox.accept("1", {"text": "xin chao"})
    await _settle(inbox, inbox.channel)
    running.cancel()
    # The crash window: the replies and the marker were queued, the row was not yet updated.
    with session_scope() as session:
        session.execute(
            update(InboundUpdate).values(
                processed_at=None, payload=json.dumps({"text": "xin chao"})
            )
        )

    restarted = Inbox(redis, inbox.channel, resident, lambda _: "42", outbox)
    running = asyncio.create_task(restarted.run())
    assert await restarted.recover() == 1
    await _settle(restarted, inbox.channel)
    running.cancel()

    assert resident.calls == ["xin chao"]
    assert await _queued(redis, outbox) == ["1: xin chao", "2: xin chao"]


async def test_an_update_stopped_mid_way_is_answered_once_after_the_restart(
    app_database: str, redis: Redis, outbox: Outbox
) -> None:
    resident = Resident(outbox)
    resident.hang = True
    inbox = _inbox(redis, resident, outbox)
    running = asyncio.create_task(inbox.run())
    assert await inbox.accept("1", {"text": "kich hoat vneid"})
    while not resident.calls:  # noqa: ASYNC110 - the worker runs in this loop
        await asyncio.sleep(0.01)
    running.cancel()  # the gateway stops while the update is half done
    await asyncio.sleep(0)
    assert await _queued(redis, outbox) == []  # nothing half-said went out

    resident.hang = False
    restarted = Inbox(redis, inbox.channel, resident, lambda _: "42", outbox)
    running = asyncio.create_task(restarted.run())
    assert await restarted.recover() == 1
    await _settle(restarted, inbox.channel)
    running.cancel()

    assert resident.calls == ["kich hoat vneid", "kich hoat vneid"]
    assert await _queued(redis, outbox) == ["1: kich hoat vneid", "2: kich hoat vneid"]


async def test_a_failing_update_still_sends_what_it_said_and_is_not_retried(
    app_database: str, redis: Redis, outbox: Outbox
) -> None:
    class Broken(Resident):
        async def __call__(self, payload: Payload) -> None:
            await self.outbox.put(Envelope("telegram", "42", OutboundMessage("Dạ, em xem đã")))
            self.calls.append(payload["text"])
            raise RuntimeError("a bug")

    resident = Broken(outbox)
    inbox = _inbox(redis, resident, outbox)
    running = asyncio.create_task(inbox.run())
    assert await inbox.accept("1", {"text": "?"})
    await _settle(inbox, inbox.channel)
    assert await inbox.recover() == 0
    running.cancel()

    assert resident.calls == ["?"]
    assert await _queued(redis, outbox) == ["Dạ, em xem đã"]


def test_a_burst_of_arrivals_is_noticed_and_forgotten() -> None:
    now = [100.0]
    arrivals = Arrivals(clock=lambda: now[0])
    for _ in range(BURST_PER_SECOND):
        arrivals.count()
        now[0] += 0.5 / BURST_PER_SECOND
    assert not arrivals.busy()  # exactly the threshold in half a second: not a burst yet
    arrivals.count()
    assert arrivals.busy()
    now[0] += 1.2  # the next window starts remembering the last one's rate
    arrivals.count()
    assert arrivals.busy()
    now[0] += 2.5  # quiet for two seconds
    assert not arrivals.busy()
    arrivals.count()
    assert not arrivals.busy()


async def _answer_one(redis: Redis, channel: str, resident: Resident, outbox: Outbox) -> None:
    inbox = Inbox(redis, channel, resident, lambda _: "42", outbox)
    running = asyncio.create_task(inbox.run())
    text = f"tin {len(resident.calls)}"
    assert await inbox.accept(f"{100 + len(resident.calls)}", {"text": text})
    await _settle(inbox, channel)
    running.cancel()


async def test_a_fresh_database_on_the_same_redis_answers_its_own_updates(
    app_database: str,
    redis: Redis,
    outbox: Outbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Row ids start again in a new database (a restored backup, a test schema) while Redis
    keeps its marks: an update must not pass for answered because its row id was used."""
    resident = Resident(outbox)
    channel = f"t{uuid.uuid4().hex[:6]}"
    await _answer_one(redis, channel, resident, outbox)
    backend = "sqlite" if app_database.startswith("sqlite") else "postgresql"
    (tmp_path / "second").mkdir()
    with scratch_database(backend, tmp_path / "second") as second:
        monkeypatch.setenv("DATABASE_URL", second)
        forget_database_caches()
        await _answer_one(redis, channel, resident, outbox)
        get_engine().dispose()

    assert resident.calls == ["tin 0", "tin 1"]
    assert await _queued(redis, outbox) == ["1: tin 0", "2: tin 0", "1: tin 1", "2: tin 1"]


class Gated(Resident):
    """Waits at `gate` between its two replies while `hang` is set."""

    def __init__(self, outbox: Outbox) -> None:
        super().__init__(outbox)
        self.gate = asyncio.Event()

    async def __call__(self, payload: Payload) -> None:
        self.calls.append(payload["text"])
        await self.outbox.put(Envelope("telegram", "42", OutboundMessage(f"1: {payload['text']}")))
        if self.hang:
            await self.gate.wait()
        await self.outbox.put(Envelope("telegram", "42", OutboundMessage(f"2: {payload['text']}")))


async def _die(inbox: Inbox, running: asyncio.Task[None], redis: Redis) -> None:
    """The replica stops saying it is alive (killed, or stalled longer than ALIVE_SECONDS)."""
    running.cancel()
    await redis.delete(f"inbox:{inbox.channel}:alive:{inbox.instance}")


async def test_a_replica_takes_over_the_updates_of_one_that_died_and_answers_them_once(
    app_database: str, redis: Redis, outbox: Outbox
) -> None:
    resident = Gated(outbox)
    resident.hang = True
    first = _inbox(redis, resident, outbox)
    second = Inbox(redis, first.channel, resident, lambda _: "42", outbox)
    assert await first.beat() == []
    assert await second.beat() == []
    running = asyncio.create_task(first.run())
    assert await first.accept("1", {"text": "xin chao"})
    while not resident.calls:  # noqa: ASYNC110 - the worker runs in this loop
        await asyncio.sleep(0.01)
    assert await second.recover() == 0  # the first one is alive and answering it

    await _die(first, running, redis)
    assert await second.beat() == [first.instance]
    resident.hang = False
    survivor = asyncio.create_task(second.run())
    assert await second.recover() == 1
    await _settle(second, first.channel)
    survivor.cancel()

    assert resident.calls == ["xin chao", "xin chao"]
    assert await _queued(redis, outbox) == ["1: xin chao", "2: xin chao"]


async def test_a_replica_taken_for_dead_does_not_answer_what_another_took_over(
    app_database: str, redis: Redis, outbox: Outbox
) -> None:
    """The first replica stalls mid-update past ALIVE_SECONDS; the second takes the update
    over and answers it; when the first wakes up its replies are dropped, not sent twice."""
    resident = Gated(outbox)
    resident.hang = True
    first = _inbox(redis, resident, outbox)
    second = Inbox(redis, first.channel, Resident(outbox), lambda _: "42", outbox)
    running = asyncio.create_task(first.run())
    assert await first.accept("1", {"text": "xin chao"})
    while not resident.calls:  # noqa: ASYNC110 - the worker runs in this loop
        await asyncio.sleep(0.01)
    await redis.delete(f"inbox:{first.channel}:alive:{first.instance}")  # stalled, not dead

    survivor = asyncio.create_task(second.run())
    assert await second.recover() == 1
    await _settle(second, first.channel)
    resident.gate.set()  # the first one wakes up and finishes its copy
    for _ in range(50):
        await asyncio.sleep(0.01)
    running.cancel()
    survivor.cancel()

    assert await _queued(redis, outbox) == ["1: xin chao", "2: xin chao"]
