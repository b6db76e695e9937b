"""The consent-aware tracker stores, run inside .venv-rasa (`make test` runs this file there).

The main test run ignores this file: the main environment never imports rasa.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from nlu.tracker_store import (
    NOT_STORED,
    STORE_TEXT,
    ConsentAwareInMemoryTrackerStore,
    ConsentAwareSQLTrackerStore,
    redact_unconsented,
)

DOMAIN = Domain.from_yaml("intents: [greet, service_birth_registration]")
WITHOUT = "so cccd cua toi la [số định danh], lam khai sinh"
WITH = "tôi đồng ý, hướng dẫn khai sinh"


def _tracker() -> DialogueStateTracker:
    intent = {"name": "service_birth_registration", "confidence": 0.9}
    return DialogueStateTracker.from_events(
        "resident",
        [
            UserUttered(WITHOUT, intent, metadata={"channel": "web"}),
            BotUttered("Dạ, em hướng dẫn…"),
            UserUttered(WITH, intent, metadata={"channel": "web", STORE_TEXT: True}),
            ActionExecuted("action_listen"),
        ],
    )


def _user_texts(tracker: DialogueStateTracker) -> list[tuple[str | None, str | None]]:
    return [(e.text, e.parse_data["text"]) for e in tracker.events if isinstance(e, UserUttered)]


def test_only_consented_text_is_kept() -> None:
    tracker = _tracker()
    assert redact_unconsented(tracker) == 1
    assert _user_texts(tracker) == [(NOT_STORED, NOT_STORED), (WITH, WITH)]
    assert tracker.latest_message is not None
    assert tracker.latest_message.intent["name"] == "service_birth_registration"
    assert redact_unconsented(tracker) == 0


def test_in_memory_store_saves_the_redacted_conversation() -> None:
    store = ConsentAwareInMemoryTrackerStore(DOMAIN)
    assert isinstance(store, InMemoryTrackerStore)
    asyncio.run(store.save(_tracker()))
    saved = asyncio.run(store.retrieve("resident"))
    assert saved is not None
    assert _user_texts(saved) == [(NOT_STORED, NOT_STORED), (WITH, WITH)]
    assert WITHOUT not in store.store["resident"]


def test_sql_store_writes_no_unconsented_text(tmp_path: Path) -> None:
    db = tmp_path / "trackers.db"
    store = ConsentAwareSQLTrackerStore(DOMAIN, dialect="sqlite", db=str(db))
    asyncio.run(store.save(_tracker()))
    saved = asyncio.run(store.retrieve("resident"))
    assert saved is not None
    assert _user_texts(saved) == [(NOT_STORED, NOT_STORED), (WITH, WITH)]
    assert b"cccd" not in db.read_bytes()
