"""The resident web chat page (`/`) in headless Chromium on a phone-sized screen, against
the real stack (trained Rasa, action server, gateway): typing, buttons, layout, empty input,
the identity the server issues (an HttpOnly cookie, nothing in storage)."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Locator, Page, Request, Response, expect

from bot.channels.web import COOKIE
from core.content.services import load_service_guide
from tests.browser import chromium_fixture, phone_page_fixture  # noqa: F401
from tests.stack import RunningStack

pytestmark = pytest.mark.e2e

#: How long a reply may take (the first message after the stack starts is the slowest).
REPLY_TIMEOUT_MS = 60_000
WELCOME = "Dạ, em chào anh/chị!"
STEP_BUTTONS = ["Tiếp theo", "Tôi bị kẹt ở bước này", "Gặp người hỗ trợ"]


def _open_chat(page: Page, stack: RunningStack) -> None:
    page.goto(f"{stack.url}/")
    expect(page.get_by_test_id("bot-msg").first).to_contain_text(WELCOME)


def _send(page: Page, text: str) -> None:
    page.get_by_test_id("input").fill(text)
    page.get_by_test_id("send").click()


def _bot_row(page: Page, starts_with: str) -> Locator:
    """The bot's message row whose bubble starts with `starts_with` (exactly one)."""
    bubble = page.get_by_test_id("bot-msg").filter(
        has_text=re.compile("^" + re.escape(starts_with))
    )
    expect(bubble).to_have_count(1, timeout=REPLY_TIMEOUT_MS)
    return page.locator(".row.bot").filter(has=bubble)


def _ask_birth_registration(page: Page, stack: RunningStack) -> Locator:
    """Type the question without diacritics, as residents do; return step 1's row."""
    _open_chat(page, stack)
    _send(page, "dang ky khai sinh cho con")
    expect(page.get_by_test_id("user-msg")).to_have_text(["dang ky khai sinh cho con"])
    steps = len(load_service_guide("birth_registration").steps)
    return _bot_row(page, f"Bước 1/{steps} – ")


def test_typed_question_gets_the_birth_registration_walkthrough_with_buttons(
    stack: RunningStack, phone_page: Page
) -> None:
    guide = load_service_guide("birth_registration")
    step_one = _ask_birth_registration(phone_page, stack)

    expect(step_one.get_by_test_id("bot-msg")).to_contain_text(guide.steps[0].title)
    expect(step_one.get_by_role("button")).to_have_text(
        [STEP_BUTTONS[0], "Xem giấy tờ cần chuẩn bị", *STEP_BUTTONS[1:], "Thoát"]
    )
    for chip in step_one.get_by_role("button").all():
        expect(chip).to_be_enabled()
    overview = _bot_row(phone_page, "Dạ, em hướng dẫn anh/chị đăng ký khai sinh")
    expect(overview).to_be_visible()
    expect(phone_page.get_by_test_id("bot-msg").filter(has_text="Lệ phí:")).to_have_count(1)
    expect(phone_page.get_by_test_id("typing")).to_have_count(0)
    # The overview comes before step 1 in the log.
    texts = phone_page.get_by_test_id("bot-msg").all_inner_texts()
    overview_at = next(i for i, t in enumerate(texts) if t.startswith("Dạ, em hướng dẫn"))
    step_at = next(i for i, t in enumerate(texts) if t.startswith("Bước 1/"))
    assert overview_at < step_at, texts


def test_pressing_next_shows_step_two(stack: RunningStack, phone_page: Page) -> None:
    guide = load_service_guide("birth_registration")
    step_one = _ask_birth_registration(phone_page, stack)

    next_chip = step_one.get_by_role("button", name="Tiếp theo", exact=True)
    next_chip.tap()  # a touch screen, as on a phone

    # The resident sees the button's title as their message, never its payload.
    expect(phone_page.get_by_test_id("user-msg")).to_have_text(
        ["dang ky khai sinh cho con", "Tiếp theo"]
    )
    step_two = _bot_row(phone_page, f"Bước 2/{len(guide.steps)} – {guide.steps[1].title}")
    expect(step_two.get_by_role("button")).to_have_text([*STEP_BUTTONS, "Thoát"])
    # Step 2 of this guide has a link: it is a real, safe link.
    assert guide.steps[1].link
    link = str(guide.steps[1].link).rstrip("/")
    anchor = step_two.get_by_role("link")
    expect(anchor).to_have_attribute("href", re.compile("^" + re.escape(link)))
    expect(anchor).to_have_attribute("rel", "noopener noreferrer")
    # The pressed button's group cannot be pressed again; the pressed one stays marked.
    expect(next_chip).to_be_disabled()
    expect(next_chip).to_have_class(re.compile(r"\bchosen\b"))
    for chip in step_one.get_by_role("button").all():
        expect(chip).to_be_disabled()


_OUTSIDE_THE_SCREEN = """
() => {
  const width = document.documentElement.clientWidth;
  const out = [];
  for (const el of document.querySelectorAll(".app *")) {
    if (el.closest(".sr-only, noscript, svg") && !el.matches("svg")) continue;
    const box = el.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;
    if (box.left < -0.5 || box.right > width + 0.5) {
      out.push(`${el.tagName}.${el.className}: ${box.left}..${box.right} of ${width}`);
    }
  }
  return out;
}
"""

