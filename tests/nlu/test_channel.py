"""The gateway's turn channel, run inside .venv-rasa (`make test` runs this file there), with
a tiny model trained here (keyword NLU, rules) so the turn runs through Rasa's real processor.

The main test run ignores this file: the main environment never imports rasa.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from rasa.core.agent import Agent
from rasa.model_training import train
from rasa.shared.core.events import BotUttered
from rasa.shared.exceptions import RasaException

from nlu.channel import TurnInput, run_turn

TOKEN = "-secret token"
CONFIG = """recipe: default.v1
language: vi
assistant_id: turn-channel-test
pipeline:
  - name: WhitespaceTokenizer
  - name: KeywordIntentClassifier
policies:
  - name: RulePolicy
"""
DOMAIN = """version: "3.1"
intents: [greet]
responses:
  utter_greet: [{text: "Dạ, em chào bác."}]
"""
DATA = """version: "3.1"
nlu:
- intent: greet
  examples: |
    - xin chào
rules:
- rule: greeting
  steps:
  - intent: greet
  - action: utter_greet
"""


@pytest.fixture(scope="module")
def agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Agent]:
    root = tmp_path_factory.mktemp("tiny")
    for name, text in (("config.yml", CONFIG), ("domain.yml", DOMAIN), ("data.yml", DATA)):
        (root / name).write_text(text, encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RASA_CACHE_DIRECTORY", str(root / "cache"))
        result = train(
            str(root / "domain.yml"),
            str(root / "config.yml"),
            [str(root / "data.yml")],
            output=str(root / "models"),
            fixed_model_name="tiny",
        )
        assert result.model is not None
        yield Agent.load(result.model)


def _texts(messages: list[dict[str, Any]]) -> list[str]:
    return [m["text"] for m in messages]


def test_the_channel_needs_a_token() -> None:
    with pytest.raises(RasaException):
        TurnInput.from_credentials({"token": ""})
    with pytest.raises(RasaException):
        TurnInput.from_credentials(None)
    assert TurnInput.from_credentials({"token": TOKEN}).token == TOKEN


def test_a_turn_answers_messages_and_parse_and_is_saved(agent: Agent) -> None:
    answer = asyncio.run(run_turn(agent, "r1", "xin chào", {"channel": "web"}))
    assert set(answer) == {"messages", "intent", "intent_ranking"}  # no notice of its own
    assert _texts(answer["messages"]) == ["Dạ, em chào bác."]
    assert answer["intent"]["name"] == "greet"
    tracker = asyncio.run(agent.tracker_store.retrieve("r1"))
    assert tracker is not None
    assert [e.text for e in tracker.events if isinstance(e, BotUttered)] == ["Dạ, em chào bác."]


def test_a_button_payload_is_parsed_without_the_model(agent: Agent) -> None:
    answer = asyncio.run(run_turn(agent, "r2", "/greet", {"channel": "web"}))
    assert _texts(answer["messages"]) == ["Dạ, em chào bác."]
    assert answer["intent"] == {"name": "greet", "confidence": 1.0}
    assert answer["intent_ranking"] == [{"name": "greet", "confidence": 1.0}]


def _receive(channel: TurnInput) -> Any:
    async def ignored(_: Any) -> None:
        raise AssertionError("the channel runs the turn itself")

    (route,) = channel.blueprint(ignored)._future_routes
    return route.handler


def _request(agent: Agent, token: str | None, body: Any, scheme: str = "Bearer") -> Any:
    headers = {"authorization": f"{scheme} {token}"} if token is not None else {}
    return SimpleNamespace(
        args={}, headers=headers, json=body, app=SimpleNamespace(ctx=SimpleNamespace(agent=agent))
    )


@pytest.mark.parametrize("token", [None, "", "guess", TOKEN + "x"])
def test_the_webhook_refuses_a_wrong_token(agent: Agent, token: str | None) -> None:
    receive = _receive(TurnInput(TOKEN))
    body = {"sender": "r3", "message": "xin chào"}
    assert asyncio.run(receive(_request(agent, token, body))).status == 401


def test_the_webhook_takes_the_token_only_as_a_bearer_header(agent: Agent) -> None:
    receive = _receive(TurnInput(TOKEN))
    body = {"sender": "r3", "message": "xin chào"}
    assert asyncio.run(receive(_request(agent, TOKEN, body, scheme="Basic"))).status == 401
    in_url = SimpleNamespace(
        args={"token": TOKEN}, headers={}, json=body, app=SimpleNamespace(ctx=None)
    )
    assert asyncio.run(receive(in_url)).status == 401


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"sender": "r4"},
        {"sender": 1, "message": "x"},
        {"sender": "r4", "message": "x", "metadata": []},
    ],
)
def test_the_webhook_refuses_a_malformed_turn(agent: Agent, body: dict[str, Any]) -> None:
    receive = _receive(TurnInput(TOKEN))
    assert asyncio.run(receive(_request(agent, TOKEN, body))).status == 400


def test_the_webhook_runs_the_turn_with_the_token(agent: Agent) -> None:
    receive = _receive(TurnInput(TOKEN))
    body = {"sender": "r5", "message": "xin chào", "metadata": {}}
    response = asyncio.run(receive(_request(agent, TOKEN, body)))
    assert response.status == 200
    answer = json.loads(response.body)
    assert _texts(answer["messages"]) == ["Dạ, em chào bác."]
