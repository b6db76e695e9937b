"""nlu/hot_paths.py under Rasa (run by `make test-rasa-components`): the replaced paths answer
exactly as Rasa's own do."""

from __future__ import annotations

import pytest
import rasa.shared.utils.common
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.events import Event, SlotSet, UserUttered

from nlu import hot_paths

ORIGINAL_VALIDATE = RemoteAction._validate_action_result
ORIGINAL_RESOLVE = Event.resolve_by_type
hot_paths.install()


def action() -> RemoteAction:
    return RemoteAction("action_x", None)


@pytest.mark.parametrize(
    "answer",
    [
        {"events": [{"event": "slot", "name": "a", "value": 1}], "responses": [{"text": "Dạ"}]},
        {"events": [], "responses": []},
        {},
    ],
)
def test_a_valid_answer_passes_both(answer: dict[str, object]) -> None:
    assert ORIGINAL_VALIDATE(action(), answer) is True
    assert action()._validate_action_result(answer) is True


@pytest.mark.parametrize(
    "answer",
    [
        {"events": [{"event": "slot"}]},  # a slot event without a name
        {"events": "not a list"},
        {"responses": [1, 2]},
        [],
    ],
)
def test_an_invalid_answer_fails_both_with_rasas_message(answer: object) -> None:
    with pytest.raises(ValidationError) as original:
        ORIGINAL_VALIDATE(action(), answer)
    with pytest.raises(ValidationError) as ours:
        action()._validate_action_result(answer)
    assert ours.value.message == original.value.message
    assert "Failed to validate Action server response" in ours.value.message


def test_every_event_type_resolves_as_in_rasa() -> None:
    names = {cls.type_name for cls in rasa.shared.utils.common.all_subclasses(Event)}
    assert {"slot", "user", "action"} <= names
    for name in names:
        assert Event.resolve_by_type(name) is ORIGINAL_RESOLVE(name)
    assert Event.resolve_by_type("slot") is SlotSet
    assert Event.resolve_by_type("user") is UserUttered


def test_unknown_names_answer_as_in_rasa() -> None:
    assert Event.resolve_by_type("topic") is None
    assert Event.resolve_by_type("no-such-event", default=SlotSet) is SlotSet
    with pytest.raises(ValueError, match="Unknown event name 'no-such-event'"):
        Event.resolve_by_type("no-such-event")
