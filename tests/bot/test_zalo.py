"""The Zalo OA channel against the fake Zalo API (real wire format): signatures checked (403
otherwise), events stored and acknowledged, a replayed event answered once, receipts and
echoes ignored, buttons as oa.query.show templates, an expired token refreshed once with the
new single-use refresh token kept in the database, and the free-reply window. Rasa is
unreachable here, so the bot's answer is the polite "busy" reply."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.app import create_app
from bot.channels.zalo import (
    OUT_OF_REPLIES,
    OUTSIDE_WINDOW,
    ZaloTokens,
    ZaloTransport,
    ZaloWindow,
)
from bot.messages import Button, OutboundMessage
from bot.outbox import Envelope
from bot.router import BUSY_REPLY
from core.db import session_scope
from core.kv import make_redis
from core.models import ChannelToken, EventType, InboundUpdate, utcnow
from core.privacy import pseudonymize
from core.repositories.events import list_events
from core.repositories.residents import set_commune, set_consent
from core.repositories.subscriptions import is_subscribed, subscribe
from core.settings import Settings
from tests.factories import offline_settings
from tests.fakes.zalo_api import (
    DEFAULT_APP_ID,
    DEFAULT_OA_SECRET_KEY,
    DEFAULT_REFRESH_TOKEN,
    Delivery,
    FakeZalo,
    webhook_mac,
)


def zalo_settings(database_url: str, zalo: FakeZalo) -> Settings:
    return offline_settings(database_url, **zalo.gateway_settings())


@pytest.fixture
def client(app_database: str, zalo: FakeZalo) -> Iterator[TestClient]:
    with TestClient(create_app(zalo_settings(app_database, zalo))) as test_client:
        yield test_client


def post(client: TestClient, delivery: Delivery) -> int:
    headers = {"X-ZEvent-Signature": delivery.signature, "Content-Type": "application/json"}
    response = client.post("/webhooks/zalo", content=delivery.body, headers=headers)
    return int(response.status_code)


def stored() -> list[InboundUpdate]:
    with session_scope() as session:
        return list(session.scalars(select(InboundUpdate)))


def test_a_bad_signature_is_refused_and_nothing_is_kept(client: TestClient, zalo: FakeZalo) -> None:
    user = zalo.user("Bác Ba")
    forged = zalo.user_text(user, "xin chao", bad_signature=True, deliver=False)
    assert post(client, forged) == 403
    assert stored() == []


def test_an_event_is_answered_once_however_often_it_arrives(
    client: TestClient, zalo: FakeZalo
) -> None:
    user = zalo.user("Bác Ba")
    event = zalo.user_text(user, "xin chao", deliver=False)
    started = time.monotonic()
    assert post(client, event) == 200
    assert time.monotonic() - started < 2  # acknowledged long before Zalo's ~2 s
    assert post(client, event) == 200  # Zalo's retry
    zalo.wait_for(lambda m: m["text"] == BUSY_REPLY, timeout=15)
    time.sleep(0.5)  # a second answer would show up by now
    assert [m["text"] for m in zalo.sent(user)] == [BUSY_REPLY]
    assert len(stored()) == 1


def test_receipts_and_echoes_are_ignored(client: TestClient, zalo: FakeZalo) -> None:
    user = zalo.user("Bác Ba")
    assert post(client, zalo.user_seen(user, ["abc"], deliver=False)) == 200
    assert stored() == []


async def test_buttons_and_a_refreshed_token(app_database: str, zalo: FakeZalo) -> None:
    settings = zalo_settings(app_database, zalo)
    redis = make_redis(None)
    user = zalo.user("Bác Ba")
    zalo.user_text(user, "xin chao", deliver=False)  # opens the reply window at Zalo
    window = ZaloWindow(redis)
    await window.user_wrote(user)
    zalo.expire_access_token()
    async with httpx.AsyncClient() as http:
        transport = ZaloTransport(settings, ZaloTokens(settings, redis, http), window, http)
        buttons = (Button("Đồng ý", '/consent{"choice":"yes"}'), Button("Không", "/deny"))
        await transport.deliver(Envelope("zalo", user, OutboundMessage("Bác đồng ý nhé?", buttons)))
    (message,) = zalo.sent(user)
    assert message["text"] == "Bác đồng ý nhé?"
    assert [(b["title"], b["type"], b["payload"]) for b in message["buttons"]] == [
        ("Đồng ý", "oa.query.show", '/consent{"choice":"yes"}'),
        ("Không", "oa.query.show", "/deny"),
    ]
    assert len(zalo.refresh_calls) == 1
    with session_scope() as session:
        kept = session.get(ChannelToken, "zalo")
        assert kept is not None
        assert (kept.access_token, kept.refresh_token) == (zalo.access_token, zalo.refresh_token)
    assert kept.refresh_token != DEFAULT_REFRESH_TOKEN


async def test_the_free_reply_window() -> None:
    window = ZaloWindow(make_redis(None))
    now = utcnow()
    assert await window.closed_because("u1", now=now) == OUTSIDE_WINDOW  # never wrote
    await window.user_wrote("u1", now=now)
    assert await window.closed_because("u1", now=now) is None
    for _ in range(8):
        await window.replied("u1")
    assert await window.closed_because("u1", now=now) == OUT_OF_REPLIES
    await window.user_wrote("u1", now=now)  # writing again opens 8 more
    assert await window.closed_because("u1", needed=8, now=now) is None
    assert await window.closed_because("u1", needed=9, now=now) == OUT_OF_REPLIES
    later = now + timedelta(hours=48)
    assert await window.closed_because("u1", now=later) == OUTSIDE_WINDOW
    await asyncio.sleep(0)


def signed(body: bytes, timestamp: str = "1700000000000") -> dict[str, str]:
    mac = webhook_mac(DEFAULT_APP_ID, body, timestamp, DEFAULT_OA_SECRET_KEY)
    return {"X-ZEvent-Signature": f"mac={mac}", "Content-Type": "application/json"}


def test_malformed_events_are_refused_and_nothing_is_kept(client: TestClient) -> None:
    bodies = (
        b'{"timestamp": "1700000000000"',
        b'[{"timestamp": "1700000000000"}]',
        b'{"timestamp": "1700000000000"}',  # no event_name
        b'{"timestamp": "1700000000000", "event_name": "user_send_text", "x": '
        + b"[" * 100_000
        + b"]" * 100_000
        + b"}",
    )
    for body in bodies:
        response = client.post("/webhooks/zalo", content=body, headers=signed(body))
        assert response.status_code == 400
    assert stored() == []


def test_the_signature_is_checked_before_the_body_is_read(client: TestClient) -> None:
    deep = b'{"timestamp": "1", "event_name": "follow", "x": ' + b"[" * 100_000 + b"]" * 100_000
    garbage = (b"{", b"[]", b'{"event_name": "user_send_text"}', deep + b"}")
    for body in garbage:
        response = client.post(
            "/webhooks/zalo", content=body, headers={"X-ZEvent-Signature": "mac=x"}
        )
        assert response.status_code == 403
    body = b'{"timestamp": "1", "event_name": "follow", "note": {"timestamp": "2"}}'
    nested_signed = client.post("/webhooks/zalo", content=body, headers=signed(body, "2"))
    assert nested_signed.status_code == 403  # signed with a timestamp that is not the event's
    assert stored() == []


def test_odd_signed_events_are_stored_or_refused_never_a_500(client: TestClient) -> None:
    def send(**parts: object) -> int:
        event = {"timestamp": "1700000000000", "event_name": "user_send_text", **parts}
        body = json.dumps(event).encode()
        return int(client.post("/webhooks/zalo", content=body, headers=signed(body)).status_code)

    assert send(sender={"id": "u\x00"}, message={"text": "a\x00b"}) == 200
    assert send(sender={"id": "9" * 300}, message={}) == 200
    assert send(message=["not", "an", "object"]) == 400
    keys = [row.update_key for row in stored()]
    assert len(keys) == 2
    assert all(len(key) <= 128 for key in keys)


def test_unfollowing_the_oa_ends_the_announcement_subscription(
    client: TestClient, zalo: FakeZalo
) -> None:
    user = zalo.user("Bác Ba")
    key = client.app.state.settings.pseudonym_key.get_secret_value()  # type: ignore[attr-defined]
    resident = pseudonymize("zalo", user, key=key)
    with session_scope() as session:
        set_consent(session=session, resident_id=resident, consent=True)
        set_commune(session=session, resident_id=resident, commune_code="00004")
        subscribe(session=session, resident_id=resident, channel="zalo", channel_user_id=user)
    assert post(client, zalo.user_unfollow(user, deliver=False)) == 200

    def subscribed() -> bool:
        with session_scope() as session:
            return is_subscribed(session=session, resident_id=resident, channel="zalo")

    deadline = time.monotonic() + 10
    while subscribed() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not subscribed()
    with session_scope() as session:
        ended = list_events(session=session, resident_id=resident, type=EventType.UNSUBSCRIBED)
        assert [(e.key, e.channel) for e in ended] == [("unfollowed", "zalo")]
