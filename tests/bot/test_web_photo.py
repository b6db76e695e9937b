"""The web chat's photo upload (`POST /api/chat/photo`) on the real gateway app with its real
Tesseract pool (Rasa unreachable: a recognised screen is answered by the gateway alone): a known
error screenshot gets its fix and buttons; too large, not an image, garbage named .png, no
photo and a forged identity get polite Vietnamese 4xx replies in the usual shape; the limits
hold; only events are kept (the image is parsed in memory, never written anywhere)."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bench.screens_gen import Screen, draw_screen
from bot.app import create_app
from bot.channels.web import NO_PHOTO_REPLY, TOO_FAST_REPLY, UNKNOWN_SENDER_REPLY
from bot.channels.web_identity import WebIdentities
from bot.channels.web_photo import BadForm, image_kind, parse_form
from bot.screens import HUMAN_BUTTON, NOT_A_SCREEN_REPLY, TOO_LARGE_REPLY
from core.models import EventType
from core.screens import MAX_IMAGE_BYTES, POOL_WORKERS
from tests.bot.test_web_chat import PSEUDONYM_KEY, _event_types, _resident_id
from tests.factories import offline_settings

HUMAN = {"title": HUMAN_BUTTON.title, "payload": HUMAN_BUTTON.payload}


def screenshot(message: str, *, kind: str = "PNG", dark: bool = False) -> bytes:
    """A VNeID screen showing `message`, drawn as the bench draws them."""
    image = draw_screen(Screen("vneid", message, None, 1080, 2400, dark, seed=5))
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, kind)
    return buffer.getvalue()


@pytest.fixture
def client(app_database: str) -> Iterator[TestClient]:
    settings = offline_settings(
        app_database, pseudonym_key=PSEUDONYM_KEY, chat_rate_limit_per_minute=3
    )
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def upload(
    client: TestClient,
    data: bytes,
    *,
    name: str = "man-hinh.png",
    content_type: str = "image/png",
    **fields: str,
) -> Any:
    return client.post("/api/chat/photo", files={"photo": (name, data, content_type)}, data=fields)


def test_a_known_error_screenshot_gets_its_fix_and_buttons(client: TestClient) -> None:
    response = upload(client, screenshot("Số thuê bao không chính chủ.", kind="JPEG"))
    assert response.status_code == 200, response.text
    body = response.json()
    first, fix = body["messages"]
    assert "Đây là lỗi ở bước 1/9" in first["text"]
    assert fix["text"].startswith("❓ Số điện thoại anh/chị đang dùng không đứng tên mình")
    assert fix["buttons"] == [
        {
            "title": "Làm tiếp bước 1",
            "payload": '/next_step{"service":"vneid_activation","step":1}',
        },
        {
            "title": "Vẫn chưa được",
            "payload": '/request_human{"service":"vneid_activation","step":1}',
        },
    ]
    # A new resident, as for a first text message; the cookie carries them on.
    resident = _resident_id(body["sender"])
    assert client.cookies.get("cns_chat") == body["sender"]
    kept = [(kind, who) for kind, who in _event_types()]
    assert kept == [
        (EventType.MESSAGE_IN.value, resident),
        (EventType.SCREEN_READ.value, resident),
        (EventType.MESSAGE_OUT.value, resident),
        (EventType.MESSAGE_OUT.value, resident),
    ]


def test_the_sender_field_or_the_cookie_identifies_the_resident(client: TestClient) -> None:
    token = client.post("/api/chat", json={"text": " "}).json()["sender"]
    client.cookies.clear()
    by_field = upload(client, b"not an image", sender=token)
    assert by_field.json()["sender"] == token
    by_cookie = upload(client, b"not an image")
    assert by_cookie.json()["sender"] == token


def test_a_forged_sender_gets_a_polite_401_and_nothing_is_read(client: TestClient) -> None:
    forged = WebIdentities.from_secret("another-server").issue().token
    response = upload(client, screenshot("Mã OTP đã hết hạn."), sender=forged)
    assert response.status_code == 401
    assert response.json() == {"messages": [{"text": UNKNOWN_SENDER_REPLY, "buttons": []}]}
    assert _event_types() == []


def test_a_photo_over_10_mb_is_refused_politely(client: TestClient) -> None:
    # Just over the reader's cap (the endpoint says no), and far over it (the body limit does).
    for size in (MAX_IMAGE_BYTES + 1, 3 * MAX_IMAGE_BYTES):
        big = b"\xff\xd8\xff\xe0" + bytes(size - 4)
        response = upload(client, big, name="anh.jpg", content_type="image/jpeg")
        assert response.status_code == 413, size
        assert response.json()["messages"] == [{"text": TOO_LARGE_REPLY, "buttons": []}]
    assert _event_types() == []


@pytest.mark.parametrize(
    ("name", "content_type", "data"),
    [
        ("giay-to.pdf", "application/pdf", b"%PDF-1.7\n1 0 obj\n"),
        ("anh.gif", "image/gif", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"),
        ("IMG_0001.HEIC", "image/heic", b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00"),
        ("man-hinh.png", "image/png", b"garbage bytes that only say they are a png"),
    ],
)
def test_anything_but_a_jpeg_png_or_webp_gets_a_polite_415(
    client: TestClient, name: str, content_type: str, data: bytes
) -> None:
    response = upload(client, data, name=name, content_type=content_type)
    assert response.status_code == 415
    assert response.json()["messages"] == [{"text": NOT_A_SCREEN_REPLY, "buttons": [HUMAN]}]
    assert _event_types() == []


def test_a_png_that_does_not_decode_is_answered_as_unreadable(client: TestClient) -> None:
    """Bytes that start like a PNG pass the door; the reader cannot decode them and says so."""
    response = upload(client, b"\x89PNG\r\n\x1a\n" + b"broken" * 100)
    assert response.status_code == 200
    assert response.json()["messages"] == [{"text": NOT_A_SCREEN_REPLY, "buttons": [HUMAN]}]
    assert EventType.SCREEN_READ.value in [kind for kind, _ in _event_types()]


@pytest.mark.parametrize(
    ("files", "data", "headers"),
    [
        (None, {"sender": ""}, {}),  # a form without the photo
        ({"photo": ("a.png", b"", "image/png")}, {}, {}),  # an empty file
        (None, None, {"Content-Type": "application/json"}),  # not a form at all
    ],
)
def test_no_photo_gets_a_polite_400(
    client: TestClient, files: Any, data: Any, headers: dict[str, str]
) -> None:
    body = {"content": b'{"text": "x"}'} if data is None and files is None else {}
    response = client.post("/api/chat/photo", files=files, data=data, headers=headers, **body)
    assert response.status_code == 400, response.text
    assert response.json()["messages"] == [{"text": NO_PHOTO_REPLY, "buttons": []}]


def test_photos_count_against_the_residents_limit(client: TestClient) -> None:
    responses = [upload(client, b"\x89PNG\r\n\x1a\nbroken") for _ in range(4)]
    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    assert responses[-1].json()["messages"] == [{"text": TOO_FAST_REPLY, "buttons": []}]


def test_the_form_is_parsed_in_memory() -> None:
    boundary = "----b"
    body = (
        (
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="sender"\r\n\r\n'
            "abc.def\r\n"
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="photo"; filename="ảnh màn hình.png"\r\n'
            "Content-Type: image/png\r\n\r\n"
        ).encode()
        + b"\x89PNG\r\n\x1a\n\x00\r\n--not-the-boundary"
        + f"\r\n--{boundary}--\r\n".encode()
    )
    form = parse_form(f"multipart/form-data; boundary={boundary}", body)
    assert form.fields == {"sender": "abc.def"}
    assert form.photo == b"\x89PNG\r\n\x1a\n\x00\r\n--not-the-boundary"
    assert "PNG" not in repr(form)
    with pytest.raises(BadForm):
        parse_form("application/json", body)
    with pytest.raises(BadForm):
        parse_form(f"multipart/form-data; boundary={boundary}", b"--x\r\nno")
    assert image_kind(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "WEBP"
    assert image_kind(b"\xff\xd8\xff\xdb") == "JPEG"
    assert image_kind(b"RIFF\x00\x00\x00\x00AVI ") is None


def test_the_ocr_workers_start_with_the_gateway(app_database: str) -> None:
    """SCREENS_WARM_START: both workers are up before any photo comes (the factory's default
    leaves them to the first photo)."""
    settings = offline_settings(app_database, screens_warm_start=True)
    with TestClient(create_app(settings)) as started:
        reader = started.app.state.router.screens.reader  # type: ignore[attr-defined]
        deadline = time.monotonic() + 30
        while len(reader.worker_pids()) < POOL_WORKERS:
            assert time.monotonic() < deadline, "the OCR workers did not start"
            time.sleep(0.1)
        response = upload(started, screenshot("Mã OTP đã hết hạn."))
        assert response.json()["messages"][1]["buttons"][0]["title"] == "Làm tiếp bước 5"
    with TestClient(create_app(offline_settings(app_database))) as lazy:
        time.sleep(0.5)
        assert lazy.app.state.router.screens.reader.worker_pids() == []  # type: ignore[attr-defined]
