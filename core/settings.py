"""The one settings object: every environment variable the product reads.

All variables are documented in `.env.example` and the README. Values come from the
process environment first, then from a `.env` file in the working directory.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
VAR_DIR = PROJECT_ROOT / "var"
DEVELOPMENT_PSEUDONYM_KEY = "dev-only-pseudonym-key-change-me"


def normalise_database_url(url: str) -> str:
    """Use the psycopg 3 driver for PostgreSQL URLs written the usual way."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class Settings(BaseSettings):
    """Configuration of the gateway, the action server, the reports and the `cns` tool."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", env_ignore_empty=True)

    database_url: str = Field(default=f"sqlite:///{VAR_DIR / 'cns.sqlite3'}")
    redis_url: str | None = None
    rasa_tracker_database_url: str | None = None
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_token: SecretStr | None = None
    actions_url: str = "http://127.0.0.1:5055"
    gateway_host: str = "127.0.0.1"
    gateway_port: int = 8000
    # Proxies whose X-Forwarded-For / X-Forwarded-Proto the gateway believes (comma-separated
    # addresses or networks, "*" for any): the client address of every other connection is
    # its own, so login limits per address cannot be dodged by writing the header.
    forwarded_allow_ips: str = "127.0.0.1"

    telegram_bot_token: SecretStr | None = None
    telegram_mode: Literal["polling", "webhook"] = "polling"
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: SecretStr | None = None
    telegram_api_base_url: str = "https://api.telegram.org"
    telegram_desk_chat_id: int | None = None

    zalo_app_id: str | None = None
    zalo_app_secret: SecretStr | None = None
    zalo_oa_secret_key: SecretStr | None = None
    zalo_access_token: SecretStr | None = None
    zalo_refresh_token: SecretStr | None = None
    zalo_api_base_url: str = "https://openapi.zalo.me"
    zalo_oauth_base_url: str = "https://oauth.zaloapp.com"
    # Hosts (and their subdomains) a resident's Zalo photo may be fetched from, comma-separated.
    zalo_media_hosts: str = "zdn.vn,zadn.vn"
    # Start the OCR workers (core.screens) with the gateway rather than at the first photo.
    screens_warm_start: bool = True

    pseudonym_key: SecretStr = SecretStr(DEVELOPMENT_PSEUDONYM_KEY)
    retention_days: int = Field(default=90, ge=1)
    desk_sla_minutes: int = Field(default=30, ge=1)
    desk_hours: str = Field(default="07:30-17:00", pattern=r"^\d{2}:\d{2}-\d{2}:\d{2}$")
    desk_expire_hours: int = Field(default=24, ge=1)

    chat_rate_limit_per_minute: int = Field(default=30, ge=1)
    # Web chat: one client address (a household, a commune office) may carry many residents;
    # new identities per address are limited so that rotating them cannot bypass the limits.
    chat_rate_limit_per_address_per_minute: int = Field(default=300, ge=1)
    chat_new_residents_per_address_per_hour: int = Field(default=60, ge=1)
    # At most this many new handoff tickets per commune per window; beyond, "busy, try later".
    desk_new_tickets_per_commune: int = Field(default=20, ge=1)
    desk_new_tickets_window_minutes: int = Field(default=60, ge=1)
    # Announcements: a second staff member approves before one goes (false: the author may).
    announcement_approval: bool = True
    log_level: str = "INFO"

    # Closed doors (issue 13): where the action server listens, the secret Rasa sends it, and
    # whether default or empty secrets are refused (production) or only warned about.
    app_env: Literal["development", "production"] = "development"
    actions_token: SecretStr | None = None
    actions_host: str = "127.0.0.1"
    actions_port: int = Field(default=5055, ge=1, le=65535)

    @field_validator("database_url", "rasa_tracker_database_url")
    @classmethod
    def _psycopg_driver(cls, value: str | None) -> str | None:
        return normalise_database_url(value) if value else value

    @field_validator(
        "rasa_url",
        "actions_url",
        "telegram_api_base_url",
        "zalo_api_base_url",
        "zalo_oauth_base_url",
    )
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


class UnsafeSettings(Exception):
    """Settings no serving process may start with; the message names every variable."""


def _text(value: SecretStr | str | None) -> str:
    raw = value.get_secret_value() if isinstance(value, SecretStr) else value
    return (raw or "").strip()


def _never_served(settings: Settings) -> list[str]:
    """What would leave a channel silently deaf, in any environment."""
    if settings.telegram_bot_token is None or settings.telegram_mode != "webhook":
        return []
    problems = []
    if not _text(settings.telegram_webhook_secret):
        problems.append(
            "TELEGRAM_WEBHOOK_SECRET (TELEGRAM_MODE=webhook needs it, "
            "or every update from Telegram is refused)"
        )
    if not _text(settings.telegram_webhook_url):
        problems.append("TELEGRAM_WEBHOOK_URL (TELEGRAM_MODE=webhook needs it)")
    return problems


def _development_defaults(settings: Settings) -> list[str]:
    """Secrets left at a default or empty: refused in production, a warning in development."""
    problems = []
    if _text(settings.pseudonym_key) in ("", DEVELOPMENT_PSEUDONYM_KEY):
        problems.append("PSEUDONYM_KEY (the development key)")
    for name, token in (
        ("RASA_TOKEN", settings.rasa_token),
        ("ACTIONS_TOKEN", settings.actions_token),
    ):
        if not _text(token):
            problems.append(f"{name} (empty)")
    zalo_keys = {
        "ZALO_APP_ID": settings.zalo_app_id,
        "ZALO_APP_SECRET": settings.zalo_app_secret,
        "ZALO_OA_SECRET_KEY": settings.zalo_oa_secret_key,
    }
    zalo_tokens = (settings.zalo_access_token, settings.zalo_refresh_token)
    if any(_text(value) for value in (*zalo_keys.values(), *zalo_tokens)):
        problems += [
            f"{name} (Zalo is configured without it)"
            for name, value in zalo_keys.items()
            if not _text(value)
        ]
    return problems


def check_secrets(settings: Settings) -> str | None:
    """Refuse to serve with unsafe settings, or say which development defaults are in use.

    Raises `UnsafeSettings` naming every offending variable: TELEGRAM_MODE=webhook without its
    secret or URL always; in production (APP_ENV=production) also a default or empty
    PSEUDONYM_KEY, RASA_TOKEN or ACTIONS_TOKEN and Zalo without its keys. In development those
    come back as one warning line (None when there is nothing to say).
    """
    defaults = _development_defaults(settings)
    refused = _never_served(settings) + (defaults if settings.app_env == "production" else [])
    if refused:
        raise UnsafeSettings(
            f"Refusing to start (APP_ENV={settings.app_env}); set: " + "; ".join(refused) + "."
        )
    if defaults:
        return "Development settings in use, never for production: " + "; ".join(defaults) + "."
    return None


def refuse_unsafe(settings: Settings, log: logging.Logger) -> None:
    """`check_secrets` at the start of a serving process: exit with the refusal, or log the
    development warning."""
    try:
        warning = check_secrets(settings)
    except UnsafeSettings as exc:
        raise SystemExit(str(exc)) from None
    if warning:
        log.warning(warning)


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
