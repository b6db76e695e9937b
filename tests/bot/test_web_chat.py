"""The web chat endpoint and page when Rasa cannot be reached, and on bad input: identities
issued and checked by the server, limits per resident, per address and on new residents, and
polite JSON when Redis or the database is down.

The happy path through the real Rasa is in tests/e2e.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import Request
from fastapi.testclient import TestClient
from sqlalchemy.orm import sessionmaker

from bot.app import create_app
from bot.channels.web import (
    COOKIE,
    EMPTY_TEXT_REPLY,
    MAX_TEXT,
    RASA_DOWN_REPLY,
    STORAGE_DOWN_REPLY,
    TOKEN_HEADER,
    TOO_FAST_REPLY,
    TOO_MANY_NEW_REPLY,
    UNKNOWN_SENDER_REPLY,
    _address,
)
from bot.channels.web_identity import WebIdentities
from bot.channels.web_mailbox import WebMailbox
from bot.messages import OutboundMessage
from cns.stack import free_port
from core import db
from core.db import make_engine, session_scope
from core.models import EventType
from core.privacy import pseudonymize
from core.repositories.events import list_events
from tests.factories import offline_settings

PSEUDONYM_KEY = "test-key"
IDENTITIES = WebIdentities.from_secret(PSEUDONYM_KEY)


def _client(database_url: str, **overrides: Any) -> TestClient:
    values: dict[str, Any] = {"pseudonym_key": PSEUDONYM_KEY, "chat_rate_limit_per_minute": 3}
    return TestClient(create_app(offline_settings(database_url, **(values | overrides))))


@pytest.fixture
def client(app_database: str) -> Iterator[TestClient]:
    with _client(app_database) as test_client:
        yield test_client


def _event_types() -> list[tuple[str, str]]:
    with session_scope() as session:
        return [(e.type, e.resident_id) for e in list_events(session=session)]


def _resident_id(token: str) -> str:
    identity = IDENTITIES.verify(token)
    assert identity is not None
    return pseudonymize("web", identity.user_id, key=PSEUDONYM_KEY)


def _start(client: TestClient) -> str:
    """A new resident (an empty message: Rasa is not asked); their token."""
    client.cookies.clear()
    response = client.post("/api/chat", json={"text": " "})
    assert response.status_code == 200, response.text
    token: str = response.json()["sender"]
    client.cookies.clear()
    return token


def test_page_is_vietnamese_and_phone_sized(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert 'lang="vi"' in response.text
    assert 'name="viewport"' in response.text
    assert client.get("/static/chat.js").status_code == 200
    assert client.get("/static/chat.css").status_code == 200


def test_a_request_without_sender_starts_a_resident_with_a_signed_token(
    client: TestClient,
) -> None:
    response = client.post("/api/chat", json={"text": "   "})
    assert response.status_code == 200
    body = response.json()
    assert body["messages"] == [{"text": EMPTY_TEXT_REPLY, "buttons": []}]
    token = body["sender"]
    identity = IDENTITIES.verify(token)
    assert identity is not None
    assert len(identity.user_id) >= 22  # 128 random bits
    assert response.headers["cache-control"] == "no-store"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}={token};")
    assert "HttpOnly" in cookie
    assert "Path=/api/chat" in cookie
    assert "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain http on a laptop (127.0.0.1)
    # Every resident gets their own.
    assert _start(client) not in (token, _start(client))


def test_behind_an_https_proxy_the_cookie_is_secure(client: TestClient) -> None:
    response = client.post("/api/chat", json={"text": " "}, headers={"X-Forwarded-Proto": "https"})
    assert "Secure" in response.headers["set-cookie"]


def test_the_cookie_or_the_sender_field_identifies_the_resident(client: TestClient) -> None:
    first = client.post("/api/chat", json={"text": "xin chào"})
    assert first.status_code == 503  # Rasa is down: the resident still has their identity
    assert first.json()["messages"] == [{"text": RASA_DOWN_REPLY, "buttons": []}]
    token = first.json()["sender"]
    by_cookie = client.post("/api/chat", json={"text": "còn đó không"})
    assert by_cookie.json()["sender"] == token
    client.cookies.clear()
    by_field = client.post("/api/chat", json={"sender": token, "text": "alo"})
    assert by_field.json()["sender"] == token
    resident = _resident_id(token)
    assert _event_types() == [(EventType.MESSAGE_IN.value, resident)] * 3


@pytest.mark.parametrize(
    "forged",
    [
        "web-abc",  # a sender of the old, client-chosen kind
        "abc.def",
        ".",
        "a.",
        WebIdentities.from_secret("another-server").issue().token,
        "Bảo.🙂",
        "a\x00b.c",
        "x" * 128,
    ],
)
def test_a_sender_the_server_did_not_issue_gets_a_polite_401(
    client: TestClient, forged: str
) -> None:
    response = client.post("/api/chat", json={"sender": forged, "text": "xin chào"})
    assert response.status_code == 401
    assert response.json() == {"messages": [{"text": UNKNOWN_SENDER_REPLY, "buttons": []}]}
    assert "set-cookie" not in response.headers
    assert _event_types() == []


def test_a_tampered_token_is_refused(client: TestClient) -> None:
    token = _start(client)
    user_id, _, signature = token.partition(".")
    other_id = ("B" if user_id[0] != "B" else "C") + user_id[1:]
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    for tampered in (f"{other_id}.{signature}", f"{user_id}.{flipped}", user_id, token + "x"):
        response = client.post("/api/chat", json={"sender": tampered, "text": "xin chào"})
        assert response.status_code == 401, tampered
    assert _event_types() == []


def test_a_stale_cookie_gets_a_new_identity(client: TestClient) -> None:
    client.cookies.set(COOKIE, "web-abc")
    response = client.post("/api/chat", json={"text": " "})
    assert response.status_code == 200
    assert IDENTITIES.verify(response.json()["sender"]) is not None
    assert response.cookies[COOKIE] == response.json()["sender"]


def test_updates_come_by_cookie_or_header_never_by_query_string(client: TestClient) -> None:
    client.post("/api/chat", json={"text": " "})
    token = client.cookies[COOKIE]
    identity = IDENTITIES.verify(token)
    assert identity is not None
    mailbox: WebMailbox = client.app.state.mailbox  # type: ignore[attr-defined]
    assert client.portal is not None
    client.portal.call(mailbox.send, identity.user_id, [OutboundMessage("Dạ, chị Lan đây ạ.")])

    by_cookie = client.get("/api/chat/updates")
    assert by_cookie.status_code == 200
    assert [m["text"] for m in by_cookie.json()["messages"]] == ["Dạ, chị Lan đây ạ."]
    client.cookies.clear()
    by_header = client.get("/api/chat/updates", headers={TOKEN_HEADER: token})
    assert by_header.json() == by_cookie.json()

    for params, headers in [
        ({"sender": token}, {}),  # the query string grants nothing
        ({"sender": identity.user_id}, {}),
        ({}, {}),
        ({}, {TOKEN_HEADER: identity.user_id}),
        ({}, {TOKEN_HEADER: WebIdentities.from_secret("x").issue().token}),
    ]:
        refused = client.get("/api/chat/updates", params=params, headers=headers)
        assert refused.status_code == 401, (params, headers)
        assert refused.json() == {"messages": [{"text": UNKNOWN_SENDER_REPLY, "buttons": []}]}


def test_empty_text_is_answered_without_asking_rasa(client: TestClient) -> None:
    response = client.post("/api/chat", json={"text": "   "})
    assert response.status_code == 200
    assert response.json()["messages"] == [{"text": EMPTY_TEXT_REPLY, "buttons": []}]
    assert _event_types() == []


@pytest.mark.parametrize(
    "body",
    [
        {"text": "x" * (MAX_TEXT + 1)},
        {"sender": "", "text": "xin chào"},
        {"sender": 5, "text": "xin chào"},
        {"text": 5},
        {"sender": "abc"},
        [],
    ],
)
def test_malformed_requests_get_a_vietnamese_422(client: TestClient, body: object) -> None:
    response = client.post("/api/chat", json=body)
    assert response.status_code == 422
    payload = response.json()
    assert payload["messages"][0]["text"].startswith("Dạ, tin nhắn chưa đúng định dạng")
    assert payload["detail"]
    assert _event_types() == []


def test_a_body_that_is_not_json_gets_a_polite_error(client: TestClient) -> None:
    response = client.post(
        "/api/chat", content=b"\xff\xfe not json", headers={"content-type": "application/json"}
    )
    assert response.status_code in (400, 422)
    assert response.json()["messages"][0]["text"].startswith("Dạ, tin nhắn chưa đúng định dạng")
    assert client.get("/no-such-page").status_code == 404


def test_residents_are_rate_limited(client: TestClient) -> None:
    fast, other = _start(client), _start(client)
    codes = [
        client.post("/api/chat", json={"sender": fast, "text": f"tin {i}"}).status_code
        for i in range(4)
    ]
    assert codes == [503, 503, 503, 429]
    limited = client.post("/api/chat", json={"sender": fast, "text": "nữa"})
    assert limited.json() == {
        "sender": fast,
        "messages": [{"text": TOO_FAST_REPLY, "buttons": []}],
    }
    assert client.post("/api/chat", json={"sender": other, "text": "a"}).status_code == 503


def test_one_address_is_rate_limited_across_its_residents(app_database: str) -> None:
    with _client(app_database, chat_rate_limit_per_address_per_minute=5) as client:
        codes = []
        for i in range(5):
            client.cookies.clear()  # five residents behind one address
            codes.append(client.post("/api/chat", json={"text": f"tin {i}"}))
        assert [r.status_code for r in codes] == [503] * 5
        senders = {r.json()["sender"] for r in codes}
        assert len(senders) == 5
        limited = client.post("/api/chat", json={"sender": senders.pop(), "text": "nữa"})
        assert limited.status_code == 429
        assert limited.json() == {"messages": [{"text": TOO_FAST_REPLY, "buttons": []}]}
    assert len(_event_types()) == 5


def test_an_address_cannot_mint_identities_without_end(app_database: str) -> None:
    with _client(app_database, chat_new_residents_per_address_per_hour=2) as client:
        first = _start(client)
        _start(client)
        refused = client.post("/api/chat", json={"text": "xin chào"})
        assert refused.status_code == 429
        assert refused.json() == {"messages": [{"text": TOO_MANY_NEW_REPLY, "buttons": []}]}
        assert "set-cookie" not in refused.headers
        # Residents who already have an identity carry on.
        assert client.post("/api/chat", json={"sender": first, "text": "a"}).status_code == 503
    assert _event_types() == [(EventType.MESSAGE_IN.value, _resident_id(first))]


@pytest.mark.parametrize(
    ("one", "other", "same"),
    [
        ("203.0.113.7", "203.0.113.7", True),
        ("203.0.113.7", "203.0.113.8", False),
        ("2001:db8:1:2::1", "2001:db8:1:2:ffff::9", True),  # one household's /64
        ("2001:db8:1:2::1", "2001:db8:1:3::1", False),
    ],
)
def test_limits_count_an_ipv6_client_by_its_64(one: str, other: str, same: bool) -> None:
    def address(host: str) -> str:
        return _address(Request({"type": "http", "client": (host, 4321), "headers": []}))

    assert (address(one) == address(other)) is same


def test_redis_down_gives_a_polite_503(app_database: str) -> None:
    token = IDENTITIES.issue().token
    redis_url = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    with _client(app_database, redis_url=redis_url) as client:
        for body in ({"text": "xin chào"}, {"sender": token, "text": "xin chào"}):
            response = client.post("/api/chat", json=body)
            assert response.status_code == 503, response.text
            assert response.json()["messages"] == [{"text": STORAGE_DOWN_REPLY, "buttons": []}]
        updates = client.get("/api/chat/updates", headers={TOKEN_HEADER: token})
        assert updates.status_code == 503
        assert updates.json() == {"messages": [{"text": STORAGE_DOWN_REPLY, "buttons": []}]}


def test_database_down_gives_a_polite_503_asking_to_resend(
    app_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = IDENTITIES.issue().token
    down = make_engine(f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/none")
    with _client(app_database) as client, monkeypatch.context() as patch:
        # Every session, on every thread: not the cached settings and engine, which the app's
        # background tasks may fill again with the real database at any moment.
        patch.setattr(db, "_session_factory", lambda: sessionmaker(bind=down))
        response = client.post("/api/chat", json={"sender": token, "text": "xin chào"})
    down.dispose()
    assert response.status_code == 503, response.text
    assert response.json() == {
        "sender": token,
        "messages": [{"text": STORAGE_DOWN_REPLY, "buttons": []}],
    }


def test_healthz_names_the_failing_parts(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["rasa", "actions"]
    assert body["checks"] == {"rasa": False, "actions": False, "database": True, "redis": True}
