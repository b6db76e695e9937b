"""The two-stage fallback's "did you mean …?" with the top two candidates."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.fallback import ASK_TEXT, NONE_OF_THESE, REPHRASE_TEXT, ActionAskAffirmation
from actions.intent_labels import BUTTON_ONLY_INTENTS, INTENT_LABELS
from tests.domain import domain_intents
from tests.factories import make_tracker


def _tracker(ranking: list[tuple[str, float]]) -> Tracker:
    tracker = make_tracker("nlu_fallback")
    tracker.latest_message["intent_ranking"] = [
        {"name": name, "confidence": confidence} for name, confidence in ranking
    ]
    return tracker


async def _run(tracker: Tracker) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = await ActionAskAffirmation().run(dispatcher, tracker, {})
    return events, dispatcher.messages


def test_every_domain_intent_has_a_label() -> None:
    intents = domain_intents()
    assert set(INTENT_LABELS) == intents - BUTTON_ONLY_INTENTS


async def test_offers_the_two_likeliest_real_intents() -> None:
    tracker = _tracker(
        [
            ("nlu_fallback", 0.4),
            ("service_id_card", 0.35),
            ("greet", 0.3),
            ("service_vneid_activation", 0.2),
            ("service_birth_registration", 0.05),
        ]
    )
    events, messages = await _run(tracker)
    assert events == []
    assert [(m["text"], m["buttons"]) for m in messages] == [
        (
            ASK_TEXT,
            [
                {"title": "Thẻ căn cước", "payload": "/service_id_card"},
                {"title": "Kích hoạt VNeID", "payload": "/service_vneid_activation"},
                NONE_OF_THESE,
            ],
        )
    ]


async def test_no_candidates_asks_to_rephrase() -> None:
    events, messages = await _run(_tracker([("nlu_fallback", 0.9), ("out_of_scope", 0.1)]))
    assert events == []
    assert [m["text"] for m in messages] == [REPHRASE_TEXT]
