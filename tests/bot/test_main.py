"""`python -m bot` checks its settings before it serves: unsafe ones stop it with a message
naming each variable (core.settings.check_secrets)."""

from __future__ import annotations

import os
import subprocess
import sys

from cns.stack import free_port
from core.settings import PROJECT_ROOT

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
