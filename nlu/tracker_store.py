"""Rasa tracker stores that keep a resident's words only with their consent.

Rasa stores every conversation it holds (in memory locally, in PostgreSQL in production). The
gateway marks each message with `store_text: true` in its metadata only when the resident has
agreed to the privacy notice; before a tracker is saved, the text of every other user message
is replaced, so only the intents, entities and actions stay. Actions still see the text during
the turn: Rasa saves the tracker after the turn.

Named in endpoints.yml / endpoints.prod.yml as `nlu.tracker_store.<class>`. Runs inside Rasa
(Python 3.10 in the rasa/rasa image).
"""

from __future__ import annotations

from typing import Any

from rasa.core.tracker_store import InMemoryTrackerStore, SQLTrackerStore
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import TEXT

from nlu.controls import STORE_TEXT

NOT_STORED = "[không lưu]"


def text_may_be_stored(event: UserUttered) -> bool:
    metadata: dict[str, Any] = event.metadata or {}
    return metadata.get(STORE_TEXT) is True


def redact_unconsented(tracker: DialogueStateTracker) -> int:
    """Replace the text of user messages sent without consent; how many were replaced."""
    replaced = 0
    for event in tracker.events:
        if isinstance(event, UserUttered) and event.text and event.text != NOT_STORED:
            if text_may_be_stored(event):
                continue
            event.text = NOT_STORED
            event.parse_data[TEXT] = NOT_STORED  # type: ignore[literal-required]
            replaced += 1
    return replaced


class ConsentAwareInMemoryTrackerStore(InMemoryTrackerStore):
    """`InMemoryTrackerStore` (local `make run`) that saves only consented text."""

    async def save(self, tracker: DialogueStateTracker) -> None:
        redact_unconsented(tracker)
        await super().save(tracker)


class ConsentAwareSQLTrackerStore(SQLTrackerStore):
    """`SQLTrackerStore` (production) that saves only consented text."""

    async def save(self, tracker: DialogueStateTracker) -> None:
        redact_unconsented(tracker)
        await super().save(tracker)
