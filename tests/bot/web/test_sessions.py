"""The sign-in shared by the desk (/desk, volunteers) and the reports page (/admin, staff),
for both: only failed tries count; a stranger hammering a name from their address cannot lock
its owner out; a session dies with a new password, with sign-out and with its account, and an
account made later under a reused id (SQLite) inherits none; the password check leaves the
event loop free.

Requests pass through uvicorn's proxy-headers middleware, as in production behind a trusted
proxy, so that `X-Forwarded-For` gives each request its client address.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from bot.app import create_app
from core import passwords
from core.db import session_scope
from core.models import Staff, Volunteer
from core.passwords import verify_password
from core.repositories.staff import add_staff, remove_staff, set_password, staff_by_username
from core.repositories.volunteers import (
    add_volunteer,
    remove_volunteer,
    set_web_login,
    volunteer_by_username,
)
from tests.factories import offline_settings

PASSWORD = "mat-khau-rat-dai-1"
WRONG = "mat-khau-sai-het"
OFFICE = "198.51.100.7"  # where the account's owner signs in from
STRANGER = "203.0.113.66"


@dataclass
class Area:
    """One signed-in area of the site and the accounts that sign in there."""

    name: str  # "desk" | "admin"
    client: TestClient

    def login(self, username: str, password: str, address: str = OFFICE) -> httpx.Response:
        self.client.cookies.clear()
        response: httpx.Response = self.client.post(
            f"/{self.name}/api/login",
            json={"username": username, "password": password},
            headers={"X-Forwarded-For": address},
        )
        return response

    def session(self, username: str) -> str:
        """A new session of `username` (the cookie's value)."""
        response = self.login(username, PASSWORD)
        assert response.status_code == 200, response.text
        token = response.cookies[f"cns_{self.name}"]
        self.client.cookies.clear()
        return token

    def get(self, token: str, path: str = "/api/me") -> int:
        """The status of a GET of `path` in this area with the session `token`."""
        cookie = {"Cookie": f"cns_{self.name}={token}"}
        response: httpx.Response = self.client.get(f"/{self.name}{path}", headers=cookie)
        return response.status_code

    @property
    def data_path(self) -> str:
        return "/api/tickets" if self.name == "desk" else "/api/report?commune=00004"

    def add(self, username: str) -> int:
        with session_scope() as session:
            if self.name == "desk":
                added = add_volunteer(session=session, display_name=username, communes=["00004"])
                set_web_login(
                    session=session, volunteer_id=added.id, username=username, password=PASSWORD
                )
                return added.id
            staff = add_staff(
                session=session, username=username, display_name=username, password=PASSWORD,
                commune_code="00004",
            )  # fmt: skip
            return staff.id

    def _account(self, session: Session, username: str) -> Volunteer | Staff:
        found = (volunteer_by_username if self.name == "desk" else staff_by_username)(
            session=session, username=username
        )
        assert found is not None
        return found

    def new_password(self, username: str, password: str) -> None:
        with session_scope() as session:
            if self.name == "desk":
                account = self._account(session, username)
                set_web_login(
                    session=session, volunteer_id=account.id, username=username, password=password
                )
            else:
                set_password(session=session, username=username, password=password)

    def remove(self, username: str) -> None:
        with session_scope() as session:
            if self.name == "desk":
                remove_volunteer(session=session, volunteer_id=self._account(session, username).id)
            else:
                remove_staff(session=session, username=username)


@pytest.fixture(params=["desk", "admin"])
def area(request: pytest.FixtureRequest, app_database: str) -> Iterator[Area]:
    gateway: Any = create_app(offline_settings(app_database))  # ASGI types differ in spelling
    app: Any = ProxyHeadersMiddleware(gateway, "127.0.0.1")
    with TestClient(app, base_url="https://testserver", client=("127.0.0.1", 50000)) as client:
        found = Area(request.param, client)
        found.add("lan")
        yield found


def test_right_passwords_do_not_count_toward_the_limits(area: Area) -> None:
    for _ in range(3):  # each time a mistype or two, then the right password
        assert [area.login("lan", WRONG).status_code for _ in range(4)] == [401] * 4
        assert area.login("lan", PASSWORD).status_code == 200
    assert [area.login("lan", PASSWORD).status_code for _ in range(40)] == [200] * 40


def test_a_stranger_cannot_lock_the_owner_out(area: Area) -> None:
    tries = [area.login("lan", WRONG, STRANGER).status_code for _ in range(40)]
    assert tries == [401] * 5 + [429] * 35  # 5 guesses, then the stranger's address is stopped
    assert area.login("lan", PASSWORD, OFFICE).status_code == 200
    # Guessed from everywhere (over 20 tries in the window): one guess per new address only.
    assert area.login("lan", WRONG, "192.0.2.8").status_code == 401
    refused = area.login("lan", PASSWORD, "192.0.2.8")
    assert refused.status_code == 429
    assert refused.json()["detail"].startswith("Anh/chị đã thử sai nhiều lần")
    assert area.login("lan", PASSWORD, OFFICE).status_code == 200


def test_one_address_has_a_limit_across_names(area: Area) -> None:
    names = [f"ai-{n}" for n in range(30)]
    assert {area.login(name, WRONG, STRANGER).status_code for name in names} == {401}
    assert area.login("lan", PASSWORD, STRANGER).status_code == 429
    assert area.login("lan", PASSWORD, OFFICE).status_code == 200


def test_a_new_password_ends_every_session(area: Area) -> None:
    phone, laptop = area.session("lan"), area.session("lan")
    assert area.get(phone) == area.get(laptop) == 200
    area.new_password("lan", "mat-khau-moi-that-dai")
    assert area.get(phone) == area.get(laptop) == 401
    assert area.get(phone, area.data_path) == 401
    assert area.login("lan", PASSWORD).status_code == 401
    assert area.login("lan", "mat-khau-moi-that-dai").status_code == 200


def test_signing_out_ends_the_session_on_the_server(area: Area) -> None:
    response = area.login("lan", PASSWORD)
    token, csrf = response.cookies[f"cns_{area.name}"], response.json()["csrf"]
    out = area.client.post(f"/{area.name}/api/logout", headers={"X-CSRF-Token": csrf})
    assert out.status_code == 204
    assert area.get(token) == 401  # the old cookie, replayed


def test_a_removed_accounts_session_ends_and_passes_to_no_later_account(
    area: Area, app_database: str
) -> None:
    removed_id = area.add("minh")  # the newest account: SQLite gives its id to the next one
    token = area.session("minh")
    area.remove("minh")
    assert area.get(token) == 401
    assert area.get(token, area.data_path) == 401
    later_id = area.add("tu")
    if app_database.startswith("sqlite"):
        assert later_id == removed_id  # the case this test is about
    assert area.get(token) == 401
    assert area.get(token, area.data_path) == 401
    assert area.get(area.session("tu")) == 200


def test_checking_a_password_leaves_the_event_loop_free(
    area: Area, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A resident's chat shares the event loop with every sign-in: while scrypt runs, the loop
    keeps ticking (a slow hash, so that a stalled loop shows on a loaded machine)."""
    monkeypatch.setattr(passwords, "P", 8)
    area.new_password("lan", PASSWORD)  # Lan's hash now takes ~8 times as long to check
    with session_scope() as session:
        stored = area._account(session, "lan").password_hash
    started = time.perf_counter()
    assert verify_password(PASSWORD, stored)
    check = time.perf_counter() - started

    gaps: list[float] = []

    async def tick() -> None:
        last = time.perf_counter()
        while True:
            await asyncio.sleep(0.005)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    assert area.client.portal is not None
    ticker = area.client.portal.start_task_soon(tick)
    try:
        assert area.login("lan", PASSWORD).status_code == 200
    finally:
        ticker.cancel()
    assert gaps
    assert max(gaps) < check / 2, (max(gaps), check)
