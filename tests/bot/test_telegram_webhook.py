"""Telegram webhook mode through the gateway app: the secret token is checked (403 without
it), an update is stored before the 200, a retried update gets no second answer, and the
stored payload (chat text) is dropped once processed. Rasa is unreachable here, so the bot's
answer is the polite "busy" reply, sent through the outbox to the fake Bot API."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.app import create_app
from bot.router import BUSY_REPLY
from core.db import session_scope
from core.models import InboundUpdate
from tests.factories import offline_settings
from tests.fakes.telegram_api import FakeTelegram

SECRET = "webhook-secret-123"
HEADER = "X-Telegram-Bot-Api-Secret-Token"


@pytest.fixture
def gateway(app_database: str) -> Iterator[tuple[TestClient, FakeTelegram]]:
    with FakeTelegram(auto_webhook=False) as telegram:
        settings = offline_settings(
            app_database,
            telegram_bot_token=telegram.token,
            telegram_api_base_url=telegram.base_url,
            telegram_mode="webhook",
            telegram_webhook_url="https://cns.example.vn/webhooks/telegram",
            telegram_webhook_secret=SECRET,
        )
        with TestClient(create_app(settings)) as client:
            yield client, telegram


def processed_row() -> InboundUpdate:
    """The one stored update, once it is marked processed (just after its reply was queued)."""
    deadline = time.monotonic() + 10
    while True:
        with session_scope() as session:
            (row,) = session.scalars(select(InboundUpdate)).all()
        if row.processed_at is not None or time.monotonic() > deadline:
            return row
        time.sleep(0.05)


def test_the_webhook_is_registered_with_its_secret(
    gateway: tuple[TestClient, FakeTelegram],
) -> None:
    _, telegram = gateway
    info = telegram.webhook_info()
    assert info["url"] == "https://cns.example.vn/webhooks/telegram"
    (call,) = telegram.calls("setWebhook")
    assert call["params"]["secret_token"] == SECRET


def test_wrong_or_missing_secret_is_refused(gateway: tuple[TestClient, FakeTelegram]) -> None:
    client, telegram = gateway
    update = telegram.user_text(telegram.user("Ba"), "xin chao")
    assert client.post("/webhooks/telegram", json=update).status_code == 403
    refused = client.post("/webhooks/telegram", json=update, headers={HEADER: "sai"})
    assert refused.status_code == 403
    with session_scope() as session:
        assert session.scalars(select(InboundUpdate)).all() == []


def test_an_update_is_stored_answered_once_and_its_text_dropped(
    gateway: tuple[TestClient, FakeTelegram],
) -> None:
    client, telegram = gateway
    user = telegram.user("Ba")
    telegram.user_text(user, "xin chao")
    (update,) = telegram.pending_updates()
    for _ in range(3):  # Telegram retries when it did not hear the 200 in time
        response = client.post("/webhooks/telegram", json=update, headers={HEADER: SECRET})
        assert response.status_code == 200
    telegram.wait_for(lambda m: m.get("text") == BUSY_REPLY, timeout=15)
    row = processed_row()
    assert row.update_key == str(update["update_id"])
    assert row.processed_at is not None
    assert row.payload is None
    assert [m["text"] for m in telegram.sent(chat_id=user["id"])] == [BUSY_REPLY]
    bad = client.post("/webhooks/telegram", content=b"{", headers={HEADER: SECRET})
    assert bad.status_code == 400


def test_what_no_parser_or_table_can_take_is_refused(
    gateway: tuple[TestClient, FakeTelegram],
) -> None:
    client, _ = gateway
    deep = b'{"update_id": 1, "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    for body in (deep, b"[1]", b'{"update_id": 100000000000000000000}', b'{"update_id": "7"}'):
        response = client.post("/webhooks/telegram", content=body, headers={HEADER: SECRET})
        assert response.status_code == 400
    with session_scope() as session:
        assert session.scalars(select(InboundUpdate)).all() == []


def test_odd_but_storable_updates_are_taken(gateway: tuple[TestClient, FakeTelegram]) -> None:
    client, telegram = gateway
    user = telegram.user("Ba")
    telegram.user_text(user, "chào\x00 bác")
    (update,) = telegram.pending_updates()
    response = client.post("/webhooks/telegram", json=update, headers={HEADER: SECRET})
    assert response.status_code == 200  # stored without its NUL
    telegram.wait_for(lambda m: m.get("text") == BUSY_REPLY, timeout=15)
    odd = {"update_id": update["update_id"] + 1, "callback_query": {"message": [1]}}
    assert client.post("/webhooks/telegram", json=odd, headers={HEADER: SECRET}).status_code == 200
