"""HTTPS in front of the gateway, run for real: Debian's caddy with docker/Caddyfile (the very file
the compose `https` service mounts), TLS_SOURCE=files with a self-signed certificate made here,
on free ports of 127.0.0.1, in front of the gateway served in this process. A volunteer signs in
to /desk and a staff member to /admin/reports in headless Chromium: the Secure session cookies
stick across a reload. Plain http is redirected to https, answers carry HSTS, and the gateway
sees the https scheme (X-Forwarded-Proto): the web chat's cookie is Secure through Caddy and
not when the gateway is reached directly over http.

Without caddy the test is skipped, except under CI=true, where it fails (`.ci/run` installs it).
"""

from __future__ import annotations

import os
import shutil
import ssl
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, expect

from bot.app import create_app
from cns.stack import free_port
from core.db import session_scope
from tests.browser import ACTION_TIMEOUT_MS, PHONE, chromium_fixture  # noqa: F401
from tests.factories import add_desk_and_report_logins, offline_settings
from tests.listening import listening_of
from tests.serving import running, served

pytestmark = pytest.mark.e2e

CADDYFILE = Path(__file__).resolve().parents[2] / "docker" / "Caddyfile"
HOST = "localhost"  # PUBLIC_HOST: the certificate's name
PASSWORD = "mat-khau-cua-lan-2026"
STARTUP_TIMEOUT = 30.0


@dataclass(frozen=True)
class Front:
    """Caddy's process and two ports, and the trust of the certificate it serves."""

    pid: int
    http_port: int
    https_port: int
    certificate: Path

    @property
    def url(self) -> str:
        return f"https://{HOST}:{self.https_port}"

    def client(self) -> httpx.Client:
        trust = ssl.create_default_context(cafile=str(self.certificate))
        return httpx.Client(verify=trust, timeout=10)


def caddy_binary() -> str:
    """Debian's caddy; skipped without it, but under CI=true its absence is a failure."""
    found = shutil.which("caddy", path=f"{os.environ.get('PATH', '')}{os.pathsep}/usr/bin")
    if found is None:
        message = "caddy is not installed (`apt-get install -y caddy`; .ci/run does it)"
        if os.environ.get("CI") == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return found


def self_signed(folder: Path) -> Path:
    """fullchain.pem and privkey.pem for HOST in `folder` (as ./certs holds them); the
    certificate's path."""
    folder.mkdir()
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-nodes", "-days", "2", "-subj", f"/CN={HOST}",
            "-addext", f"subjectAltName=DNS:{HOST}",
            "-keyout", str(folder / "privkey.pem"), "-out", str(folder / "fullchain.pem"),
        ],
        check=True, capture_output=True,
    )  # fmt: skip
    return folder / "fullchain.pem"


@contextmanager
def caddy(upstream: str, tmp_path: Path) -> Iterator[Front]:
    """docker/Caddyfile run by caddy in front of `upstream` (host:port), certificates from files."""
    binary = caddy_binary()
    certificate = self_signed(tmp_path / "certs")
    http_port, https_port, admin_port = free_port(), free_port(), free_port()
    env = dict(
        os.environ,
        PUBLIC_HOST=HOST,
        TLS_SOURCE="files",
        CERTS_DIR=str(certificate.parent),
        HTTP_PORT=str(http_port),
        HTTPS_PORT=str(https_port),
        BIND_ADDRESS="127.0.0.1",
        UPSTREAM=upstream,
        CADDY_ADMIN=f"localhost:{admin_port}",  # as the default localhost:2019
        # Caddy's own state (autosaved config, a local CA if it ever made one): not in ~.
        XDG_DATA_HOME=str(tmp_path / "caddy-data"),
        XDG_CONFIG_HOME=str(tmp_path / "caddy-config"),
    )
    log = tmp_path / "caddy.log"
    command = [binary, "run", "--config", str(CADDYFILE), "--adapter", "caddyfile"]
    with (
        log.open("wb") as out,
        running(
            command,
            # What the compose health check asks: the admin API answers once the config is loaded.
            ready_url=f"http://127.0.0.1:{admin_port}/config/",
            what="caddy",
            timeout=STARTUP_TIMEOUT,
            stop_timeout=10,
            log=log.read_text,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        ) as process,
    ):
        yield Front(process.pid, http_port, https_port, certificate)


@pytest.fixture
def gateway(app_database: str) -> Iterator[str]:
    """The gateway at http://127.0.0.1:PORT (trusting X-Forwarded-* from 127.0.0.1, uvicorn's
    default as FORWARDED_ALLOW_IPS's), with volunteer Lan and staff member Hùng."""
    with session_scope() as session:
        add_desk_and_report_logins(session=session, commune="00070", password=PASSWORD)
    with served(create_app(offline_settings(app_database))) as url:
        yield url


@pytest.fixture
def front(gateway: str, tmp_path: Path) -> Iterator[Front]:
    with caddy(gateway.removeprefix("http://"), tmp_path) as running:
        yield running


@pytest.fixture
def context(chromium: Browser, front: Front) -> Iterator[BrowserContext]:
    """A phone that trusts the self-signed certificate (as a browser trusts Let's Encrypt)."""
    made = chromium.new_context(**PHONE, ignore_https_errors=True)
    made.set_default_timeout(ACTION_TIMEOUT_MS)
    yield made
    made.close()


# The database plays no part in what is tested here: SQLite only.
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@sqlite_only
@pytest.mark.parametrize(
    ("path", "username", "name"),
    [("/desk", "lan", "Chị Lan"), ("/admin/reports", "hung", "Anh Hùng")],
    ids=["desk", "admin"],
)
def test_signing_in_over_https_sticks(
    front: Front, context: BrowserContext, path: str, username: str, name: str
) -> None:
    page = context.new_page()
    response = page.goto(f"{front.url}{path}")
    assert response is not None
    assert response.headers["strict-transport-security"] == "max-age=31536000"
    page.locator("#username").fill(username)
    page.locator("#password").fill(PASSWORD)
    page.locator("#login-form").get_by_role("button").click()
    expect(page.locator("#me-name")).to_have_text(name)
    page.reload()
    expect(page.locator("#me-name")).to_have_text(name)
    cookies = context.cookies(f"{front.url}{path}")  # scoped to the area's path
    assert cookies, "no session cookie"
    assert all(cookie["secure"] and cookie["httpOnly"] for cookie in cookies), cookies


@sqlite_only
def test_http_is_redirected_and_the_gateway_sees_https(front: Front, gateway: str) -> None:
    assert {address for address, _ in listening_of([front.pid])} == {"127.0.0.1"}
    with front.client() as client:
        plain = client.get(f"http://{HOST}:{front.http_port}/desk?x=1")
        assert plain.status_code in (301, 308), plain.text
        # Caddy names no port: it takes its https_port for the public one (443 in production).
        assert plain.headers["location"] == f"https://{HOST}/desk?x=1"

        # The web chat's cookie is Secure only when the gateway knows the page came over https.
        through_caddy = client.post(f"{front.url}/api/chat", json={"text": "xin chao"})
        assert through_caddy.headers["strict-transport-security"] == "max-age=31536000"
        assert "secure" in through_caddy.headers["set-cookie"].lower()
    direct = httpx.post(f"{gateway}/api/chat", json={"text": "xin chao"}, timeout=10)
    assert "secure" not in direct.headers["set-cookie"].lower()
