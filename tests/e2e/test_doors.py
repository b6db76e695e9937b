"""The running local stack keeps its doors closed: only the three ports it needs, all on
127.0.0.1; Rasa's HTTP API and the action server answer only with their tokens, and neither
lets a web page in (no CORS allow-origin); no token shows on a command line."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.listening import listening_of
from tests.stack import RunningStack

pytestmark = pytest.mark.e2e

EVIL = {"origin": "http://evil.example"}


def _environ(pid: int) -> dict[str, str]:
    raw = (Path("/proc") / str(pid) / "environ").read_bytes()
    pairs = (item.decode(errors="replace").partition("=") for item in raw.split(b"\0") if item)
    return {key: value for key, _, value in pairs}


def _stack_processes(stack: RunningStack) -> dict[int, dict[str, str]]:
    """pid → environment of every process of the stack (and their children): those whose
    environment points at this stack's Rasa."""
    found: dict[int, dict[str, str]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = _environ(int(entry.name))
        except OSError:
            continue  # another user's process, or gone
        if environ.get("RASA_URL") == stack.rasa_url:
            found[int(entry.name)] = environ
    return found


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def _allow_headers(response: httpx.Response) -> list[str]:
    return [name for name in response.headers if name.lower().startswith("access-control-allow")]


def test_only_the_three_ports_listen_and_only_on_loopback(stack: RunningStack) -> None:
    processes = _stack_processes(stack)
    assert len(processes) >= 3, processes.keys()
    actions_url = {env["ACTIONS_URL"] for env in processes.values()}
    assert len(actions_url) == 1

    listening = listening_of(processes)

    expected = {_port(stack.url), _port(stack.rasa_url), _port(actions_url.pop())}
    assert listening == {("127.0.0.1", port) for port in expected}


def test_no_token_is_on_a_command_line(stack: RunningStack) -> None:
    for pid, environ in _stack_processes(stack).items():
        command_line = (Path("/proc") / str(pid) / "cmdline").read_bytes().decode(errors="replace")
        for name in ("RASA_TOKEN", "ACTIONS_TOKEN"):
            assert environ[name] not in command_line, (pid, name)


def test_rasa_api_answers_only_with_its_token_and_no_web_page(stack: RunningStack) -> None:
    tracker = f"{stack.rasa_url}/conversations/doors-test/tracker"
    assert httpx.get(tracker, timeout=30).status_code == 401
    assert httpx.get(tracker, params={"token": "guess"}, timeout=30).status_code == 401
    # A web page's "simple" request (text/plain: no preflight) that would change a conversation.
    forged = httpx.post(
        f"{stack.rasa_url}/conversations/doors-test/trigger_intent",
        content='{"name": "delete_my_data"}',
        headers=EVIL | {"content-type": "text/plain"},
        timeout=30,
    )
    preflight = httpx.options(
        f"{stack.rasa_url}/conversations/doors-test/tracker/events",
        headers=EVIL | {"access-control-request-method": "PUT"},
        timeout=30,
    )
    allowed = httpx.get(tracker, params={"token": stack.rasa_token}, headers=EVIL, timeout=30)

    assert forged.status_code == 401
    assert allowed.status_code == 200
    for response in (forged, preflight, allowed):
        assert _allow_headers(response) == [], response.headers


def test_rasa_takes_turns_only_with_its_token(stack: RunningStack) -> None:
    turn = {"sender": "doors-test", "message": "xin chào", "metadata": {}}
    url = f"{stack.rasa_url}/webhooks/turn/webhook"
    for headers in ({}, {"Authorization": "Bearer guess"}):
        assert httpx.post(url, json=turn, headers=headers, timeout=30).status_code == 401
    in_url = httpx.post(url, json=turn, params={"token": stack.rasa_token}, timeout=30)
    assert in_url.status_code == 401  # never in the URL: a failing request's URL is logged
    rest = httpx.post(f"{stack.rasa_url}/webhooks/rest/webhook", json=turn, timeout=30)
    assert rest.status_code == 404  # Rasa's open REST channel is not served


def test_the_stack_action_server_answers_only_rasa(stack: RunningStack) -> None:
    (actions_url,) = {env["ACTIONS_URL"] for env in _stack_processes(stack).values()}
    forged = httpx.post(
        f"{actions_url}/webhook",
        content='{"next_action": "action_delete_my_data", "tracker": {"sender_id": "x"}}',
        headers=EVIL | {"content-type": "text/plain"},
        timeout=30,
    )
    assert forged.status_code == 401
    assert _allow_headers(forged) == []
    assert httpx.get(f"{actions_url}/health", timeout=30).status_code == 200
    # Rasa reaches it with the token: the commune action answers.
    reply = stack.chat("doors-e2e", "tôi ở phường Ba Đình, Hà Nội")
    assert reply[0]["text"] == "Dạ, em đã ghi nhận anh/chị ở Phường Ba Đình, Hà Nội ạ."
