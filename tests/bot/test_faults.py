"""The gateway's long-running work under dependency faults (findings 1–5 of issue 13), against
a private redis-server the test restarts, real PostgreSQL behind a relay the test makes hang,
and the fake Telegram Bot API:

1. a Redis restart does not end the outbox sender: what was queued before and after is sent;
2. a database error while an update is finished does not end its inbox worker: the update is
   answered once and marked processed when the database is back;
3. a database error does not stop Telegram long polling: updates sent meanwhile are answered;
4. a hanging PostgreSQL turns /healthz red within two seconds, and green after;
5. one malformed update does not fail the others of its batch.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import make_url, select
from telegram import Bot

from bot.app import create_app
from bot.channels.telegram import poll
from bot.channels.telegram_wire import TelegramTransport, queue
from bot.inbox import Inbox
from bot.messages import OutboundMessage
from bot.outbox import Envelope, Outbox
from bot.tasks import Tasks
from core import db
from core.kv import make_redis
from core.models import InboundUpdate
from tests.databases import forget_database_caches, postgres_base_url, scratch_database
from tests.factories import offline_settings
from tests.fakes.telegram_api import FakeTelegram
from tests.faults import PostgresRelay, RedisServer

pytestmark = pytest.mark.skipif(not postgres_base_url(), reason="needs TEST_DATABASE_URL")

JSON = dict[str, Any]


async def wait_until(check: Any, seconds: float = 30) -> None:
    async with asyncio.timeout(seconds):
        while not check():  # noqa: ASYNC110
            await asyncio.sleep(0.05)


@pytest.fixture
def telegram() -> Iterator[FakeTelegram]:
    with FakeTelegram() as fake:
        yield fake


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    with RedisServer(tmp_path / "redis") as server:
        yield server


@pytest.fixture
def relay() -> Iterator[PostgresRelay]:
    with PostgresRelay() as running:
        yield running


@pytest.fixture
def relayed_database(
    tmp_path: Path, relay: PostgresRelay, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """A scratch PostgreSQL database reached through the relay, as the app's DATABASE_URL."""
    with scratch_database("postgresql", tmp_path) as direct:
        url = make_url(direct).set(host="127.0.0.1", port=relay.port)
        relayed = url.render_as_string(hide_password=False)
        monkeypatch.setenv("DATABASE_URL", relayed)
        forget_database_caches()
        yield relayed
        db.get_engine().dispose()
        forget_database_caches()


async def _bot(telegram: FakeTelegram) -> Bot:
    bot = Bot(telegram.token, base_url=f"{telegram.base_url}/bot")
    await bot.initialize()
    return bot


def _texts(telegram: FakeTelegram, chat: int) -> list[str]:
    return [m.get("text", "") for m in telegram.sent(chat_id=chat)]


async def test_a_redis_restart_does_not_end_the_outbox_sender(
    redis_server: RedisServer, telegram: FakeTelegram
) -> None:
    user = telegram.user("Bác Ba")
    telegram.private_chat(user)
    redis = make_redis(redis_server.url)
    outbox, tasks, bot = Outbox(redis), Tasks(), await _bot(telegram)
    tasks.spawn("outbox", lambda: outbox.run("telegram", TelegramTransport(bot)))
    try:
        await queue(outbox, user["id"], [OutboundMessage("trước")])
        await wait_until(lambda: _texts(telegram, user["id"]) == ["trước"])
        redis_server.kill()  # its data is gone with it: the stream and the consumer group too
        await wait_until(lambda: "outbox" in tasks.failing(), 10)
        redis_server.start()
        await queue(outbox, user["id"], [OutboundMessage("sau")])
        await wait_until(lambda: _texts(telegram, user["id"]) == ["trước", "sau"])
        await wait_until(lambda: tasks.failing() == [], 10)
        assert tasks.states["outbox"].restarts >= 1
    finally:
        await tasks.cancel()
        await bot.shutdown()
        await redis.aclose()


