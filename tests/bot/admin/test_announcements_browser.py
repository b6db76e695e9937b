"""The announcements page in headless Chromium on a phone-sized screen, against the gateway
served by uvicorn in this process: a commune staff member drafts (live character count, the
preview per channel), a second one signs in and approves, the list shows it approved and, once
it is being sent, follows it by itself;
province staff choose communes found without diacritics, and anyone reads an announcement's
reach and preview in its detail."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import update

from bot.app import create_app
from core.db import session_scope
from core.models import Announcement, AnnouncementStatus
from core.repositories.staff import add_staff
from tests.browser import chromium_fixture, phone_page_fixture  # noqa: F401
from tests.factories import offline_settings
from tests.serving import served

PASSWORD = "mat-khau-rat-dai-1"
TEXT = "Sáng thứ Bảy 8:00, nhà văn hóa tổ 3 hướng dẫn cài VNeID. Mang theo CCCD ạ."


@pytest.fixture
def gateway(app_database: str) -> Iterator[str]:
    """The gateway at http://127.0.0.1:PORT; Lan and Hoa write for Ba Đình, Hùng for Hà Nội."""
    with session_scope() as session:
        for username, name, scope in (
            ("lan", "Chị Lan", {"commune_code": "00004"}),
            ("hoa", "Chị Hoa", {"commune_code": "00004"}),
            ("hung", "Anh Hùng", {"province_code": "01"}),
        ):
            add_staff(
                session=session, username=username, display_name=name, password=PASSWORD, **scope
            )
    with served(create_app(offline_settings(app_database))) as url:
        yield url


def _sign_in(page: Page, url: str, username: str) -> None:
    page.goto(f"{url}/admin/announcements")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.locator("#announce-view")).to_be_visible()


def _write(page: Page, title: str) -> None:
    page.get_by_label("Tiêu đề").fill(title)
    page.get_by_label("Nội dung").fill(TEXT)
    page.get_by_label("Gửi lúc (giờ Việt Nam)").fill("2030-05-01T08:00")


def test_a_commune_draft_is_previewed_and_approved_by_a_second_person(
    gateway: str, phone_page: Page
) -> None:
    page = phone_page
    _sign_in(page, gateway, "lan")
    expect(page.locator("#me-name")).to_have_text("Chị Lan")
    expect(page.locator("#list-empty")).to_have_text("Chưa có thông báo nào.")
    expect(page.locator("#reach-choice")).to_be_hidden()  # commune staff: their commune
    _write(page, "Ngày hỗ trợ số")
    expect(page.locator("#text-count")).to_have_text(f"{len(TEXT)}/1.000 ký tự")
    page.get_by_label("Loại thông báo").select_option(label="⚠️ Cảnh báo")

    cards = page.locator("#preview .channel-card")
    expect(cards.locator(".channel-name")).to_have_text(
        ["Telegram 1 tin", "Zalo 1 tin", "Trang web 1 tin"]
    )
    for n in range(3):
        bubble = cards.nth(n).locator(".bubble")
        expect(bubble.locator(".bubble-text")).to_have_text(
            f"⚠️ Cảnh báo · Thông báo của xã/phường\nNgày hỗ trợ số\n\n{TEXT}"
        )
        expect(bubble.locator(".bubble-button")).to_have_text(["Hỏi thêm", "Hủy nhận thông báo"])
    page.get_by_label("Đường dẫn xem thêm (không bắt buộc)").fill("http://vneid.gov.vn")
    expect(page.locator("#preview-note")).to_have_text(
        "Đường dẫn phải bắt đầu bằng https:// (tối đa 500 ký tự)."
    )
    page.get_by_label("Đường dẫn xem thêm (không bắt buộc)").fill("")
    page.get_by_label("Nội dung").fill("x" * 1003)
    expect(page.locator("#text-count")).to_have_text("1.003/1.000 ký tự – quá 3 ký tự")
    page.get_by_role("button", name="Lưu bản nháp").click()
    expect(page.locator("#compose-error")).to_have_text("Nội dung cần có, dài tối đa 1000 ký tự.")
    page.get_by_label("Nội dung").fill(TEXT)
    page.get_by_role("button", name="Lưu bản nháp").click()
    expect(page.locator("#status")).to_have_text(
        "Đã lưu bản nháp. Cần một cán bộ khác duyệt trước khi gửi."
    )
    item = page.locator("#list .announcement")
    expect(item).to_have_count(1)
    expect(item.locator(".badge-status")).to_have_text("Chờ duyệt")
    expect(item.locator(".waiting")).to_have_text(
        "Chờ một cán bộ khác duyệt (người soạn không tự duyệt được)."
    )
    expect(item.get_by_role("button", name="Duyệt")).to_have_count(0)
    expect(page.get_by_label("Tiêu đề")).to_have_value("")  # the form is ready for the next
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways ({width} px)"

    page.get_by_role("button", name="Đăng xuất").click()
    _sign_in(page, gateway, "hoa")
    item = page.locator("#list .announcement")
    expect(item.locator(".announcement-title")).to_have_text("Ngày hỗ trợ số")
    expect(item.locator(".hint")).to_contain_text("Người soạn: Chị Lan")
    item.get_by_role("button", name="Duyệt").click()
    expect(page.locator("#status")).to_have_text("Đã duyệt. Thông báo sẽ gửi đúng giờ đã hẹn.")
    expect(item.locator(".badge-status")).to_have_text("Đã duyệt, chờ giờ gửi")
    expect(item.locator(".hint")).to_contain_text("Người duyệt: Chị Hoa")
    expect(item.locator(".hint")).to_contain_text("Gửi lúc 08:00 ngày 01/05/2030")
    expect(item.get_by_role("button", name="Duyệt")).to_have_count(0)

    # While it is under way the page reads the list again by itself, without "Cập nhật" (here
    # its time came: the worker sends it, to nobody, and finishes).
    with session_scope() as session:
        session.execute(update(Announcement).values(status=AnnouncementStatus.SENDING))
    under_way = re.compile("^(Đang gửi|Đã gửi xong)$")
    expect(item.locator(".badge-status")).to_have_text(under_way, timeout=20_000)


