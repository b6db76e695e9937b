"""`python -m bot`: it checks its settings before it serves (unsafe ones stop it with a message
naming each variable, core.settings.check_secrets), and uvicorn believes `X-Forwarded-For` only
from FORWARDED_ALLOW_IPS: behind a trusted proxy each client has its own sign-in limits; anyone
else writing the header is still counted at their own address."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
import uvicorn

from bot.__main__ import server_config
from cns.stack import free_port
from core.db import session_scope
from core.repositories.staff import add_staff
from core.settings import PROJECT_ROOT
from tests.databases import forget_database_caches
from tests.factories import offline_settings

CHECKED_PREFIXES = ("APP_ENV", "RASA_TOKEN", "ACTIONS_", "PSEUDONYM_KEY", "TELEGRAM_", "ZALO_")


def _gateway(**env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(CHECKED_PREFIXES)}
    return subprocess.run(
        [sys.executable, "-m", "bot"],
        cwd=PROJECT_ROOT,
        env=base | {"GATEWAY_PORT": str(free_port()), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_gateway_refuses_default_secrets_naming_each() -> None:
    result = _gateway(APP_ENV="production", RASA_TOKEN="r")
    assert result.returncode == 1
    refusal = result.stderr.strip().splitlines()[-1]
    assert refusal.startswith("Refusing to start (APP_ENV=production)"), result.stderr
    assert "PSEUDONYM_KEY" in refusal
    assert "ACTIONS_TOKEN" in refusal
    assert "RASA_TOKEN" not in refusal


def test_a_deaf_telegram_webhook_is_refused_in_development_too() -> None:
    result = _gateway(
        TELEGRAM_BOT_TOKEN="1:t",
        TELEGRAM_MODE="webhook",
        TELEGRAM_WEBHOOK_URL="https://bot.example/webhooks/telegram",
    )
    assert result.returncode == 1
    refusal = result.stderr.strip().splitlines()[-1]
    assert refusal.startswith("Refusing to start (APP_ENV=development)"), result.stderr
    assert "TELEGRAM_WEBHOOK_SECRET" in refusal


PASSWORD = "mat-khau-rat-dai-1"


@contextmanager
def serving(config: uvicorn.Config) -> Iterator[str]:
    """uvicorn serving `config` on a thread of this process; its base URL."""
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert thread.is_alive(), "the gateway did not start"
        assert time.monotonic() < deadline, "the gateway did not start in time"
        time.sleep(0.05)
    try:
        yield f"http://{config.host}:{config.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(("proxy", "own_limits"), [("127.0.0.1", True), ("192.0.2.1", False)])
def test_forwarded_addresses_are_believed_from_a_trusted_proxy_only(
    app_database: str, monkeypatch: pytest.MonkeyPatch, proxy: str, own_limits: bool
) -> None:
    with session_scope() as session:
        add_staff(
            session=session, username="lan", display_name="Chị Lan", password=PASSWORD,
            commune_code="00004",
        )  # fmt: skip
    # The app (`bot.app:create_app`) reads the environment; uvicorn gets the settings object.
    nobody = f"http://127.0.0.1:{free_port()}"
    for name in ("FORWARDED_ALLOW_IPS", "REDIS_URL", "TELEGRAM_BOT_TOKEN", "ZALO_APP_ID"):
        monkeypatch.delenv(name, raising=False)  # uvicorn itself would read FORWARDED_ALLOW_IPS
    for name in ("RASA_URL", "ACTIONS_URL"):
        monkeypatch.setenv(name, nobody)
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
    forget_database_caches()
    settings = offline_settings(
        app_database, forwarded_allow_ips=proxy, gateway_port=free_port(), log_level="WARNING"
    )  # the test connects from 127.0.0.1

    def login(password: str, address: str) -> int:
        response = httpx.post(
            f"{url}/admin/api/login",
            json={"username": "lan", "password": password},
            headers={"X-Forwarded-For": address},
            timeout=30,
        )
        return response.status_code

    with serving(server_config(settings)) as url:
        assert [login("mat-khau-sai-het", "203.0.113.66") for _ in range(5)] == [401] * 5
        assert login(PASSWORD, "198.51.100.7") == (200 if own_limits else 429)
