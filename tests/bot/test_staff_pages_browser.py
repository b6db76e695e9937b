"""The staff pages' ES modules in headless Chromium on a phone-sized screen, against the gateway
served by uvicorn in this process: each page loads its modules without a script error (no
refused, missing or mistyped module, no uncaught exception) and goes from the sign-in form to
its signed-in view and back; on the desk a volunteer opens a ticket from the list, claims it,
replies and closes it, which runs every module of js/desk/."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

from bot.app import create_app
from bot.channels.web_identity import WebIdentities
from core.db import session_scope
from core.models import Announcement, AnnouncementStatus, TicketReason, utcnow
from core.privacy import pseudonymize
from core.repositories.tickets import open_ticket
from tests.browser import chromium_fixture, phone_page_fixture  # noqa: F401
from tests.factories import add_desk_and_report_logins, offline_settings
from tests.serving import served

PASSWORD = "mat-khau-rat-dai-1"
PSEUDONYM_KEY = "staff-pages-test-key"
RESIDENT = WebIdentities.from_secret(PSEUDONYM_KEY).issue()
SUMMARY = "Bác hỏi cách cài VNeID"
NOTICE_TITLE = "Ngày hỗ trợ cài VNeID"
NOTICE_TEXT = "Sáng thứ Bảy, nhà văn hóa tổ 3 hướng dẫn cài VNeID."


@pytest.fixture
def gateway(app_database: str) -> Iterator[str]:
    """The gateway with Chị Lan (desk, Ba Đình), Anh Hùng (reports, Hà Nội) and one open ticket
    of a web resident of Ba Đình, who asked about the commune's announcement."""
    with session_scope() as session:
        add_desk_and_report_logins(session=session, commune="00004", password=PASSWORD)
        now = utcnow()
        notice = Announcement(
            commune_code="00004",
            title=NOTICE_TITLE,
            text=NOTICE_TEXT,
            category="event",
            send_at=now,
            expires_at=now,
            status=AnnouncementStatus.SENT,
        )
        session.add(notice)
        session.flush()
        open_ticket(
            session=session,
            resident_id=pseudonymize("web", RESIDENT.user_id, key=PSEUDONYM_KEY),
            channel="web",
            channel_user_id=RESIDENT.user_id,
            commune_code="00004",
            reason=TicketReason.ANNOUNCEMENT,
            summary=SUMMARY,
            announcement_id=notice.id,
        )
    settings = offline_settings(app_database, pseudonym_key=PSEUDONYM_KEY)
    with served(create_app(settings)) as url:
        yield url


@pytest.fixture
def script_errors(phone_page: Page) -> list[str]:
    """What goes wrong in the page's scripts: uncaught exceptions and console errors (a module
    refused for its type or by the content policy, one not found), but the 401 of the first
    GET …/api/me, which is how a page learns that nobody is signed in yet."""
    errors: list[str] = []

    def console(message: ConsoleMessage) -> None:
        expected = "status of 401" in message.text and message.location["url"].endswith("/api/me")
        if message.type == "error" and not expected:
            errors.append(f"{message.text} ({message.location['url']})")

    phone_page.on("console", console)
    phone_page.on("pageerror", lambda error: errors.append(f"uncaught: {error}"))
    return errors


def sign_in(page: Page, username: str) -> None:
    expect(page.locator("body")).to_have_attribute("data-view", "login")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.locator("body")).to_have_attribute("data-view", "signed-in")


@pytest.mark.parametrize(
    ("path", "username", "name"),
    [
        ("/desk", "lan", "Chị Lan"),
        ("/admin/reports", "hung", "Anh Hùng"),
        ("/admin/announcements", "hung", "Anh Hùng"),
    ],
    ids=["desk", "reports", "announcements"],
)
def test_each_page_signs_in_and_out_without_script_errors(
    gateway: str, phone_page: Page, script_errors: list[str], path: str, username: str, name: str
) -> None:
    page = phone_page
    page.goto(gateway + path)
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.locator("#login-error")).to_have_text(
        "Anh/chị vui lòng nhập tên đăng nhập và mật khẩu."
    )
    sign_in(page, username)
    expect(page.locator("#me-name")).to_have_text(name)
    page.reload()  # the session survives a reload: GET /me signs the page in
    expect(page.locator("body")).to_have_attribute("data-view", "signed-in")
    page.get_by_role("button", name="Đăng xuất").click()
    expect(page.locator("body")).to_have_attribute("data-view", "login")
    expect(page.get_by_label("Mật khẩu")).to_be_visible()
    assert script_errors == []


def test_a_volunteer_claims_replies_to_and_closes_a_ticket(
    gateway: str, phone_page: Page, script_errors: list[str]
) -> None:
    page = phone_page
    page.goto(f"{gateway}/desk")
    sign_in(page, "lan")
    ticket = page.locator("#ticket-list li.ticket-item")
    expect(ticket).to_have_count(1)
    expect(ticket).to_contain_text("Phường Ba Đình")
    expect(page.locator("#ticket-count")).to_have_text("1 yêu cầu, 1 đang chờ")
    ticket.get_by_role("button").click()
    expect(page).to_have_url(re.compile(r"#yeu-cau-\d+$"))
    expect(page.locator("#ticket-summary")).to_have_text(SUMMARY)
    expect(page.locator("#announcement-title")).to_have_text(NOTICE_TITLE)
    expect(page.locator("#announcement-text")).to_have_text(NOTICE_TEXT)
    expect(page.locator("#reply-text")).to_be_disabled()

    page.locator("#claim").click()
    expect(page.locator("#notice")).to_have_text(
        "Anh/chị đã nhận yêu cầu này. Giờ anh/chị có thể trả lời người dân."
    )
    page.locator("#reply-text").fill("Chào bác, cháu hướng dẫn bác cài VNeID ạ")
    page.locator("#reply-text").press("Enter")
    expect(page.locator("#messages .message-volunteer .message-text")).to_have_text(
        "Chào bác, cháu hướng dẫn bác cài VNeID ạ"
    )
    expect(page.locator("#reply-text")).to_have_value("")

    page.locator("#close-resolved").click()
    expect(page.locator("#confirm-text")).to_contain_text("vì đã hỗ trợ xong?")
    page.locator("#confirm-yes").click()
    expect(page.locator("#notice")).to_have_text(
        "Đã đóng yêu cầu. Cảm ơn anh/chị đã hỗ trợ người dân!"
    )
    expect(page.locator("#reply-text")).to_be_disabled()
    page.get_by_role("button", name="Quay lại danh sách yêu cầu").click()
    expect(page.locator("#conv")).to_be_hidden()  # the phone's back key works the same
    expect(page.get_by_text("Hiện chưa có ai cần hỗ trợ.")).to_be_visible()  # closed: off the list
    expect(page).to_have_url(f"{gateway}/desk")
    assert script_errors == []