def test_province_staff_choose_communes_and_read_the_detail(gateway: str, phone_page: Page) -> None:
    page = phone_page
    _sign_in(page, gateway, "hung")
    expect(page.get_by_text("Toàn tỉnh – Thành phố Hà Nội")).to_be_visible()
    _write(page, "Lịch tiêm chủng")
    page.get_by_text("Một số xã, phường").click()
    page.get_by_role("button", name="Lưu bản nháp").click()
    expect(page.locator("#compose-error")).to_have_text(
        "Anh/chị chọn ít nhất một xã, phường, hoặc chọn “Toàn tỉnh”."
    )
    page.get_by_label("Tìm xã, phường").fill("ngoc ha")
    expect(page.locator("#commune-count")).to_have_text("Đã chọn 0 xã, phường · đang hiện 1.")
    page.get_by_label("Phường Ngọc Hà").check()
    page.get_by_label("Tìm xã, phường").fill("ba dinh")
    page.get_by_label("Phường Ba Đình").check()
    expect(page.locator("#commune-count")).to_have_text("Đã chọn 2 xã, phường · đang hiện 1.")
    page.get_by_role("button", name="Lưu bản nháp").click()
    item = page.locator("#list .announcement")
    expect(item.locator(".hint")).to_contain_text(
        "Thành phố Hà Nội: Phường Ba Đình, Phường Ngọc Hà"
    )
    item.get_by_role("button", name="Xem kết quả").click()
    detail = page.locator("#detail")
    expect(detail).to_be_visible()
    expect(page.locator("#detail-title")).to_have_text("Lịch tiêm chủng – Chờ duyệt")
    expect(page.locator("#detail-reach dt")).to_have_count(8)
    expect(page.locator("#detail-reach dd").first).to_have_text("0")
    expect(detail.locator(".channel-card")).to_have_count(3)
    page.once("dialog", lambda dialog: dialog.accept())
    item.get_by_role("button", name="Hủy gửi").click()
    expect(page.locator("#status")).to_have_text("Đã hủy thông báo.")
    expect(item.locator(".badge-status")).to_have_text("Đã hủy")
    expect(page.locator("#detail-title")).to_have_text("Lịch tiêm chủng – Đã hủy")
    page.get_by_role("button", name="Cập nhật").click()
    expect(page.get_by_role("button", name="Cập nhật")).to_be_enabled()
    expect(item.get_by_role("button", name="Xem kết quả")).to_have_accessible_description(
        "Lịch tiêm chủng"
    )
    expect(page.locator("#detail-title")).to_have_text("Lịch tiêm chủng – Đã hủy")
