"""Button payloads: compact ASCII JSON that Rasa reads as intent and entities, ≤ 64 bytes."""

from __future__ import annotations

import pytest

from actions.flows import (
    BUBBLE_LIMIT,
    bubbles,
    button,
    int_entity,
    str_entity,
)
from nlu.controls import MAX_PAYLOAD_BYTES, payload
from tests.factories import press


def test_payload_is_compact_ascii_and_round_trips() -> None:
    text = payload("answer_quiz", lesson="finding_information", q=4, a=4)
    assert text == '/answer_quiz{"lesson":"finding_information","q":4,"a":4}'
    assert text.isascii()
    tracker = press(text)
    assert tracker.latest_message["intent"]["name"] == "answer_quiz"
    assert str_entity(tracker, "lesson") == "finding_information"
    assert (int_entity(tracker, "q"), int_entity(tracker, "a")) == (4, 4)
    assert payload("start_lessons") == "/start_lessons"
    assert button("Thoát", "stop_flow", lesson="zalo_basics") == {
        "title": "Thoát",
        "payload": '/stop_flow{"lesson":"zalo_basics"}',
    }


def test_a_payload_over_telegrams_limit_is_refused() -> None:
    with pytest.raises(ValueError, match=f"longer than {MAX_PAYLOAD_BYTES} bytes"):
        payload("request_human", service="x" * 60, step=1)


def test_bad_entity_values_read_as_missing() -> None:
    tracker = press('/next_step{"service":"", "step":"abc"}')
    assert str_entity(tracker, "service") is None
    assert int_entity(tracker, "step") is None
    assert int_entity(tracker, "nothing") is None


def test_parts_are_packed_into_as_few_screens_as_fit() -> None:
    half = "x" * (BUBBLE_LIMIT // 2 - 1)
    assert bubbles(["a", "b"]) == ["a\n\nb"]
    assert bubbles([half, half, half], separator="\n") == [f"{half}\n{half}", half]
    assert bubbles(["a", "y" * (BUBBLE_LIMIT + 1), "b"]) == ["a", "y" * (BUBBLE_LIMIT + 1), "b"]
    assert bubbles([]) == []
