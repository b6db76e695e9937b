"""The web chat's photo button in headless Chromium on the smallest phone screen (360x740),
against the real stack: the resident presses "Ảnh", picks a screenshot of a known VNeID error
(drawn by the bench's generator into the test's tmp dir) and sees the fix with its buttons,
whose "Làm tiếp bước 1" goes on with the walkthrough through Rasa; a photo over 10 MB is
refused on the phone before it is uploaded."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import FilePayload, Page, Request, expect

from bench.screens_gen import Screen, draw_screen
from bot.screens import TOO_LARGE_REPLY
from core.content.services import load_service_guide
from tests.bot.test_web_chat_browser import REPLY_TIMEOUT_MS, _bot_row, _open_chat
from tests.browser import chromium_fixture, phone_page_fixture  # noqa: F401
from tests.stack import RunningStack

pytestmark = pytest.mark.e2e


def _choose_photo(page: Page, photo: Path | FilePayload) -> None:
    """Press the photo button and pick `photo` in the file chooser it opens."""
    button = page.get_by_role("button", name="Gửi ảnh chụp màn hình báo lỗi")
    expect(button).to_be_visible()
    with page.expect_file_chooser() as chooser:
        button.click()
    chooser.value.set_files(photo)


@pytest.mark.parametrize("phone_page", ["360x740"], indirect=True)
def test_a_known_vneid_error_screenshot_gets_its_fix_and_buttons(
    stack: RunningStack, phone_page: Page, tmp_path: Path
) -> None:
    screenshot = tmp_path / "vneid-khong-chinh-chu.png"
    screen = Screen("vneid", "Số thuê bao không chính chủ.", None, 1080, 2400, False, seed=11)
    draw_screen(screen).save(screenshot)
    steps = len(load_service_guide("vneid_activation").steps)
    phone_page.emulate_media(reduced_motion="reduce")
    _open_chat(phone_page, stack)
    layout = phone_page.evaluate("document.documentElement.scrollWidth")
    assert layout <= 360  # the button fits the composer without a sideways scroll

    _choose_photo(phone_page, screenshot)

    photo = phone_page.get_by_test_id("user-photo")
    expect(photo).to_contain_text("Ảnh màn hình")
    expect(photo.get_by_role("img", name="Ảnh anh/chị vừa gửi")).to_be_visible()
    _bot_row(phone_page, f"Dạ, em đọc được ảnh rồi ạ. Đây là lỗi ở bước 1/{steps}")
    fix = _bot_row(phone_page, "❓ Số điện thoại anh/chị đang dùng không đứng tên mình")
    chips = fix.get_by_role("button")
    expect(chips).to_have_text(["Làm tiếp bước 1", "Vẫn chưa được"])
    expect(chips.last).to_be_in_viewport(ratio=1)
    phone_page.screenshot(path=tmp_path / "fix.png")

    chips.first.click()
    expect(
        phone_page.get_by_test_id("bot-msg").filter(has_text=f"Bước 1/{steps}")
    ).not_to_have_count(0, timeout=REPLY_TIMEOUT_MS)


@pytest.mark.parametrize("phone_page", ["360x740"], indirect=True)
def test_a_photo_over_10_mb_is_refused_before_it_is_uploaded(
    stack: RunningStack, phone_page: Page
) -> None:
    uploads: list[Request] = []
    phone_page.on(
        "request", lambda r: uploads.append(r) if r.url.endswith("/api/chat/photo") else None
    )
    _open_chat(phone_page, stack)
    big = FilePayload(name="anh.jpg", mimeType="image/jpeg", buffer=b"\xff\xd8\xff" * 3_500_000)
    _choose_photo(phone_page, big)
    expect(phone_page.get_by_test_id("notice")).to_have_text([TOO_LARGE_REPLY])
    expect(phone_page.get_by_test_id("user-photo")).to_have_count(1)
    assert uploads == []
