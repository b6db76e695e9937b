"""A Zalo resident's photo (user_send_image) through the gateway against the fake Zalo API, which
also plays Zalo's CDN: a screenshot of a known VNeID error is fetched from the allowed host, read
by the real Tesseract pool and answered with its fix and buttons (Rasa unreachable: the gateway
answers alone); an address on another host is never fetched; a photo over 10 MB is not read."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from bot.app import create_app
from bot.channels.zalo_photos import allowed, media_hosts
from bot.screens import NOT_A_SCREEN_REPLY, TOO_LARGE_REPLY
from core.screens import MAX_IMAGE_BYTES
from tests.bot.test_web_photo import screenshot
from tests.bot.test_zalo import post
from tests.factories import offline_settings
from tests.fakes.zalo_api import FakeZalo


@pytest.fixture
def client(app_database: str, zalo: FakeZalo) -> Iterator[TestClient]:
    """The gateway with the fake's own address as Zalo's CDN host."""
    settings = offline_settings(
        app_database, **zalo.gateway_settings(), zalo_media_hosts="127.0.0.1"
    )
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def test_a_known_error_screenshot_gets_its_fix_and_buttons(
    client: TestClient, zalo: FakeZalo
) -> None:
    user = zalo.user("Bác Sáu")
    url = zalo.photo_url(screenshot("Số thuê bao không chính chủ.", kind="JPEG"))
    assert post(client, zalo.user_image(user, url, deliver=False)) == 200
    fix = zalo.wait_for(lambda m: "❓ Số điện thoại anh/chị đang dùng" in m["text"], timeout=60)
    said = " ".join(m["text"] for m in zalo.sent(user))
    assert "Đây là lỗi ở bước 1/9" in said
    assert [(b["title"], b["payload"]) for b in fix["buttons"]] == [
        ("Làm tiếp bước 1", '/next_step{"service":"vneid_activation","step":1}'),
        ("Vẫn chưa được", '/request_human{"service":"vneid_activation","step":1}'),
    ]
    assert len(zalo.media_requests) == 1


def test_an_address_on_another_host_is_never_fetched(client: TestClient, zalo: FakeZalo) -> None:
    user = zalo.user("Bác Bảy")
    elsewhere = zalo.photo_url(screenshot("Mã OTP đã hết hạn.")).replace("127.0.0.1", "localhost")
    assert post(client, zalo.user_image(user, elsewhere, deliver=False)) == 200
    zalo.wait_for(lambda m: NOT_A_SCREEN_REPLY in m["text"], timeout=30)
    assert zalo.media_requests == []


def test_a_photo_over_10_mb_is_not_read(client: TestClient, zalo: FakeZalo) -> None:
    user = zalo.user("Bác Tám")
    url = zalo.photo_url(b"\xff\xd8\xff\xe0" + bytes(MAX_IMAGE_BYTES))
    assert post(client, zalo.user_image(user, url, deliver=False)) == 200
    zalo.wait_for(lambda m: m["text"] == TOO_LARGE_REPLY, timeout=30)


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://f20-zpc.zdn.vn/jpg/abc/photo.jpg", True),
        ("https://zdn.vn/x.jpg", True),
        ("https://s120-ava-talk.zadn.vn/a.jpg", True),
        ("http://f20-zpc.zdn.vn/jpg/abc/photo.jpg", False),  # not https
        ("https://zdn.vn.evil.example/x.jpg", False),
        ("https://evilzdn.vn/x.jpg", False),
        ("https://user@169.254.169.254/latest/meta-data", False),
        ("http://127.0.0.1:8000/admin", False),  # this machine is not on the list
        ("file:///etc/passwd", False),
        ("https://[::1/x", False),  # not an address
        ("", False),
    ],
)
def test_only_the_configured_hosts_are_allowed(url: str, ok: bool) -> None:
    assert allowed(url, media_hosts("zdn.vn, ZADN.vn,")) is ok
