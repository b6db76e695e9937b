"""The action server (`python -m actions.server`) as its own process: it listens on
127.0.0.1 only, runs an action only for the caller with ACTIONS_TOKEN (Rasa), lets no web
page in (no CORS), keeps /health open, and refuses to start without its secret."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy.orm import Session

from cns.stack import free_port
from core.db import make_engine
from core.models import EventType
from core.repositories.events import list_events
from core.repositories.residents import get_resident
from core.settings import PROJECT_ROOT
from tests.databases import scratch_database
from tests.factories import press
from tests.listening import listening_of
from tests.serving import running

TOKEN = "actions-test-token"
STARTUP_TIMEOUT = 120.0
EVIL_ORIGIN = "http://evil.example"


@dataclass(frozen=True)
class ActionServer:
    url: str
    port: int
    pid: int
    database_url: str

    def consent_call(self, resident: str) -> str:
        """The body Rasa would POST to run `action_consent` with the answer "yes"."""
        tracker = press('/consent{"choice": "yes"}', sender_id=resident)
        body = {"next_action": "action_consent", "tracker": tracker.current_state(), "domain": {}}
        return json.dumps(body | {"version": "3.6.21"})

    def stored(self, resident: str) -> tuple[list[str], bool]:
        """(event types, whether a resident row exists) kept about `resident`."""
        engine = make_engine(self.database_url)
        try:
            with Session(engine) as session:
                types = [e.type for e in list_events(session=session, resident_id=resident)]
                exists = get_resident(session=session, resident_id=resident) is not None
        finally:
            engine.dispose()
        return types, exists


def _server_env(database_url: str, **extra: str) -> dict[str, str]:
    ours = ("ACTIONS_", "APP_ENV", "RASA_TOKEN", "PSEUDONYM_KEY")
    env = {k: v for k, v in os.environ.items() if not k.startswith(ours)}
    return env | {"DATABASE_URL": database_url, "LOG_LEVEL": "WARNING", **extra}


def _run_until_exit(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "actions.server"],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=STARTUP_TIMEOUT,
    )  # fmt: skip


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ActionServer]:
    tmp_path: Path = tmp_path_factory.mktemp("actions-server")
    with scratch_database("sqlite", tmp_path) as database_url:
        port = free_port()
        env = _server_env(database_url, ACTIONS_TOKEN=TOKEN, ACTIONS_PORT=str(port))
        url = f"http://127.0.0.1:{port}"
        command = [sys.executable, "-m", "actions.server"]
        with running(
            command, ready_url=f"{url}/health", what="the action server",
            timeout=STARTUP_TIMEOUT, cwd=PROJECT_ROOT, env=env,
        ) as process:  # fmt: skip
            yield ActionServer(url, port, process.pid, database_url)


def _post(server: ActionServer, body: str, **params: str) -> httpx.Response:
    headers = {"content-type": "text/plain", "origin": EVIL_ORIGIN}
    return httpx.post(
        f"{server.url}/webhook", content=body, params=params, headers=headers, timeout=30
    )


def test_webhook_without_the_token_runs_no_action(server: ActionServer) -> None:
    missing = _post(server, server.consent_call("no-token"))
    wrong = _post(server, server.consent_call("wrong-token"), token="guess")
    empty = _post(server, server.consent_call("empty-token"), token="")

    assert (missing.status_code, wrong.status_code, empty.status_code) == (401, 403, 401)
    assert missing.json() == {"error": "token required"}
    for resident in ("no-token", "wrong-token", "empty-token"):
        assert server.stored(resident) == ([], False), resident


def test_webhook_with_the_token_runs_the_action(server: ActionServer) -> None:
    response = _post(server, server.consent_call("with-token"), token=TOKEN)

    assert response.status_code == 200, response.text
    assert server.stored("with-token") == ([EventType.CONSENT_GIVEN], True)


def test_action_list_needs_the_token_and_health_does_not(server: ActionServer) -> None:
    assert httpx.get(f"{server.url}/actions", timeout=10).status_code == 401
    listed = httpx.get(f"{server.url}/actions", params={"token": TOKEN}, timeout=10)
    assert {"name": "action_consent"} in listed.json()
    assert httpx.get(f"{server.url}/health", timeout=10).json() == {"status": "ok"}


def test_no_web_page_may_call_it(server: ActionServer) -> None:
    preflight = httpx.options(
        f"{server.url}/webhook",
        headers={"origin": EVIL_ORIGIN, "access-control-request-method": "POST"},
        timeout=10,
    )
    responses: list[httpx.Response] = [
        preflight,
        _post(server, server.consent_call("cors-a")),
        _post(server, server.consent_call("cors-b"), token=TOKEN),
    ]
    for response in responses:
        allowed = [h for h in response.headers if h.lower().startswith("access-control-allow")]
        assert allowed == [], (response.request.method, response.headers)


def test_it_listens_on_loopback_only(server: ActionServer) -> None:
    assert listening_of([server.pid]) == {("127.0.0.1", server.port)}


def _refusal(tmp_path: Path, **env: str) -> str:
    with scratch_database("sqlite", tmp_path) as database_url:
        result = _run_until_exit(_server_env(database_url, ACTIONS_PORT=str(free_port()), **env))
    assert result.returncode != 0, result.stderr
    return result.stderr


def test_it_refuses_to_start_without_its_token(tmp_path: Path) -> None:
    assert "ACTIONS_TOKEN is not set" in _refusal(tmp_path)


def test_in_production_it_refuses_default_secrets_and_names_them(tmp_path: Path) -> None:
    stderr = _refusal(tmp_path, APP_ENV="production", ACTIONS_TOKEN=TOKEN)
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("Refusing to start (APP_ENV=production)"), stderr
    assert "PSEUDONYM_KEY" in last
    assert "RASA_TOKEN" in last
    assert "ACTIONS_TOKEN" not in last