_WIDTHS = """
() => {
  const log = document.getElementById("log");
  return {
    inner: window.innerWidth,
    page: document.documentElement.scrollWidth,
    body: document.body.scrollWidth,
    log: log.scrollWidth,
    logClient: log.clientWidth,
  };
}
"""


@pytest.mark.parametrize("width", [390, 320])
def test_the_page_fits_a_phone_screen_without_sideways_scrolling(
    stack: RunningStack, phone_page: Page, width: int
) -> None:
    phone_page.set_viewport_size({"width": width, "height": 700})
    guide = load_service_guide("birth_registration")
    step_one = _ask_birth_registration(phone_page, stack)
    step_one.get_by_role("button", name="Tiếp theo", exact=True).tap()
    _bot_row(phone_page, f"Bước 2/{len(guide.steps)} – ")  # has a long link

    widths = phone_page.evaluate(_WIDTHS)
    # The viewport meta tag works: a page without it is laid out 980 px wide on phones.
    assert widths["inner"] == width, widths
    assert widths["page"] <= width, widths
    assert widths["body"] <= width, widths
    assert widths["log"] <= widths["logClient"], widths
    assert phone_page.evaluate(_OUTSIDE_THE_SCREEN) == []

    # The input box and the send button are on screen; every button is a finger-sized target.
    for testid in ("input", "send"):
        box = phone_page.get_by_test_id(testid).bounding_box()
        assert box is not None
        assert box["x"] >= 0, (testid, box)
        assert box["x"] + box["width"] <= width, (testid, box)
        assert box["y"] >= 0, (testid, box)
        assert box["y"] + box["height"] <= 700, (testid, box)
    chips = phone_page.get_by_test_id("chip").all()
    assert len(chips) >= 8
    for chip in chips:
        box = chip.bounding_box()
        assert box is not None
        assert box["height"] >= 44, (chip.inner_text(), box)
    font_size = phone_page.get_by_test_id("input").evaluate("e => getComputedStyle(e).fontSize")
    assert float(font_size.removesuffix("px")) >= 16  # smaller makes iOS zoom in on focus


def test_an_empty_message_is_not_sent(stack: RunningStack, phone_page: Page) -> None:
    sent: list[str] = []

    def record(request: Request) -> None:
        if request.url.endswith("/api/chat") and request.method == "POST":
            sent.append(json.loads(request.post_data or "{}")["text"])

    phone_page.on("request", record)
    _open_chat(phone_page, stack)
    box = phone_page.get_by_test_id("input")
    send = phone_page.get_by_test_id("send")

    expect(send).to_be_disabled()
    box.fill("   \n  ")
    expect(send).to_be_disabled()
    box.press("Enter")
    phone_page.locator("#composer-form").evaluate("form => form.requestSubmit()")
    expect(phone_page.get_by_test_id("user-msg")).to_have_count(0)

    # A real message afterwards is the first and only one sent: nothing empty was queued.
    box.fill("xin chao")
    expect(send).to_be_enabled()
    box.press("Enter")
    expect(phone_page.get_by_test_id("user-msg")).to_have_text(["xin chao"])
    expect(box).to_have_value("")
    expect(send).to_be_disabled()
    # The bot's greeting (the page's own welcome does not say this).
    greeting = phone_page.get_by_test_id("bot-msg").filter(has_text="Em là trợ lý")
    expect(greeting).to_have_count(1, timeout=REPLY_TIMEOUT_MS)
    assert sent == ["xin chao"]


def _is_chat_post(response: Response) -> bool:
    return response.url.endswith("/api/chat") and response.request.method == "POST"


def test_the_resident_is_known_by_the_cookie_the_server_issued(
    stack: RunningStack, phone_page: Page
) -> None:
    _open_chat(phone_page, stack)
    with phone_page.expect_response(_is_chat_post, timeout=REPLY_TIMEOUT_MS) as first:
        _send(phone_page, "xin chao")
    assert "sender" not in json.loads(first.value.request.post_data or "{}")
    token = first.value.json()["sender"]
    [cookie] = [c for c in phone_page.context.cookies() if c["name"] == COOKIE]
    assert (cookie["value"], cookie["httpOnly"], cookie["path"]) == (token, True, "/api/chat")
    assert cookie["sameSite"] == "Lax"
    # Neither storage nor scripts hold the credential.
    assert token.split(".")[1] not in phone_page.evaluate("JSON.stringify(localStorage)")
    assert COOKIE not in phone_page.evaluate("document.cookie")

    # After a reload the page knows nothing but the cookie, and the resident is the same.
    phone_page.reload()
    with phone_page.expect_response(_is_chat_post, timeout=REPLY_TIMEOUT_MS) as again:
        _send(phone_page, "cam on em")
    assert "sender" not in json.loads(again.value.request.post_data or "{}")
    assert again.value.json()["sender"] == token
