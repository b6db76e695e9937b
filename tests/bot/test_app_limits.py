"""Request body limits on the gateway served by uvicorn over real HTTP: a body declared too large
is refused with 413 before it is read, a chunked body is counted as it streams in, and bodies
of a legitimate size pass; the refusal has the polite JSON shape."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator

import pytest

from bot.app import TOO_LARGE_REPLY, create_app
from bot.limits import API_BODY_LIMIT, WEBHOOK_BODY_LIMIT
from tests.factories import offline_settings
from tests.serving import served


@pytest.fixture
def port(app_database: str) -> Iterator[int]:
    """The gateway served by uvicorn on 127.0.0.1 (Rasa unreachable, Zalo's webhook on)."""
    settings = offline_settings(app_database, zalo_app_id="app", zalo_oa_secret_key="key")
    with served(create_app(settings)) as url:
        yield int(url.rsplit(":", 1)[1])


def connect(port: int) -> http.client.HTTPConnection:
    return http.client.HTTPConnection("127.0.0.1", port, timeout=20)


def assert_refused(response: http.client.HTTPResponse) -> None:
    assert response.status == 413
    body = json.loads(response.read())
    assert body["messages"] == [{"text": TOO_LARGE_REPLY, "buttons": []}]


def test_a_body_declared_too_large_is_refused_before_it_is_sent(port: int) -> None:
    connection = connect(port)
    connection.putrequest("POST", "/api/chat")
    connection.putheader("Content-Type", "application/json")
    connection.putheader("Content-Length", str(100 * 1024 * 1024))  # 100 MB, never sent
    connection.endheaders(b'{"sender": "a", "text": "')
    assert_refused(connection.getresponse())


@pytest.mark.parametrize(
    ("path", "limit"), [("/api/chat", API_BODY_LIMIT), ("/webhooks/zalo", WEBHOOK_BODY_LIMIT)]
)
def test_a_chunked_body_is_counted_as_it_streams(port: int, path: str, limit: int) -> None:
    chunk = b"x" * 16 * 1024
    connection = connect(port)
    connection.request(
        "POST",
        path,
        body=iter([chunk] * (limit // len(chunk) + 1)),
        headers={"Content-Type": "application/json"},
        encode_chunked=True,
    )
    assert_refused(connection.getresponse())


def test_bodies_of_a_legitimate_size_pass(port: int) -> None:
    connection = connect(port)
    text = "Dạ, cho tôi hỏi " * 120  # 1,920 characters, the web chat allows 2,000
    connection.request(
        "POST",
        "/api/chat",
        body=json.dumps({"text": text}),  # a new resident
        headers={"Content-Type": "application/json"},
    )
    assert connection.getresponse().status == 503  # Rasa is unreachable here
    event = b'{"timestamp": "1", "x": "' + b"y" * (WEBHOOK_BODY_LIMIT - 100) + b'"}'
    connection = connect(port)
    connection.request("POST", "/webhooks/zalo", body=iter([event]), encode_chunked=True)
    assert connection.getresponse().status == 403  # read whole, and its signature is wrong
