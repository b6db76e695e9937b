"""FakeZalo driven over raw HTTP, to pin the Zalo OA wire format: webhook events and their
signature, the consultation message API and its errors, token refresh, the reply window,
injected failures and rate limits."""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import json
import re
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from tests.fakes.zalo_api import FakeZalo, ReplyWindow

JSON = dict[str, Any]
APP_ID = "1234567890123456789"
APP_SECRET = "app-secret-for-tests"
OA_SECRET_KEY = "oa-secret-key-for-tests"
CS = "/v3.0/oa/message/cs"
HEX_MESSAGE_ID = re.compile(r"[0-9a-f]{20}")


@pytest.fixture
def zalo() -> Iterator[FakeZalo]:
    with FakeZalo(
        app_id=APP_ID,
        app_secret=APP_SECRET,
        oa_secret_key=OA_SECRET_KEY,
        access_token="access-0",
        refresh_token="refresh-0",
    ) as fake:
        yield fake


@functools.cache
def http() -> httpx.Client:
    """One client for the whole module (making one costs tens of milliseconds)."""
    return httpx.Client(timeout=10)


def post_cs(zalo: FakeZalo, body: JSON, token: str | None = None) -> httpx.Response:
    headers = {"access_token": zalo.access_token if token is None else token}
    return http().post(f"{zalo.base_url}{CS}", json=body, headers=headers)


def send(
    zalo: FakeZalo,
    user_id: str,
    text: str = "Dạ, xin chào ạ",
    *,
    token: str | None = None,
    **message: Any,
) -> JSON:
    """A consultation text message; the API's JSON answer (always HTTP 200)."""
    body = {"recipient": {"user_id": user_id}, "message": {"text": text, **message}}
    answer = post_cs(zalo, body, token)
    assert answer.status_code == 200
    result: JSON = answer.json()
    return result


def refresh(zalo: FakeZalo, refresh_token: str, secret_key: str = APP_SECRET) -> httpx.Response:
    form = {"app_id": APP_ID, "refresh_token": refresh_token, "grant_type": "refresh_token"}
    return http().post(
        f"{zalo.base_url}/v4/oa/access_token", data=form, headers={"secret_key": secret_key}
    )


def buttons(*payloads: str) -> JSON:
    """A template attachment with one oa.query.show button per payload."""
    rows = [{"title": f"Nút {p}", "type": "oa.query.show", "payload": p} for p in payloads]
    return {"type": "template", "payload": {"buttons": rows}}


def expected_signature(raw_body: bytes) -> str:
    """Recomputed independently of the fake: "mac=" + sha256(app_id + body + timestamp +
    OA secret key), timestamp being the event's own field."""
    event = json.loads(raw_body)
    signed = event["app_id"] + raw_body.decode("utf-8") + event["timestamp"] + OA_SECRET_KEY
    return "mac=" + hashlib.sha256(signed.encode("utf-8")).hexdigest()


