"""The web chat endpoint and page when Rasa cannot be reached, and on bad input.

The happy path through the real Rasa is in tests/e2e.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from bot.app import create_app
from bot.channels.web import EMPTY_TEXT_REPLY, MAX_TEXT, RASA_DOWN_REPLY, TOO_FAST_REPLY
from core.db import session_scope
from core.models import EventType
from core.privacy import pseudonymize
from core.repositories.events import list_events
from tests.factories import offline_settings

PSEUDONYM_KEY = "test-key"


@pytest.fixture
def client(app_database: str) -> Iterator[TestClient]:
    settings = offline_settings(
        app_database, pseudonym_key=PSEUDONYM_KEY, chat_rate_limit_per_minute=3
    )
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def _event_types() -> list[tuple[str, str]]:
    with session_scope() as session:
        return [(e.type, e.resident_id) for e in list_events(session=session)]


def test_page_is_vietnamese_and_phone_sized(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert 'lang="vi"' in response.text
    assert 'name="viewport"' in response.text
    assert client.get("/static/chat.js").status_code == 200
    assert client.get("/static/chat.css").status_code == 200


def test_rasa_down_gives_a_polite_503_and_keeps_the_message(client: TestClient) -> None:
    response = client.post("/api/chat", json={"sender": "web-abc", "text": "xin chào"})
    assert response.status_code == 503
    assert response.json() == {"messages": [{"text": RASA_DOWN_REPLY, "buttons": []}]}
    resident = pseudonymize("web", "web-abc", key=PSEUDONYM_KEY)
    assert _event_types() == [(EventType.MESSAGE_IN.value, resident)]


def test_empty_text_is_answered_without_asking_rasa(client: TestClient) -> None:
    response = client.post("/api/chat", json={"sender": "web-abc", "text": "   "})
    assert response.status_code == 200
    assert response.json() == {"messages": [{"text": EMPTY_TEXT_REPLY, "buttons": []}]}
    assert _event_types() == []


@pytest.mark.parametrize(
    "body",
    [
        {"sender": "web-abc", "text": "x" * (MAX_TEXT + 1)},
        {"text": "xin chào"},
        {"sender": "", "text": "xin chào"},
        {"sender": "web-abc", "text": 5},
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


def test_senders_are_rate_limited(client: TestClient) -> None:
    codes = [
        client.post("/api/chat", json={"sender": "web-fast", "text": f"tin {i}"}).status_code
        for i in range(4)
    ]
    assert codes == [503, 503, 503, 429]
    limited = client.post("/api/chat", json={"sender": "web-fast", "text": "nữa"})
    assert limited.json()["messages"][0]["text"] == TOO_FAST_REPLY
    assert client.post("/api/chat", json={"sender": "web-other", "text": "a"}).status_code == 503


def test_healthz_names_the_failing_parts(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["rasa", "actions"]
    assert body["checks"] == {"rasa": False, "actions": False, "database": True, "redis": True}
