"""The handoff loop through the web desk in headless Chromium, with the real stack: a resident
on the web chat asks for a person → the volunteer signs in to /desk, sees the ticket, claims it
→ messages appear live on both pages → close → rating chips on the resident's page → the bot
answers again. Both people use phone-sized pages."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from core.repositories.volunteers import add_volunteer, set_web_login
from tests.browser import ACTION_TIMEOUT_MS, PHONE, chromium_fixture  # noqa: F401
from tests.stack import RunningStack

pytestmark = pytest.mark.e2e

REPLY_TIMEOUT_MS = 60_000
PASSWORD = "mat-khau-cua-lan-2026"


@pytest.fixture
def contexts(chromium: Browser) -> Iterator[tuple[BrowserContext, BrowserContext]]:
    """Two separate phones: the resident's and the volunteer's."""
    made = [chromium.new_context(**PHONE) for _ in range(2)]
    for context in made:
        context.set_default_timeout(ACTION_TIMEOUT_MS)
    yield made[0], made[1]
    for context in made:
        context.close()


def say(page: Page, text: str) -> None:
    page.get_by_test_id("input").fill(text)
    page.get_by_test_id("send").click()


def bot_says(page: Page, part: str) -> None:
    bubble = page.get_by_test_id("bot-msg").filter(has_text=part)
    expect(bubble.last).to_be_visible(timeout=REPLY_TIMEOUT_MS)


def test_web_desk_handoff_loop(
    stack: RunningStack, contexts: tuple[BrowserContext, BrowserContext]
) -> None:
    with stack.session() as session:
        lan = add_volunteer(session=session, display_name="Chị Lan (web)", communes=["00070"])
        set_web_login(session=session, volunteer_id=lan.id, username="lan-web", password=PASSWORD)
    resident_context, volunteer_context = contexts

    # The resident asks for a person on the web chat, does not let their words be kept, and
    # gives the commune.
    chat = resident_context.new_page()
    chat.goto(f"{stack.url}/")
    say(chat, "cho toi gap nguoi ho tro")
    bot_says(chat, "Anh/chị đồng ý không ạ?")
    say(chat, "khong luu")
    bot_says(chat, "anh/chị ở xã, phường nào")
    say(chat, "phuong hoan kiem ha noi")
    bot_says(chat, "lượt thứ 1")

    # The volunteer signs in, sees the ticket of their commune, claims it.
    desk = volunteer_context.new_page()
    desk.goto(f"{stack.url}/desk")
    desk.locator("#username").fill("lan-web")
    desk.locator("#password").fill(PASSWORD)
    desk.locator("#login-form").get_by_role("button").click()
    expect(desk.locator("#me-name")).to_have_text("Chị Lan (web)")
    ticket = desk.locator("#ticket-list li.ticket-item")
    expect(ticket).to_have_count(1, timeout=REPLY_TIMEOUT_MS)
    expect(ticket).to_contain_text("Phường Hoàn Kiếm")
    ticket.get_by_role("button").click()
    # The resident did not agree to their words being kept: the card carries none of them.
    expect(desk.locator("#ticket-summary")).not_to_contain_text("cho toi gap nguoi ho tro")
    desk.locator("#claim").click()
    bot_says(chat, "Chị Lan (web) ở Tổ công nghệ số đã nhận hỗ trợ bác")

    # Live both ways: the volunteer's reply reaches the chat page, the resident's message
    # appears on the desk without a reload; the bot keeps quiet.
    desk.locator("#reply-text").fill("Dạ bác cần làm thủ tục gì ạ?")
    desk.locator("#reply-text").press("Enter")
    bot_says(chat, "Dạ bác cần làm thủ tục gì ạ?")
    say(chat, "dang ky khai sinh cho chau noi")
    resident_said = desk.locator('#messages .message[data-author="resident"]')
    expect(resident_said.last).to_contain_text("dang ky khai sinh cho chau noi")
    desk.locator("#reply-text").fill("// đã hướng dẫn qua điện thoại")
    desk.locator("#reply-text").press("Enter")
    expect(desk.locator('#messages .message[data-author="note"]')).to_have_count(1)
    expect(chat.get_by_test_id("bot-msg").filter(has_text="Bước 1/")).to_have_count(0)

    # Close: the resident gets the rating chips, rates, and the bot answers again.
    desk.locator("#close-resolved").click()
    desk.locator("#confirm-yes").click()
    expect(ticket).to_have_count(0, timeout=REPLY_TIMEOUT_MS)
    bot_says(chat, "bác còn cần hỗ trợ gì nữa không ạ?")
    chat.get_by_role("button", name="5", exact=True).last.click()
    bot_says(chat, "em cảm ơn bác đã chấm điểm")
    say(chat, "dang ky khai sinh cho con")
    bot_says(chat, "Bước 1/")
    expect(chat.get_by_test_id("bot-msg").filter(has_text="gọi lại")).to_have_count(0)
    expect(chat.get_by_test_id("bot-msg").filter(has_text=re.compile("điện thoại$"))).to_have_count(
        0
    )
