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
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.exceptions import RasaException

from nlu.channel import TurnInput, notice_still_due, run_turn
from nlu.controls import CONSENT_ACTION, ERASE_CONVERSATION

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
intents: [greet, consent]
responses:
  utter_greet: [{text: "Dạ, em chào bác."}]
  utter_notice: [{text: "🔒 Em xin phép…"}]
"""
DATA = """version: "3.1"
nlu:
- intent: greet
  examples: |
    - xin chào
- intent: consent
  examples: |
    - đồng ý
rules:
- rule: greeting
  steps:
  - intent: greet
  - action: utter_greet
- rule: the notice (action_consent in the real domain)
  steps:
  - intent: consent
  - action: utter_notice
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


def _tracker(*events: Any) -> DialogueStateTracker:
    return DialogueStateTracker.from_events("r", list(events))


def _user(text: str = "x") -> UserUttered:
    return UserUttered(text, {"name": "greet", "confidence": 1.0})


def test_the_notice_stays_due_after_an_ordinary_turn() -> None:
    tracker = _tracker(_user(), ActionExecuted("utter_greet"), BotUttered("Dạ"))
    assert notice_still_due(tracker, [{"text": "Dạ"}])


def test_the_notice_is_settled_when_the_turn_ran_the_consent_action() -> None:
    tracker = _tracker(_user("/consent"), ActionExecuted(CONSENT_ACTION), BotUttered("Dạ"))
    assert not notice_still_due(tracker, [{"text": "Dạ"}])


def test_a_consent_action_of_an_earlier_turn_does_not_count() -> None:
    tracker = _tracker(
        _user("/consent"), ActionExecuted(CONSENT_ACTION), _user(), ActionExecuted("utter_greet")
    )
    assert notice_still_due(tracker, [])


def test_no_notice_after_an_erasure() -> None:
    tracker = _tracker(_user(), ActionExecuted("action_delete_my_data"))
    erased = {"custom": {ERASE_CONVERSATION: True, "erased_as": "anon"}}
    assert not notice_still_due(tracker, [{"text": "Dạ, em đã xóa xong."}, erased])


def test_the_channel_needs_a_token() -> None:
    with pytest.raises(RasaException):
        TurnInput.from_credentials({"token": ""})
    with pytest.raises(RasaException):
        TurnInput.from_credentials(None)
    assert TurnInput.from_credentials({"token": TOKEN}).token == TOKEN


def test_a_turn_answers_messages_parse_and_the_due_notice(agent: Agent) -> None:
    answer = asyncio.run(run_turn(agent, "r1", "xin chào", {"channel": "web"}, True))
    assert _texts(answer["messages"]) == ["Dạ, em chào bác."]
    assert answer["intent"]["name"] == "greet"
    assert _texts(answer["notice"]) == ["🔒 Em xin phép…"]
    tracker = asyncio.run(agent.tracker_store.retrieve("r1"))
    assert tracker is not None
    said = [e.text for e in tracker.events if isinstance(e, BotUttered)]
    assert said == ["Dạ, em chào bác.", "🔒 Em xin phép…"]  # one save held both


def test_no_notice_unless_the_gateway_says_it_is_due(agent: Agent) -> None:
    answer = asyncio.run(run_turn(agent, "r2", "/greet", {"channel": "web"}, False))
    assert _texts(answer["messages"]) == ["Dạ, em chào bác."]
    assert answer["intent"] == {"name": "greet", "confidence": 1.0}
    assert answer["intent_ranking"] == [{"name": "greet", "confidence": 1.0}]
    assert answer["notice"] == []


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
    body = {"sender": "r5", "message": "xin chào", "metadata": {}, "consent_notice_due": True}
    response = asyncio.run(receive(_request(agent, TOKEN, body)))
    assert response.status == 200
    answer = json.loads(response.body)
    assert _texts(answer["messages"] + answer["notice"]) == ["Dạ, em chào bác.", "🔒 Em xin phép…"]
