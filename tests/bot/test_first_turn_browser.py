"""The first turn of a walkthrough on a phone, in headless Chromium against the real stack:
the resident types the question and sees step 1's buttons without scrolling, on a 360x740 and
a 390x844 screen (screenshots saved under the test's tmp dir); and what one phone screen holds,
measured, is at least the conversation rules' limit on a bubble (tests/conversation_rules.py).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from core.content.services import load_service_guide
from tests.bot.test_web_chat_browser import _bot_row, _open_chat, _send
from tests.browser import PHONE_SCREENS, chromium_fixture, phone_page_fixture  # noqa: F401
from tests.conversation_rules import SCREEN_CHARS, SCREEN_LINES
from tests.domain import first_example
from tests.stack import RunningStack

pytestmark = pytest.mark.e2e

QUESTIONS = {
    "birth_registration": "dang ky khai sinh cho con",
    "vneid_recovery": first_example("service_vneid_recovery"),  # the longest step 1
}

# The log's box on screen, and how far it is scrolled.
_LOG = """
() => {
  const log = document.getElementById("log");
  const box = log.getBoundingClientRect();
  return { top: box.top, bottom: box.bottom, scrollTop: log.scrollTop };
}
"""


@pytest.mark.parametrize("phone_page", list(PHONE_SCREENS), indirect=True)
@pytest.mark.parametrize("service", list(QUESTIONS))
def test_step_one_buttons_are_on_screen_without_scrolling(
    stack: RunningStack, phone_page: Page, service: str, tmp_path: Path
) -> None:
    steps = len(load_service_guide(service).steps)
    # The page scrolls to the reply at once (not smoothly): where it ends up is measured.
    phone_page.emulate_media(reduced_motion="reduce")
    _open_chat(phone_page, stack)
    _send(phone_page, QUESTIONS[service])
    chips = _bot_row(phone_page, f"Bước 1/{steps} – ").get_by_role("button")
    expect(chips.first).to_be_attached()
    expect(phone_page.get_by_test_id("typing")).to_have_count(0)
    expect(chips.last).to_be_in_viewport(ratio=1)  # then where they are is measured
    log = phone_page.evaluate(_LOG)
    phone_page.screenshot(path=tmp_path / f"{service}.png")
    viewport = phone_page.viewport_size
    assert viewport is not None
    bottom = min(log["bottom"], viewport["height"])
    for chip in chips.all():
        box = chip.bounding_box()
        assert box is not None
        where = (chip.inner_text(), box, log, viewport, str(tmp_path / f"{service}.png"))
        assert box["y"] >= log["top"], where
        assert box["y"] + box["height"] <= bottom, where


# The most of `text` (its first characters, or lines) one bot bubble shows within the log.
_MOST_THAT_FITS = """
([text, byLines]) => {
  const log = document.getElementById("log");
  const row = document.createElement("div");
  row.className = "row bot";
  const bubble = document.createElement("div");
  bubble.className = "bubble";
  row.appendChild(bubble);
  log.appendChild(row);
  const parts = byLines ? text.split("\\n") : Array.from(text);
  const fits = (n) => {
    bubble.textContent = parts.slice(0, n).join(byLines ? "\\n" : "");
    return bubble.getBoundingClientRect().height <= log.clientHeight;
  };
  let low = 0, high = parts.length;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (fits(middle)) low = middle; else high = middle - 1;
  }
  row.remove();
  return { fits: low, log: log.clientHeight };
}
"""


@pytest.mark.parametrize("phone_page", ["360x740"], indirect=True)
def test_one_phone_screen_holds_a_bubble_at_the_rules_limits(
    stack: RunningStack,
    phone_page: Page,
    capsys: pytest.CaptureFixture[str],
    record_property: Callable[[str, object], None],
) -> None:
    steps = load_service_guide("birth_registration").steps
    prose = " ".join(step.text for step in steps)
    lines = "\n".join(f"• Giấy tờ số {number}" for number in range(1, 41))  # one row each
    _open_chat(phone_page, stack)
    chars = phone_page.evaluate(_MOST_THAT_FITS, [prose, False])
    rows = phone_page.evaluate(_MOST_THAT_FITS, [lines, True])
    record_property("screen_chars", chars["fits"])
    record_property("screen_lines", rows["fits"])
    with capsys.disabled():
        print(
            f"\n360x740: the log is {chars['log']} px; a bubble fits {chars['fits']} "
            f"characters, {rows['fits']} lines"
        )
    assert chars["fits"] >= SCREEN_CHARS, chars
    assert rows["fits"] >= SCREEN_LINES, rows
