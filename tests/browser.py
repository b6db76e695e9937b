"""Headless Chromium for browser tests: Debian's `chromium` driven by Playwright's sync API.

Nothing is downloaded: the `playwright` wheel bundles its driver, and the browser is the
system's Chromium (`/usr/bin/chromium`, or `CHROMIUM_PATH`). Without it the tests *fail*
with a message saying how to install it (`.ci/run` installs it).

Fixtures live here rather than in `tests/conftest.py`, so that only the modules that drive a
browser import Playwright. A test module imports both fixture functions (pytest collects
fixtures from a module's namespace, and `phone_page` needs `chromium`); they are registered
under the short names below, so a test's `phone_page` argument does not shadow the import
(no ruff F811)::

    from tests.browser import chromium_fixture, phone_page_fixture  # noqa: F401

    def test_something(phone_page: Page) -> None: ...

- `chromium` (module scope): the running browser.
- `phone_page` (per test): a fresh page in a fresh phone-sized context (390x844, touch,
  `vi-VN`; so fresh cookies and localStorage too); another screen of `PHONE_SCREENS` with
  `@pytest.mark.parametrize("phone_page", ["360x740"], indirect=True)`. Requests to anything
  but this machine are aborted, so a page can never reach the internet. When the test fails,
  a screenshot and the page's HTML are saved under the test's `tmp_path` and the path is
  printed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Error, Page, Playwright, Route, sync_playwright

DEFAULT_CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--metrics-recording-only",
    "--disable-default-apps",
)
#: A mid-range phone in portrait (CSS pixels), as residents use the web chat.
PHONE: dict[str, Any] = {
    "viewport": {"width": 390, "height": 844},
    "screen": {"width": 390, "height": 844},
    "device_scale_factor": 3,
    "is_mobile": True,
    "has_touch": True,
    "locale": "vi-VN",
    "timezone_id": "Asia/Ho_Chi_Minh",
}
#: Phone screens in portrait (CSS pixels) the web chat must work on: the smallest common
#: Android screen and the mid-range phone of `PHONE`.
PHONE_SCREENS: dict[str, dict[str, int]] = {
    "360x740": {"width": 360, "height": 740},
    "390x844": PHONE["viewport"],
}
#: Default timeout of page actions (clicks, fills), in milliseconds.
ACTION_TIMEOUT_MS = 15_000
_LOCAL_URL = re.compile(r"^(?:https?|wss?)://(?:127\.0\.0\.1|localhost|\[::1\])(?::\d+)?(?:/|$)")


def chromium_path() -> str:
    """The Chromium binary to launch: `CHROMIUM_PATH`, else Debian's `/usr/bin/chromium`."""
    return os.environ.get("CHROMIUM_PATH") or DEFAULT_CHROMIUM


def launch_chromium(playwright: Playwright) -> Browser:
    """Launch the system Chromium headless, or fail the test saying how to install it."""
    path = chromium_path()
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail(
            f"Chromium not found at {path}. The browser tests need it: install Debian's "
            "package with `sudo apt-get install -y chromium` (run `sudo apt-get update` first "
            "if it is not found), or set CHROMIUM_PATH to a Chromium/Chrome binary. "
            "Playwright's own browsers are not used.",
            pytrace=False,
        )
    try:
        return playwright.chromium.launch(
            executable_path=path, headless=True, args=list(CHROMIUM_ARGS)
        )
    except Error as exc:
        pytest.fail(f"Chromium at {path} did not start: {exc}", pytrace=False)


@pytest.fixture(scope="module", name="chromium")
def chromium_fixture() -> Iterator[Browser]:
    """The system Chromium, headless, shared by the tests of one module."""
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            yield browser
        finally:
            browser.close()


def _stay_on_this_machine(route: Route) -> None:
    if _LOCAL_URL.match(route.request.url):
        route.continue_()
    else:
        route.abort("blockedbyclient")


@pytest.fixture(name="phone_page")
def phone_page_fixture(
    chromium: Browser, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Page]:
    """A page in a fresh phone-sized context (`PHONE`, or the screen of `PHONE_SCREENS` named
    by an indirect parameter); screenshot and HTML saved if the test fails."""
    failed_before = request.session.testsfailed
    screen = PHONE_SCREENS[getattr(request, "param", "390x844")]
    context = chromium.new_context(**{**PHONE, "viewport": screen, "screen": screen})
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    context.route(re.compile(r"^(?:https?|wss?)://"), _stay_on_this_machine)
    page = context.new_page()
    try:
        yield page
    finally:
        # The call phase has been reported by now: a failure there is already counted.
        if request.session.testsfailed > failed_before and not page.is_closed():
            _save_failure(page, request, tmp_path)
        context.close()


def _save_failure(page: Page, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    screenshot = tmp_path / "failure.png"
    try:
        page.screenshot(path=screenshot, full_page=True)
        (tmp_path / "failure.html").write_text(page.content(), encoding="utf-8")
    except Error as exc:
        message = f"{request.node.nodeid}: no screenshot ({exc})"
    else:
        message = f"{request.node.nodeid}: page at failure: {screenshot} (and failure.html)"
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(message)
