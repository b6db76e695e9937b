"""The Redis ledger of announcement hand-overs is named by the announcement's id and creation
time: a database whose ids start again (a restore, each test's fresh schema against a Redis
kept from an earlier run) never finds an older announcement's ledger and silently skips."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.announcements import ledger_key
from core.models import Announcement


def _announcement(created: datetime) -> Announcement:
    return Announcement(id=1, created_at=created)


def test_the_same_id_in_another_database_has_another_ledger() -> None:
    first = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    old = ledger_key("outbox", _announcement(first))
    assert old == ledger_key("outbox", _announcement(first))
    assert old != ledger_key("outbox", _announcement(first + timedelta(milliseconds=1)))
    assert old.startswith("outbox:announced:1:")
    # A naive time read back from SQLite is UTC as well.
    assert ledger_key("outbox", _announcement(first.replace(tzinfo=None))) == old
