"""Two of Rasa 3.6's per-turn costs done once instead (measured: docs/benchmarks/turns.md).

py-spy on Rasa at 20 turns/s showed a third or more of its CPU in `jsonschema`: after every
call to the action server, `RemoteAction._validate_action_result` calls `jsonschema.validate`,
which first checks the (large, constant) events schema against the JSON Schema meta-schema and
builds a new validator, then validates the answer. Next came `Event.resolve_by_type`, which
walks every subclass of `Event` (with `inspect.isabstract` on each) for each event it reads.

`install()` keeps both behaviours and drops the repeated work: the answer is still validated
against the same schema, with one validator whose schema was checked once; event types are
still found by name, from a table built once (and rebuilt when a name is not in it, so a class
defined later is still found). Installed by the turn channel (nlu/channel.py), which Rasa
imports at start-up from credentials.yml, before it serves anything. Runs inside Rasa only.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import rasa.shared.utils.common
from jsonschema import ValidationError, validators
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL
from rasa.shared.core.events import Event

_installed = False


@cache
def _action_response_validator() -> Any:
    schema = RemoteAction.action_response_format_spec()
    cls = validators.validator_for(schema)
    cls.check_schema(schema)  # what jsonschema.validate did on every call
    return cls(schema)


def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    """Rasa's own check of the action server's answer (same schema, same error)."""
    try:
        _action_response_validator().validate(result)
    except ValidationError as e:
        e.message += (
            ". Failed to validate Action server response from API, "
            "make sure your response from the Action endpoint is valid. "
            f"For more information about the format visit {DOCS_BASE_URL}/custom-actions"
        )
        raise
    return True


_event_types: dict[str, type[Event]] = {}


def _resolve_by_type(type_name: str, default: type[Event] | None = None) -> type[Event] | None:
    """Rasa's `Event.resolve_by_type`, from a table of the event classes by name."""
    if type_name not in _event_types:
        for cls in reversed(rasa.shared.utils.common.all_subclasses(Event)):
            _event_types[cls.type_name] = cls  # the first subclass with a name wins, as in Rasa
    found = _event_types.get(type_name)
    if found is not None:
        return found
    if type_name == "topic":
        return None  # backwards compatibility to support old TopicSet events
    if default is not None:
        return default
    raise ValueError(f"Unknown event name '{type_name}'.")


def install() -> None:
    """Replace the two slow paths (once per process)."""
    global _installed
    if _installed:
        return
    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]
    Event.resolve_by_type = staticmethod(_resolve_by_type)  # type: ignore[method-assign,assignment]
    _installed = True