class Receiver:
    """A tiny webhook endpoint: checks the signature itself (403 if wrong) and records what
    arrived."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.statuses: list[int] = []  # answered in turn instead of the signature check
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                headers = {k.lower(): v for k, v in self.headers.items()}
                receiver.received.append((headers, body))
                good = headers.get("x-zevent-signature") == expected_signature(body)
                forced = receiver.statuses.pop(0) if receiver.statuses else None
                self.send_response(forced or (200 if good else 403))
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhooks/zalo"

    def events(self) -> list[JSON]:
        return [json.loads(body) for _, body in self.received]

    def wait_for(self, count: int) -> None:
        deadline = time.monotonic() + 5
        while len(self.received) < count:
            assert time.monotonic() < deadline, f"received only {self.events()}"
            time.sleep(0.02)


@pytest.fixture
def receiver(zalo: FakeZalo) -> Iterator[Receiver]:
    receiver = Receiver()
    thread = threading.Thread(target=receiver.server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    zalo.webhook_url = receiver.url
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


# --------------------------------------------------------------------------- webhook events


def test_text_event_has_zalos_shape_and_documented_signature(
    zalo: FakeZalo, receiver: Receiver
) -> None:
    user = zalo.user("Bà Lan")
    delivery = zalo.user_text(user, "cho hỏi làm căn cước")
    assert (delivery.status, delivery.ok, delivery.response) == (200, True, "ok")
    assert delivery.elapsed is not None
    assert delivery.elapsed < 2
    [(headers, body)] = receiver.received
    assert body == delivery.body
    assert headers["content-type"] == "application/json"
    assert headers["x-zevent-signature"] == expected_signature(body) == delivery.signature
    assert "cho hỏi làm căn cước".encode() in body  # raw UTF-8, not \u escapes
    assert b'":' in body
    assert b'": ' not in body
    assert b", " not in body
    event = json.loads(body)
    assert list(event) == [
        "app_id",
        "sender",
        "user_id_by_app",
        "recipient",
        "event_name",
        "message",
        "timestamp",
    ]
    msg_id = event["message"]["msg_id"]
    assert HEX_MESSAGE_ID.fullmatch(msg_id)
    assert event == {
        "app_id": APP_ID,
        "sender": {"id": user},
        "user_id_by_app": zalo.user_id_by_app(user),
        "recipient": {"id": zalo.oa_id},
        "event_name": "user_send_text",
        "message": {"msg_id": msg_id, "text": "cho hỏi làm căn cước"},
        "timestamp": str(int(zalo.now.timestamp() * 1000)),
    }
    assert re.fullmatch(r"\d{19}", user)
    assert user != zalo.user_id_by_app(user)


def test_bad_signature_and_resend(zalo: FakeZalo, receiver: Receiver) -> None:
    user = zalo.user("Ông Hùng")
    forged = zalo.user_text(user, "xin chào", bad_signature=True)
    assert forged.status == 403
    assert re.fullmatch(r"mac=[0-9a-f]{64}", forged.signature)
    assert forged.signature != expected_signature(forged.body)

    receiver.statuses = [500]
    first = zalo.user_text(user, "xin chào")
    assert (first.status, first.ok) == (500, False)
    retry = zalo.resend(first)
    assert (retry.status, retry.body, retry.signature) == (200, first.body, first.signature)
    assert [body for _, body in receiver.received[1:]] == [first.body, first.body]
    assert [d.status for d in zalo.deliveries()] == [403, 500, 200]


def test_every_kind_of_user_event(zalo: FakeZalo, receiver: Receiver) -> None:
    user = zalo.user("Chị Mai")
    zalo.user_image(user, "https://f20-zpc.zdn.vn/jpg/a.jpg", caption="ảnh giấy tờ")
    zalo.user_file(user, "Don-xin.PDF", data=b"12345")
    zalo.user_location(user, 10.7642473, 106.6564314)
    zalo.user_sticker(user, "abc123")
    zalo.user_attachment(user, "gif", {"thumbnail": "t.gif", "url": "u.gif"})
    zalo.user_unfollow(user)
    zalo.user_follow(user)
    zalo.user_received(user, ["m1"])
    zalo.user_seen(user, ["m1", "m2"])
    assert all(d.status == 200 for d in zalo.deliveries())  # the receiver checked each mac
    image, file, location, sticker, gif, unfollow, follow, received, seen = receiver.events()

    assert image["event_name"] == "user_send_image"
    assert image["message"]["text"] == "ảnh giấy tờ"
    assert image["message"]["attachments"] == [
        {
            "type": "image",
            "payload": {
                "thumbnail": "https://t-f20-zpc.zdn.vn/jpg/a.jpg",
                "url": "https://f20-zpc.zdn.vn/jpg/a.jpg",
            },
        }
    ]
    [attachment] = file["message"]["attachments"]
    assert (file["event_name"], attachment["type"]) == ("user_send_file", "file")
    assert attachment["payload"]["name"] == "Don-xin.PDF"
    assert attachment["payload"]["size"] == "5"
    assert attachment["payload"]["type"] == "pdf"
    assert attachment["payload"]["checksum"] == hashlib.md5(b"12345").hexdigest()
    assert location["message"]["attachments"] == [
        {
            "type": "location",
            "payload": {"coordinates": {"latitude": "10.7642473", "longitude": "106.6564314"}},
        }
    ]
    assert sticker["event_name"] == "user_send_sticker"
    assert sticker["message"]["attachments"][0]["payload"]["id"] == "abc123"
    assert gif["event_name"] == "user_send_gif"
    assert "text" not in gif["message"]
    assert follow == {
        "app_id": APP_ID,
        "oa_id": zalo.oa_id,
        "user_id_by_app": zalo.user_id_by_app(user),
        "event_name": "follow",
        "timestamp": follow["timestamp"],
        "source": "oa_profile",
        "follower": {"id": user},
    }
    assert unfollow["event_name"] == "unfollow"
    assert unfollow["follower"] == {"id": user}
    assert received["event_name"] == "user_received_message"
    assert (received["sender"], received["recipient"]) == ({"id": zalo.oa_id}, {"id": user})
    assert seen["message"] == {"msg_ids": ["m1", "m2"]}


def test_delivery_without_a_listener_or_a_url(zalo: FakeZalo) -> None:
    user = zalo.user("Lan")
    with pytest.raises(RuntimeError, match="webhook_url"):
        zalo.user_text(user, "a")
    zalo.webhook_url = "http://127.0.0.1:9/nobody-listens"
    assert zalo.user_text(user, "a").status == 0
    built = zalo.user_text(user, "b", deliver=False)
    assert (built.status, built.elapsed) == (None, None)
    assert [json.loads(d.body)["message"]["text"] for d in zalo.deliveries()] == ["a"]


# --------------------------------------------------------------------------- sending


def test_send_answers_zalos_success_shape(zalo: FakeZalo) -> None:
    user = zalo.user("Lan")
    zalo.user_text(user, "xin chào", deliver=False)
    answer = post_cs(
        zalo,
        {
            "recipient": {"user_id": user},
            "message": {"text": "Chào bác", "attachment": buttons("a")},
        },
    )
    assert answer.headers["content-type"] == "application/json"
    assert (answer.headers["x-ratelimit-limit"], answer.headers["x-ratelimit-remain"]) == (
        "4000",
        "3999",
    )
    body = answer.json()
    data = body["data"]
    assert list(data) == ["quota", "message_id", "user_id", "sent_time"]
    assert HEX_MESSAGE_ID.fullmatch(data["message_id"])
    assert body == {
        "data": {
            "quota": {"quota_type": "reply", "remain": "7", "total": "8"},
            "message_id": data["message_id"],
            "user_id": user,
            "sent_time": str(int(zalo.now.timestamp() * 1000)),
        },
        "error": 0,
        "message": "Success",
    }
    [sent] = zalo.sent(user)
    assert sent["text"] == "Chào bác"
    assert sent["buttons"] == [{"title": "Nút a", "type": "oa.query.show", "payload": "a"}]
    assert sent["message_id"] == data["message_id"]
    assert zalo.sent(zalo.user("Khác")) == []
    assert [(c["path"], c["ok"], c["error"]) for c in zalo.calls()] == [(CS, True, 0)]
    assert zalo.calls(CS)[0]["access_token"] == "access-0"


def test_invalid_messages(zalo: FakeZalo) -> None:
    user = zalo.user("Lan")
    zalo.user_text(user, "hỏi", deliver=False)
    assert send(zalo, user, "ạ" * 2000)["error"] == 0
    assert send(zalo, user, "ạ" * 2001) == {
        "error": -210,
        "message": "Parameter exceeds allowable limit",
    }
    assert send(zalo, "4000000000000000001") == {"error": -201, "message": "user_id is invalid!"}
    assert send(zalo, user, attachment=buttons("1", "2", "3", "4", "5"))["error"] == 0
    too_many = send(zalo, user, attachment=buttons("1", "2", "3", "4", "5", "6"))
    assert too_many == {"error": -201, "message": "buttons is invalid!"}
    assert send(zalo, user, "")["message"] == "text is invalid!"
    not_json = http().post(
        f"{zalo.base_url}{CS}", content=b"{oops", headers={"access_token": zalo.access_token}
    )
    assert not_json.json() == {"error": -201, "message": "body is invalid!"}
    assert len(zalo.sent()) == 2


def test_user_detail(zalo: FakeZalo) -> None:
    user = zalo.user("Nguyễn Thị Lan")
    answer = (
        http()
        .get(
            f"{zalo.base_url}/v3.0/oa/user/detail",
            params={"data": json.dumps({"user_id": user})},
            headers={"access_token": zalo.access_token},
        )
        .json()
    )
    assert answer["error"] == 0
    assert answer["data"]["display_name"] == "Nguyễn Thị Lan"
    assert answer["data"]["user_is_follower"] is True
    assert answer["data"]["user_id_by_app"] == zalo.user_id_by_app(user)


# --------------------------------------------------------------------------- tokens


def test_expired_token_refresh_and_single_use_refresh_tokens(zalo: FakeZalo) -> None:
    user = zalo.user("Lan")
    zalo.user_text(user, "hỏi", deliver=False)
    assert send(zalo, user, token="not-a-token") == {
        "error": -216,
        "message": "Access token is invalid",
    }
    zalo.expire_access_token()
    assert send(zalo, user) == {"error": -216, "message": "Access token is invalid"}
    assert zalo.sent() == []

    wrong_secret = refresh(zalo, "refresh-0", secret_key="wrong").json()
    assert wrong_secret["error"] < 0
    assert "access_token" not in wrong_secret
    assert zalo.refresh_token == "refresh-0"

    fresh = refresh(zalo, "refresh-0")
    assert fresh.status_code == 200
    tokens = fresh.json()
    assert set(tokens) == {"access_token", "refresh_token", "expires_in"}
    assert tokens["expires_in"] == "90000"
    assert tokens["access_token"] not in ("access-0", "")
    assert tokens["refresh_token"] not in ("refresh-0", "")
    assert (zalo.access_token, zalo.refresh_token) == (
        tokens["access_token"],
        tokens["refresh_token"],
    )
    assert zalo.access_token_valid
    assert send(zalo, user, token="access-0")["error"] == -216
    assert send(zalo, user)["error"] == 0

    reused = refresh(zalo, "refresh-0")
    assert reused.status_code == 200
    assert reused.json() == {
        "error": -14014,
        "error_name": "Invalid refresh token",
        "error_description": "refresh_token is invalid, expired or already used",
    }
    assert zalo.access_token == tokens["access_token"]  # a refused refresh changes nothing
    assert refresh(zalo, tokens["refresh_token"]).json()["access_token"] != tokens["access_token"]
    assert [(c["refresh_token"], c["ok"]) for c in zalo.refresh_calls] == [
        ("refresh-0", False),
        ("refresh-0", True),
        ("refresh-0", False),
        (tokens["refresh_token"], True),
    ]
    assert zalo.refresh_calls[1]["secret_key"] == APP_SECRET


def test_first_tokens_by_authorization_code_with_pkce(zalo: FakeZalo) -> None:
    verifier = "v" * 43
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    permission = {
        "app_id": APP_ID,
        "redirect_uri": "https://cns.example.vn/cb?x=1",
        "code_challenge": challenge.rstrip(b"=").decode(),
        "state": "s-1",
    }
    page = http().get(f"{zalo.base_url}/v4/oa/permission", params=permission)
    assert page.status_code == 302
    back = httpx.URL(page.headers["location"])
    assert str(back).startswith("https://cns.example.vn/cb?x=1&oa_id=")
    assert (back.params["state"], back.params["code_challenge"]) == (
        "s-1",
        permission["code_challenge"],
    )
    wrong_app = http().get(
        f"{zalo.base_url}/v4/oa/permission", params={**permission, "app_id": "1"}
    )
    assert wrong_app.status_code == 400

    def exchange(code: str, code_verifier: str) -> JSON:
        form = {"app_id": APP_ID, "code": code, "grant_type": "authorization_code",
                "code_verifier": code_verifier}  # fmt: skip
        answer = http().post(f"{zalo.base_url}/v4/oa/access_token", data=form,
                             headers={"secret_key": APP_SECRET})  # fmt: skip
        result: JSON = answer.json()
        return result

    code = back.params["code"]
    assert exchange(code, "w" * 43)["error_name"] == "Invalid code verifier"
    assert exchange("made-up", verifier)["error_name"] == "Invalid code"
    tokens = exchange(code, verifier)
    assert set(tokens) == {"access_token", "refresh_token", "expires_in"}
    assert (zalo.access_token, zalo.refresh_token) == (
        tokens["access_token"],
        tokens["refresh_token"],
    )
    assert exchange(code, verifier)["error_name"] == "Invalid code"  # a code works once
    assert refresh(zalo, "refresh-0").json()["error"] == -14014  # the old pair is retired
    assert [(c["grant_type"], c["ok"]) for c in zalo.refresh_calls] == [
        ("authorization_code", False),
        ("authorization_code", False),
        ("authorization_code", True),
        ("authorization_code", False),
        ("refresh_token", False),
    ]


# --------------------------------------------------------------------------- reply window


def test_eight_free_replies_then_refusal_reset_when_the_user_writes(zalo: FakeZalo) -> None:
    user = zalo.user("Lan")
    assert send(zalo, user) == {
        "error": -230,
        "message": "User has not interacted with the OA in the past 7 days",
    }
    zalo.user_text(user, "hỏi", deliver=False)
    remains = [send(zalo, user)["data"]["quota"]["remain"] for _ in range(8)]
    assert remains == ["7", "6", "5", "4", "3", "2", "1", "0"]
    assert send(zalo, user) == {
        "error": -311,
        "message": "Out of quota for responding to user message",
    }
    window = zalo.window(user)
    assert isinstance(window, ReplyWindow)
    assert (window.replies, window.free_left, window.error, window.open) == (8, 0, -311, False)

    zalo.user_image(user, deliver=False)  # any message from the user restarts the window
    assert send(zalo, user)["data"]["quota"]["remain"] == "7"
    assert len(zalo.sent(user)) == 9


def test_window_closes_48_hours_after_the_last_interaction(zalo: FakeZalo) -> None:
    user = zalo.user("Lan")
    wrote = zalo.now
    zalo.user_text(user, "hỏi", deliver=False)
    assert zalo.window(user).free_until == wrote + timedelta(hours=48)
    zalo.advance(timedelta(hours=48))
    assert send(zalo, user)["error"] == 0  # exactly 48 h: still inside
    zalo.advance(timedelta(seconds=1))
    assert send(zalo, user) == {
        "error": -305,
        "message": "Offical Account cannot response to user after 48 hours",
    }
    zalo.advance(timedelta(days=6))
    assert send(zalo, user)["error"] == -230
    assert zalo.window(user).error == -230

    zalo.user_text(user, "còn đó không", deliver=False)
    assert send(zalo, user)["error"] == 0
    zalo.user_unfollow(user, deliver=False)
    assert send(zalo, user) == {"error": -213, "message": "User has not followed OA"}
    zalo.user_follow(user, deliver=False)
    assert send(zalo, user)["error"] == 0


def test_rule_of_2026_unlimited_within_48_hours() -> None:
    with FakeZalo(free_replies=None, reply_window=None) as zalo:
        user = zalo.user("Lan")
        zalo.user_text(user, "hỏi", deliver=False)
        quotas = [send(zalo, user)["data"]["quota"] for _ in range(12)]
        assert quotas == [{"quota_type": "reply"}] * 12
        zalo.advance(timedelta(days=3))
        late = send(zalo, user)
        assert late["error"] == 0
        assert "quota" not in late["data"]
        zalo.advance(timedelta(days=4, seconds=1))
        assert send(zalo, user)["error"] == -230


# --------------------------------------------------------------------------- failures


def test_injected_failures_and_rate_limit(zalo: FakeZalo) -> None:
    user = zalo.user("Lan")
    zalo.user_text(user, "hỏi", deliver=False)
    zalo.fail_next(2, 502)
    for _ in range(2):
        failed = post_cs(zalo, {"recipient": {"user_id": user}, "message": {"text": "a"}})
        assert (failed.status_code, failed.text) == (502, "502 Bad Gateway")
    zalo.fail_next(error=-32)
    assert send(zalo, user) == {"error": -32, "message": "Your application reached limit call api"}
    assert send(zalo, user)["error"] == 0
    assert [c["error"] for c in zalo.calls()] == [502, 502, -32, 0]
    assert len(zalo.sent()) == 1

    zalo.fail_next(api="oauth", error=503)
    assert refresh(zalo, "refresh-0").status_code == 503
    assert "access_token" in refresh(zalo, "refresh-0").json()  # the 503 used nothing up


def test_rate_limit_per_minute() -> None:
    with FakeZalo(rate_limit_per_minute=3) as zalo:
        user = zalo.user("Lan")
        zalo.user_text(user, "hỏi", deliver=False)
        answers = [post_cs(zalo, {"recipient": {"user_id": user}, "message": {"text": "a"}})]
        answers += [post_cs(zalo, {"recipient": {"user_id": user}, "message": {"text": "a"}})]
        answers += [post_cs(zalo, {"recipient": {"user_id": user}, "message": {"text": "a"}})]
        limited = post_cs(zalo, {"recipient": {"user_id": user}, "message": {"text": "a"}})
        assert [a.headers["x-ratelimit-remain"] for a in answers] == ["2", "1", "0"]
        assert limited.json()["error"] == -32
        assert limited.headers["x-ratelimit-remain"] == "0"


# --------------------------------------------------------------------------- buttons, echo, waiting


def test_pressing_a_button_sends_its_payload_and_the_oa_echo(receiver: Receiver) -> None:
    with FakeZalo(app_id=APP_ID, oa_secret_key=OA_SECRET_KEY, echo=True) as zalo:
        zalo.webhook_url = receiver.url
        user = zalo.user("Lan")
        zalo.user_text(user, "menu")
        send(zalo, user, "Bác chọn một mục ạ", attachment=buttons("#vneid", "#bhyt"))
        receiver.wait_for(2)
        echo = receiver.events()[1]
        sent = zalo.wait_for(lambda m: m["text"] == "Bác chọn một mục ạ")
        assert echo["event_name"] == "oa_send_text"
        assert (echo["sender"], echo["recipient"]) == ({"id": zalo.oa_id}, {"id": user})
        assert echo["message"] == {"msg_id": sent["message_id"], "text": "Bác chọn một mục ạ"}

        pressed = zalo.user_press(user, sent, payload="#bhyt")
        assert pressed.status == 200
        assert pressed.event["event_name"] == "user_send_text"
        assert pressed.event["message"]["text"] == "#bhyt"
        with pytest.raises(ValueError, match="no query button"):
            zalo.user_press(user, sent, title="Không có")


def test_wait_for_reports_what_was_sent(zalo: FakeZalo) -> None:
    user = zalo.user("Lan")
    zalo.user_text(user, "hỏi", deliver=False)
    send(zalo, user, "một")
    with pytest.raises(AssertionError, match="một"):
        zalo.wait_for(lambda m: m["text"] == "hai", timeout=0.1)


async def test_async_delivery_and_wait(zalo: FakeZalo, receiver: Receiver) -> None:
    user = zalo.user("Lan")
    delivery = await zalo.deliver_async(zalo.user_text(user, "hỏi", deliver=False))
    assert delivery.status == 200
    assert (await zalo.resend_async(delivery)).body == delivery.body

    async def gateway_replies() -> None:
        await asyncio.sleep(0.05)
        async with httpx.AsyncClient() as client:
            await client.post(
                f"{zalo.base_url}{CS}",
                json={"recipient": {"user_id": user}, "message": {"text": "trả lời"}},
                headers={"access_token": zalo.access_token},
            )

    task = asyncio.create_task(gateway_replies())
    found = await zalo.wait_for_async(lambda m: m["text"] == "trả lời", timeout=5)
    await task
    assert found["user_id"] == user
