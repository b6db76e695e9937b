"""How `cns run` wires the local stack: Rasa and the action server always with a token, the
tokens never on a command line, every process on 127.0.0.1, no start with unsafe settings, and
a warning naming each setting it replaces."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from cns import main as cns_main
from cns.main import cli
from cns.stack import (
    LOCAL_TOKENS_FILE,
    Ports,
    local_services,
    local_tokens,
    overridden_settings,
    stack_settings,
    stack_tokens,
)
from core.settings import PROJECT_ROOT, Settings, get_settings

MODEL = PROJECT_ROOT / "models" / "some.tar.gz"
PORTS = Ports(rasa=15005, actions=15055, gateway=18000)


def test_every_process_gets_both_tokens_made_up_when_not_given() -> None:
    first = local_services(PROJECT_ROOT, MODEL, PORTS, env={})
    second = local_services(PROJECT_ROOT, MODEL, PORTS, env={})
    for name in ("RASA_TOKEN", "ACTIONS_TOKEN"):
        values = {service.env[name] for service in first}
        assert len(values) == 1, name
        (token,) = values
        assert len(token) >= 32
        assert second[0].env[name] != token, "a new stack gets new tokens"
    assert first[0].env["RASA_TOKEN"] != first[0].env["ACTIONS_TOKEN"]


def test_given_tokens_are_used_and_never_on_a_command_line() -> None:
    env = {"ACTIONS_TOKEN": "from-env-actions"}
    services = local_services(PROJECT_ROOT, MODEL, PORTS, env=env, rasa_token="given-rasa")
    for service in services:
        assert service.env["RASA_TOKEN"] == "given-rasa"
        assert service.env["ACTIONS_TOKEN"] == "from-env-actions"
        command_line = " ".join(service.argv)
        assert "given-rasa" not in command_line, service.name
        assert "from-env-actions" not in command_line, service.name


def test_processes_listen_on_loopback_and_rasa_allows_no_cross_origin_caller() -> None:
    rasa, actions, gateway = local_services(PROJECT_ROOT, MODEL, PORTS, env={})
    assert rasa.argv[rasa.argv.index("--interface") + 1] == "127.0.0.1"
    assert rasa.argv[rasa.argv.index("--port") + 1] == "15005"
    assert "--enable-api" in rasa.argv
    assert "--cors" not in rasa.argv
    assert list(actions.argv[1:]) == ["-m", "actions.server"]
    assert (actions.env["ACTIONS_HOST"], actions.env["ACTIONS_PORT"]) == ("127.0.0.1", "15055")
    assert (gateway.env["GATEWAY_HOST"], gateway.env["GATEWAY_PORT"]) == ("127.0.0.1", "18000")


def test_local_tokens_are_made_once_and_readable_by_their_owner_only(tmp_path: Path) -> None:
    tokens = local_tokens(tmp_path / "var")
    path = tmp_path / "var" / LOCAL_TOKENS_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert local_tokens(tmp_path / "var") == tokens
    assert set(tokens) == {"RASA_TOKEN", "ACTIONS_TOKEN"}
    path.write_text("not json", encoding="utf-8")
    remade = local_tokens(tmp_path / "var")
    assert remade != tokens
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_configured_tokens_win_and_production_makes_none_up(tmp_path: Path) -> None:
    configured = {"_env_file": None, "rasa_token": "configured"}
    development = Settings(app_env="development", **configured)  # type: ignore[arg-type]
    tokens = stack_tokens(development, tmp_path)
    assert tokens["RASA_TOKEN"] == "configured"
    assert tokens["ACTIONS_TOKEN"] == local_tokens(tmp_path)["ACTIONS_TOKEN"]
    production = Settings(app_env="production", **configured)  # type: ignore[arg-type]
    assert stack_tokens(production, tmp_path) == {"RASA_TOKEN": "configured"}


def test_cns_run_in_production_refuses_default_secrets_before_anything_starts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("RASA_TOKEN", "ACTIONS_TOKEN", "PSEUDONYM_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("APP_ENV", "production")
    started: list[str] = []
    monkeypatch.setattr(cns_main, "ensure_model", lambda **_: started.append("train"))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["run"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2, result.output
    assert "Refusing to start (APP_ENV=production)" in result.output
    for name in ("PSEUDONYM_KEY", "RASA_TOKEN", "ACTIONS_TOKEN"):
        assert name in result.output
    assert started == []


def test_settings_cns_run_replaces_are_named_with_both_values(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RASA_URL", "http://rasa.example:5005/")
    monkeypatch.setenv("GATEWAY_HOST", "0.0.0.0")
    monkeypatch.setenv("ACTIONS_URL", PORTS.url(PORTS.actions))  # the same value: no warning
    warning = overridden_settings(Settings(_env_file=None), PORTS)
    assert warning is not None
    assert "\n" not in warning
    assert "RASA_URL=http://rasa.example:5005 (using http://127.0.0.1:15005)" in warning
    assert "GATEWAY_HOST=0.0.0.0 (using 127.0.0.1)" in warning
    assert "ACTIONS_URL" not in warning
    # What the warning names is what every process gets.
    for service in local_services(PROJECT_ROOT, MODEL, PORTS, env={"RASA_URL": "http://x:1"}):
        assert service.env["RASA_URL"] == stack_settings(PORTS)["RASA_URL"], service.name


def test_no_warning_when_nothing_is_replaced(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in stack_settings(PORTS):
        monkeypatch.delenv(name, raising=False)
    assert overridden_settings(Settings(_env_file=None), PORTS) is None


def test_a_replaced_url_is_shown_without_its_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RASA_URL", "http://user:hunter2pass@rasa.example:5005")
    warning = overridden_settings(Settings(_env_file=None), PORTS)
    assert warning is not None
    assert "hunter2pass" not in warning
    assert "RASA_URL=http://user:***@rasa.example:5005" in warning