async def test_a_database_error_while_finishing_an_update_does_not_end_its_worker(
    relayed_database: str, relay: PostgresRelay, redis_server: RedisServer, unique: str
) -> None:
    redis = make_redis(redis_server.url)
    outbox, tasks = Outbox(redis, namespace=f"{unique}:outbox"), Tasks()
    answered: list[str] = []
    gate = asyncio.Event()

    async def process(payload: JSON) -> None:
        await gate.wait()
        answered.append(payload["text"])
        await outbox.put(Envelope("telegram", "1", OutboundMessage(payload["text"])))

    inbox = Inbox(redis, "t", process, lambda _: "same-chat", outbox)
    inbox.spawn(tasks)
    try:
        assert await inbox.accept("1", {"text": "một"})
        relay.hang()  # the answer is queued, then the database stops answering
        gate.set()
        await wait_until(lambda: answered == ["một"])
        await asyncio.sleep(1.0)
        relay.resume()
        relay.drop_all()
        assert await inbox.accept("2", {"text": "hai"})  # the same worker answers the next
        await wait_until(lambda: answered == ["một", "hai"], 60)
        await wait_until(lambda: _processed(relayed_database) == 2, 60)
        assert await outbox.pending("telegram") == 2  # each answered once
    finally:
        await tasks.cancel()
        await redis.aclose()


def _processed(url: str) -> int:
    engine = db.make_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(InboundUpdate.id).where(InboundUpdate.processed_at.is_not(None))
            )
            return len(rows.all())
    finally:
        engine.dispose()


async def test_telegram_polling_survives_a_database_outage(
    relayed_database: str, relay: PostgresRelay, redis_server: RedisServer, telegram: FakeTelegram
) -> None:
    user = telegram.user("Chị Tư")
    telegram.private_chat(user)
    redis = make_redis(redis_server.url)
    outbox, tasks, bot = Outbox(redis), Tasks(), await _bot(telegram)
    seen: list[int] = []

    async def process(payload: JSON) -> None:
        seen.append(payload["update_id"])

    inbox = Inbox(redis, "telegram", process, lambda _: "chat", outbox)
    inbox.spawn(tasks)
    tasks.spawn("polling", lambda: poll(bot, inbox))
    try:
        telegram.user_text(user, "trước")
        await wait_until(lambda: len(seen) == 1)
        relay.hang()
        relay.drop_all()
        telegram.user_text(user, "trong lúc hỏng")
        await asyncio.sleep(3.0)
        relay.resume()
        telegram.user_text(user, "sau")
        await wait_until(lambda: len(seen) == 3, 90)
        assert len(set(seen)) == 3
    finally:
        await tasks.cancel()
        await bot.shutdown()
        await redis.aclose()


def test_healthz_answers_within_two_seconds_while_postgres_hangs(
    relayed_database: str, relay: PostgresRelay
) -> None:
    settings = offline_settings(relayed_database)
    with TestClient(create_app(settings)) as client:
        relay.hang()
        relay.drop_all()  # the pool's connections were cut: every new one hangs
        started = time.monotonic()
        response = client.get("/healthz")
        took = time.monotonic() - started
        assert response.status_code == 503
        assert "database" in response.json()["failing"]
        assert took < 3.0, f"/healthz took {took:.2f} s"
        relay.resume()
        deadline = time.monotonic() + 10
        while client.get("/healthz").json()["checks"]["database"] is not True:
            assert time.monotonic() < deadline, "the database check did not recover"
            time.sleep(0.2)


async def test_one_malformed_update_does_not_fail_its_batch(
    relayed_database: str, redis_server: RedisServer
) -> None:
    redis = make_redis(redis_server.url)
    outbox, tasks = Outbox(redis), Tasks()
    done: list[str] = []

    async def process(payload: JSON) -> None:
        done.append(payload["text"])

    inbox = Inbox(redis, "t", process, lambda payload: payload["text"], outbox)
    inbox.spawn(tasks)
    try:
        # Arriving together, they are written in one statement; half an emoji (a lone
        # surrogate) cannot be encoded for PostgreSQL.
        results = await asyncio.gather(
            inbox.accept("1", {"text": "tốt"}),
            inbox.accept("2", {"text": "nửa \ud83d emoji"}),
            inbox.accept("3", {"text": "cũng tốt"}),
            return_exceptions=True,
        )
        assert results[0] is True
        assert results[2] is True
        assert isinstance(results[1], Exception)
        await wait_until(lambda: sorted(done) == ["cũng tốt", "tốt"])
    finally:
        await tasks.cancel()
        await redis.aclose()
