"""The staff report page in headless Chromium on a phone-sized screen, against the gateway
served by uvicorn in this process: sign in, find a commune without diacritics, read its report
in the sandboxed frame, download the Excel file, sign out."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from bot.app import create_app
from core.db import session_scope
from core.models import EventType, utcnow
from core.repositories.events import record_event
from core.repositories.staff import add_staff
from reports import labels
from reports.model import Period
from tests.browser import chromium_fixture, phone_page_fixture  # noqa: F401
from tests.factories import offline_settings
from tests.serving import served

PASSWORD = "mat-khau-rat-dai-1"
LAST_MONTH = Period.containing(utcnow()).previous()


@pytest.fixture
def gateway(app_database: str) -> Iterator[str]:
    """The gateway at http://127.0.0.1:PORT with Hùng (Hà Nội) and Lan (Ba Đình) as staff."""
    with session_scope() as session:
        add_staff(
            session=session, username="hung", display_name="Anh Hùng", password=PASSWORD,
            province_code="01",
        )  # fmt: skip
        add_staff(
            session=session, username="lan", display_name="Chị Lan", password=PASSWORD,
            commune_code="00004",
        )  # fmt: skip
        for n in range(6):
            record_event(
                session=session, type=EventType.MESSAGE_IN, channel="web",
                resident_id=f"r{n}", commune_code="00008",
                occurred_at=LAST_MONTH.start + timedelta(days=3),
            )  # fmt: skip
    with served(create_app(offline_settings(app_database))) as url:
        yield url


def _sign_in(page: Page, url: str, username: str) -> None:
    page.goto(f"{url}/admin/reports")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()


def test_province_staff_find_a_commune_read_its_report_and_download_it(
    gateway: str, phone_page: Page
) -> None:
    page = phone_page
    page.goto(f"{gateway}/admin/reports")
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.locator("#login-error")).to_have_text(
        "Anh/chị vui lòng nhập tên đăng nhập và mật khẩu."
    )
    _sign_in(page, gateway, "hung")
    expect(page.locator("#me-name")).to_have_text("Anh Hùng")
    place = page.locator("#place")
    expect(place.locator("option").first).to_have_text("Toàn tỉnh – Thành phố Hà Nội")
    expect(page.locator("#month")).to_have_value(LAST_MONTH.label)

    page.get_by_role("searchbox").fill("ngoc ha")
    expect(page.locator("#place-count")).to_have_text("Tìm thấy 1 xã, phường.")
    expect(place).to_have_value("commune:00008")
    page.get_by_role("button", name="Xem báo cáo").click()
    expect(page.locator("#status")).to_have_text("Báo cáo ở bên dưới.")
    report = page.frame_locator("#report-frame")
    expect(report.locator("body")).to_contain_text("Phường Ngọc Hà")
    expect(report.locator("body")).to_contain_text(labels.month(LAST_MONTH))
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways ({width} px)"

    with page.expect_download() as download:
        page.get_by_role("button", name="Tải Excel").click()
    assert download.value.suggested_filename == f"bao-cao-xa-00008-{LAST_MONTH.label}.xlsx"
    expect(page.locator("#status")).to_contain_text("Đã tải xong tệp bao-cao-xa-00008-")

    page.get_by_role("searchbox").fill("")
    place.select_option("province:01")
    page.get_by_role("button", name="Xem báo cáo").click()
    expect(report.locator("body")).to_contain_text("Thành phố Hà Nội")

    page.get_by_role("button", name="Đăng xuất").click()
    expect(page.get_by_label("Mật khẩu")).to_be_visible()


def test_commune_staff_see_only_their_commune(gateway: str, phone_page: Page) -> None:
    page = phone_page
    _sign_in(page, gateway, "lan")
    expect(page.locator("#me-scope")).to_have_text("Phường Ba Đình, Hà Nội")
    expect(page.locator("#place option")).to_have_text(["Phường Ba Đình"])
    expect(page.get_by_role("searchbox")).to_be_hidden()
    page.get_by_role("button", name="Xem báo cáo").click()
    expect(page.frame_locator("#report-frame").locator("body")).to_contain_text("Phường Ba Đình")
