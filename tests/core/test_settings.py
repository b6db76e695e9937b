"""The settings object reads every variable from the environment."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from core.settings import PROJECT_ROOT, Settings


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
    [("DESK_HOURS", "7h-17h"), ("TELEGRAM_MODE", "push"), ("RETENTION_DAYS", "0")],
)
def test_bad_values_are_rejected(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        Settings(_env_file=None)


COMPOSE_ONLY = {
    "POSTGRES_USER",
    "POSTGRES_PASSWORD",
    "POSTGRES_DB",
    "RASA_TRACKER_DB",
    "REDIS_PASSWORD",
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
