"""The one settings object: every environment variable the product reads.

All variables are documented in `.env.example` and the README. Values come from the
process environment first, then from a `.env` file in the working directory.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
VAR_DIR = PROJECT_ROOT / "var"


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

    pseudonym_key: SecretStr = SecretStr("dev-only-pseudonym-key-change-me")
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
    log_level: str = "INFO"

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


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
