"""Inbound updates: stored once per channel and key, in one statement per batch."""

from __future__ import annotations

from sqlalchemy.orm import Session

from core.repositories.inbound import mark_processed, store_update, store_updates, unprocessed


def test_a_batch_stores_new_keys_and_skips_known_and_repeated_ones(session: Session) -> None:
    first = store_update(session=session, channel="telegram", key="1", payload="{}")
    assert first is not None

    ids = store_updates(
        session=session,
        channel="telegram",
        updates=[("2", '{"n": 2}'), ("1", "{}"), ("3", '{"n": 3}'), ("2", '{"n": 2}')],
    )

    assert ids[1] is None
    assert ids[3] is None
    assert ids[0] is not None
    assert ids[2] is not None
    assert len({first, ids[0], ids[2]}) == 3
    assert store_updates(session=session, channel="zalo", updates=[("1", "{}")])[0] is not None
    assert store_updates(session=session, channel="zalo", updates=[]) == []
    pending = unprocessed(session=session, channel="telegram")
    assert [(row.update_key, row.payload) for row in pending] == [
        ("1", "{}"),
        ("2", '{"n": 2}'),
        ("3", '{"n": 3}'),
    ]
    mark_processed(session=session, update_id=first)
    assert [row.update_key for row in unprocessed(session=session, channel="telegram")] == [
        "2",
        "3",
    ]
