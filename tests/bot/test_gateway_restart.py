"""A gateway killed with SIGKILL in the middle of its outbound queue, while residents keep
writing, loses nothing and answers every update exactly once after it starts again.

The real gateway process polls the fake Telegram Bot API; PostgreSQL keeps the inbound
updates, Redis the outbox. Rasa is unreachable on purpose: each update's answer is the polite
"busy" reply, so the counts measure the channel machinery alone.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
import redis

from bot.router import BUSY_REPLY
from cns.stack import free_port
from tests.databases import postgres_base_url, scratch_database
from tests.fakes.telegram_api import FakeTelegram
from tests.gateway_process import Gateway, gateway_process_env

REDIS_URL = os.environ.get("TEST_REDIS_URL")
pytestmark = pytest.mark.skipif(
    not (REDIS_URL and postgres_base_url()),
    reason="needs TEST_DATABASE_URL and TEST_REDIS_URL (state that outlives the process)",
)


def _answers(telegram: FakeTelegram) -> Counter[int]:
    return Counter(m["chat"]["id"] for m in telegram.sent() if m.get("text") == BUSY_REPLY)


def _wait_for(check: Callable[[], bool], seconds: float) -> None:
    """Until `check()` holds or `seconds` pass (the assertions after it say what was wrong)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)


def test_a_killed_gateway_loses_nothing_and_answers_each_update_once(tmp_path: Path) -> None:
    assert REDIS_URL is not None
    redis_url = REDIS_URL.rsplit("/", 1)[0] + "/8"  # the gateway's fixed keys, kept apart
    store = redis.Redis.from_url(redis_url)
    store.flushdb()
    with scratch_database("postgresql", tmp_path) as database, FakeTelegram() as telegram:
        first, second = telegram.user("Bác Năm"), telegram.user("Chị Hoa")
        for user in (first, second):
            telegram.private_chat(user)
        env = gateway_process_env(database, telegram, redis_url, TELEGRAM_MODE="polling")
        gateway = Gateway(env, free_port())
        gateway.start()
        try:
            for n in range(6):
                telegram.user_text(first, f"tin {n}")
            # Six replies to one chat leave one per second (Telegram's per-chat limit).
            _wait_for(lambda: _answers(telegram)[first["id"]] >= 2, 30)
            time.sleep(0.4)  # between two sends: no message in flight
            gateway.kill()
            before = _answers(telegram)[first["id"]]
            assert 2 <= before < 6, "the kill should land in the middle of the queue"

            telegram.user_text(first, "tin 6")  # written while the gateway is down
            for n in range(3):
                telegram.user_text(second, f"tin {n}")
            gateway.start()
            _wait_for(
                lambda: (
                    _answers(telegram)[first["id"]] >= 7 and _answers(telegram)[second["id"]] >= 3
                ),
                90,
            )
            time.sleep(2.5)  # a second answer to anything would arrive by now
        finally:
            gateway.stop()
            store.flushdb()
            store.close()
    answers = _answers(telegram)
    assert (answers[first["id"]], answers[second["id"]]) == (7, 3)
    assert not telegram.pending_updates()
