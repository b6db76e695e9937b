"""The start-up line of the gateway and the action server: every setting named, no secret
value, no URL password, no personal number."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from pydantic import SecretStr

from core.logging import (
    COMPOSE_IGNORED_VARIABLE,
    describe_settings,
    ignored_by_compose,
    is_secret_setting,
    shown_value,
)
from core.settings import Settings

SECRET_FIELDS = [name for name in Settings.model_fields if is_secret_setting(name)]


def _settings(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)


def test_every_setting_is_named() -> None:
    line = describe_settings(_settings())
    assert "\n" not in line
    for name in Settings.model_fields:
        assert name.upper() in line, name


def test_url_passwords_are_masked() -> None:
    line = describe_settings(
        _settings(
            database_url="postgresql://cns:pgPass1234@postgres:5432/cns",
            redis_url="redis://:redisPass99@redis:6379/0",
        )
    )
    assert "DATABASE_URL=postgresql+psycopg://cns:***@postgres:5432/cns" in line
    assert "REDIS_URL=redis://:***@redis:6379/0" in line
    assert "pgPass1234" not in line
    assert "redisPass99" not in line


def test_secrets_are_named_set_or_unset() -> None:
    line = describe_settings(_settings(rasa_token=SecretStr("tok-en-value"), actions_token=None))
    assert "secrets set: RASA_TOKEN, PSEUDONYM_KEY;" in line
    assert "secrets unset: TELEGRAM_BOT_TOKEN," in line
    assert "ACTIONS_TOKEN" in line
    assert "tok-en-value" not in line
    assert shown_value("RASA_TOKEN", "tok-en-value") == "***"
    assert shown_value("REDIS_URL", None) == "unset"


def test_personal_numbers_are_masked_but_addresses_stay() -> None:
    line = describe_settings(
        _settings(
            telegram_webhook_url="https://hotro.example/0912345678",
            forwarded_allow_ips="127.0.0.1,10.0.0.0/8",
        )
    )
    assert "0912345678" not in line
    assert "FORWARDED_ALLOW_IPS=127.0.0.1,10.0.0.0/8" in line
    assert "GATEWAY_HOST=127.0.0.1" in line


@given(
    secrets=st.fixed_dictionaries(
        {name: st.text(min_size=1).filter(str.strip) for name in SECRET_FIELDS}
    ),
    password=st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=8),
)
@example(secrets=dict.fromkeys(SECRET_FIELDS, "none"), password="abcdefgh")  # found by Hypothesis
def test_no_secret_value_ever_appears(secrets: dict[str, str], password: str) -> None:
    settings = _settings(
        **{name: SecretStr(value) for name, value in secrets.items()},
        redis_url=f"redis://:{password}@redis:6379/0",
    )
    line = describe_settings(settings)
    # A short value can occur in the line by chance (e.g. "A" in a variable name, "none" of
    # "secrets unset: none"): only those found nowhere in the same line with other secret
    # values are meaningful.
    same_shape = describe_settings(
        _settings(
            **{name: SecretStr("\x00") for name in secrets},
            redis_url="redis://:x@redis:6379/0",
        )
    )
    for value in secrets.values():
        if value not in same_shape:
            assert value not in line
    assert f":{password}@" not in line


@pytest.mark.parametrize("module", ["bot.__main__", "actions.server"])
def test_serving_processes_log_their_settings_at_start(
    module: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    imported = __import__(module, fromlist=["main"])
    monkeypatch.setattr(imported, "get_settings", lambda: _settings(actions_token="act-token"))
    monkeypatch.setattr(imported, "configure_logging", lambda *_a, **_k: None)
    stop = SystemExit("stop before serving")

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise stop

    target = "uvicorn.Server.run" if module == "bot.__main__" else "sanic.Sanic.run"
    monkeypatch.setattr(target, refuse)
    with caplog.at_level(logging.INFO), pytest.raises(SystemExit):
        imported.main()
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Settings: ")]
    assert len(lines) == 1
    assert "act-token" not in lines[0]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert not [line for line in warnings if line.startswith("docker compose")]


# What docker-compose.yml hands the app containers when .env sets settings it fixes.
DECLARED_IN_ENV_FILE = (
    "APP_ENV=development\n"
    "DATABASE_URL=postgresql+psycopg://me:s3cretpass@db.example:5432/cns\n"
    "RASA_URL=\n"
    "GATEWAY_PORT=8000\n"
    "NOT_A_SETTING=1\n"
)


def test_settings_compose_ignores_are_named_with_both_values() -> None:
    settings = _settings(
        app_env="production",
        database_url="postgresql+psycopg://cns:other@postgres:5432/cns",
        gateway_port=8000,
    )
    warning = ignored_by_compose(settings, DECLARED_IN_ENV_FILE)
    assert warning is not None
    assert warning.startswith("docker compose (docker-compose.yml) sets these itself")
    assert "APP_ENV=development (using production)" in warning
    assert "DATABASE_URL=postgresql+psycopg://me:***@db.example:5432/cns (using " in warning
    assert "s3cretpass" not in warning
    assert ":other@" not in warning
    # Blank (unset in .env), equal values and unknown names are not named.
    assert "RASA_URL" not in warning
    assert "GATEWAY_PORT" not in warning
    assert "NOT_A_SETTING" not in warning
    assert ignored_by_compose(settings, None) is None
    assert ignored_by_compose(settings, "RASA_URL=\nGATEWAY_PORT=8000\n") is None


def test_serving_processes_warn_about_what_compose_ignored(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import bot.__main__ as gateway

    monkeypatch.setenv(COMPOSE_IGNORED_VARIABLE, "RASA_URL=http://rasa.elsewhere:5005\n")
    monkeypatch.setattr(gateway, "get_settings", lambda: _settings(rasa_url="http://proxy:5005"))
    monkeypatch.setattr(gateway, "configure_logging", lambda *_a, **_k: None)

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise SystemExit("stop before serving")

    monkeypatch.setattr("uvicorn.Server.run", refuse)
    with caplog.at_level(logging.INFO), pytest.raises(SystemExit):
        gateway.main()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert [line for line in warnings if "RASA_URL=http://rasa.elsewhere:5005" in line] == [
        "docker compose (docker-compose.yml) sets these itself and ignores your values: "
        "RASA_URL=http://rasa.elsewhere:5005 (using http://proxy:5005)."
    ]
