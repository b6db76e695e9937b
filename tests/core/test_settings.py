"""The settings object reads every variable from the environment."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from core.settings import (
    DEVELOPMENT_PSEUDONYM_KEY,
    PROJECT_ROOT,
    Settings,
    UnsafeSettings,
    check_secrets,
)


def test_defaults_run_on_one_laptop(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DATABASE_URL", "REDIS_URL", "RASA_URL", "ACTIONS_URL"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings(_env_file=None)
    assert settings.is_sqlite
    assert settings.redis_url is None
    assert settings.rasa_url == "http://127.0.0.1:5005"
    assert settings.actions_url == "http://127.0.0.1:5055"


def test_postgres_urls_use_psycopg(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:p@db:5432/cns")
    monkeypatch.setenv("RASA_URL", "http://rasa:5005/")
    settings = Settings(_env_file=None)
    assert settings.database_url == "postgresql+psycopg://u:p@db:5432/cns"
    assert settings.rasa_url == "http://rasa:5005"
    assert not settings.is_sqlite


def test_secrets_are_not_printed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:secret-token")
    settings = Settings(_env_file=None)
    assert "secret-token" not in repr(settings)
    assert settings.telegram_bot_token is not None
    assert settings.telegram_bot_token.get_secret_value() == "123:secret-token"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DESK_HOURS", "7h-17h"),
        ("TELEGRAM_MODE", "push"),
        ("RETENTION_DAYS", "0"),
        ("APP_ENV", "prod"),
        ("ACTIONS_PORT", "0"),
    ],
)
def test_bad_values_are_rejected(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        Settings(_env_file=None)


SAFE = {"pseudonym_key": "k" * 32, "rasa_token": "rasa-secret", "actions_token": "actions-secret"}


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No secret or channel setting comes from the environment of the test run."""
    for name in Settings.model_fields:
        if name.startswith(("telegram_", "zalo_", "pseudonym_", "app_")) or "token" in name:
            monkeypatch.delenv(name.upper(), raising=False)


def _settings(**values: str) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


@pytest.mark.usefixtures("clean_env")
def test_development_warns_once_naming_the_defaults_in_use() -> None:
    warning = check_secrets(_settings())
    assert warning is not None
    assert "\n" not in warning
    for name in ("PSEUDONYM_KEY", "RASA_TOKEN", "ACTIONS_TOKEN"):
        assert name in warning
    assert check_secrets(_settings(**SAFE)) is None


CHECKED = (
    "PSEUDONYM_KEY", "RASA_TOKEN", "ACTIONS_TOKEN", "TELEGRAM_WEBHOOK_SECRET",
    "ZALO_APP_ID", "ZALO_APP_SECRET", "ZALO_OA_SECRET_KEY",
)  # fmt: skip


def _refusal(settings: Settings) -> set[str]:
    """The checked variables a refusal names."""
    with pytest.raises(UnsafeSettings) as refused:
        check_secrets(settings)
    message = str(refused.value)
    assert message.startswith(f"Refusing to start (APP_ENV={settings.app_env})"), message
    assert "\n" not in message
    return {name for name in CHECKED if name in message}


@pytest.mark.usefixtures("clean_env")
def test_production_with_nothing_set_names_every_default() -> None:
    named = _refusal(_settings(app_env="production"))
    assert named == {"PSEUDONYM_KEY", "RASA_TOKEN", "ACTIONS_TOKEN"}


@pytest.mark.usefixtures("clean_env")
@pytest.mark.parametrize(
    ("unsafe", "named"),
    [
        ({"pseudonym_key": DEVELOPMENT_PSEUDONYM_KEY}, {"PSEUDONYM_KEY"}),
        ({"pseudonym_key": "   "}, {"PSEUDONYM_KEY"}),
        ({"rasa_token": ""}, {"RASA_TOKEN"}),
        ({"actions_token": " "}, {"ACTIONS_TOKEN"}),
        ({"zalo_app_id": "123"}, {"ZALO_APP_SECRET", "ZALO_OA_SECRET_KEY"}),
        ({"zalo_refresh_token": "r"}, {"ZALO_APP_ID", "ZALO_APP_SECRET", "ZALO_OA_SECRET_KEY"}),
    ],
)
def test_production_refuses_each_default_or_empty_secret(
    unsafe: dict[str, str], named: set[str]
) -> None:
    assert _refusal(_settings(app_env="production", **SAFE | unsafe)) == named
    warning = check_secrets(_settings(app_env="development", **SAFE | unsafe))
    assert warning is not None
    assert {name for name in CHECKED if name in warning} == named


@pytest.mark.usefixtures("clean_env")
def test_production_with_every_secret_set_starts() -> None:
    zalo = {"zalo_app_id": "1", "zalo_app_secret": "s", "zalo_oa_secret_key": "o"}
    assert check_secrets(_settings(app_env="production", **SAFE, **zalo)) is None


@pytest.mark.usefixtures("clean_env")
@pytest.mark.parametrize("app_env", ["development", "production"])
def test_telegram_webhook_without_its_secret_is_always_refused(app_env: str) -> None:
    webhook = {"telegram_bot_token": "1:t", "telegram_mode": "webhook"}
    url = {"telegram_webhook_url": "https://bot.example/webhooks/telegram"}
    settings = _settings(app_env=app_env, **SAFE, **webhook, **url)
    assert _refusal(settings) == {"TELEGRAM_WEBHOOK_SECRET"}
    with pytest.raises(UnsafeSettings, match="TELEGRAM_WEBHOOK_URL"):
        check_secrets(_settings(app_env=app_env, **SAFE, **webhook, telegram_webhook_secret="s"))
    secret = {"telegram_webhook_secret": "s"}
    assert check_secrets(_settings(app_env=app_env, **SAFE, **webhook, **url, **secret)) is None


COMPOSE_ONLY = {
    "POSTGRES_USER",
    "POSTGRES_PASSWORD",
    "POSTGRES_DB",
    "RASA_TRACKER_DB",
    "REDIS_PASSWORD",
    "PUBLIC_HOST",
    "TLS_SOURCE",
    "ACME_EMAIL",
}


def _example_names() -> list[str]:
    lines = (PROJECT_ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
    return [line.split("=", 1)[0] for line in lines if line and not line.startswith("#")]


def test_env_example_lists_every_setting_and_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    names = _example_names()
    settings_names = {name.upper() for name in Settings.model_fields}
    assert len(names) == len(set(names))
    assert set(names) - settings_names == COMPOSE_ONLY
    assert settings_names <= set(names)
    settings = Settings(_env_file=PROJECT_ROOT / ".env.example")
    assert settings.is_sqlite  # empty values fall back to the defaults


def test_readme_documents_every_setting() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    missing = [name for name in _example_names() if f"`{name}`" not in readme]
    assert missing == []
