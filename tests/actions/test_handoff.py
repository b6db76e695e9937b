"""request_human: the placeholder answer, and the commune asked for once when unknown."""

from __future__ import annotations

from actions.commune import ASK_TEXT
from actions.handoff import PLACEHOLDER_RESPONSE, ActionRequestHuman
from tests.actions.helpers import run_action
from tests.factories import make_tracker


async def test_asks_for_the_commune_once_when_unknown(app_database: str) -> None:
    tracker = make_tracker("request_human", sender_id="h1")
    events, messages = await run_action(ActionRequestHuman(), tracker)
    assert events == []
    assert [m["response"] for m in messages] == [PLACEHOLDER_RESPONSE, None]
    assert messages[1]["text"] == ASK_TEXT
    _, again = await run_action(ActionRequestHuman(), tracker)
    assert [m["response"] for m in again] == [PLACEHOLDER_RESPONSE]


async def test_a_known_commune_is_not_asked_for(app_database: str) -> None:
    tracker = make_tracker("request_human", sender_id="h2", slots={"commune_code": "00004"})
    _, messages = await run_action(ActionRequestHuman(), tracker)
    assert [m["response"] for m in messages] == [PLACEHOLDER_RESPONSE]
