"""`cns forget`: staff erase one resident, in our database and in Rasa's conversation store."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from click.testing import CliRunner

from cns.main import cli
from cns.stack import free_port
from core import db
from core.settings import get_settings
from tests.stack import PSEUDONYM_KEY, RunningStack


@pytest.fixture
def settings_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    monkeypatch.setenv("PSEUDONYM_KEY", PSEUDONYM_KEY)
    yield monkeypatch
    get_settings.cache_clear()
    db.get_engine.cache_clear()
    db._session_factory.cache_clear()


def _use(
    monkeypatch: pytest.MonkeyPatch, database_url: str, rasa_url: str, rasa_token: str = ""
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("RASA_URL", rasa_url)
    monkeypatch.setenv("RASA_TOKEN", rasa_token)
    get_settings.cache_clear()
    db.get_engine.cache_clear()
    db._session_factory.cache_clear()


@pytest.mark.e2e
def test_forget_by_channel_account_erases_profile_and_conversation(
    stack: RunningStack, settings_env: pytest.MonkeyPatch
) -> None:
    stack.chat("forget-me", "tôi ở phường Ba Đình, Hà Nội")
    stack.chat("forget-me", "kich hoat vneid")
    assert stack.event_rows("forget-me")
    _use(settings_env, stack.database_url, stack.rasa_url, stack.rasa_token)

    result = CliRunner().invoke(
        cli,
        ["forget", "--resident", stack.channel_user_id("forget-me"), "--channel", "web", "--yes"],
    )

    assert result.exit_code == 0, result.output
    assert "profile deleted, 1 progress rows deleted" in result.output
    assert "Rasa's copy of the conversation is erased." in result.output
    assert stack.event_rows("forget-me") == []
    tracker = stack.tracker("forget-me")
    assert [e for e in tracker["events"] if e["event"] in ("user", "bot")] == []


def test_forget_with_rasa_down_erases_our_data_and_says_to_run_again(
    app_database: str, settings_env: pytest.MonkeyPatch
) -> None:
    _use(settings_env, app_database, f"http://127.0.0.1:{free_port()}")
    result = CliRunner().invoke(cli, ["forget", "--resident", "abc123", "--yes"])
    assert result.exit_code == 1
    assert "Erased: profile not found, 0 progress rows deleted, 0 events unlinked." in result.output
    assert "Rasa did not answer" in result.output


def test_forget_asks_before_erasing(app_database: str, settings_env: pytest.MonkeyPatch) -> None:
    result = CliRunner().invoke(cli, ["forget", "--resident", "abc123"], input="n\n")
    assert result.exit_code == 1
    assert "Erase everything kept about resident abc123?" in result.output
    assert "Erased" not in result.output
