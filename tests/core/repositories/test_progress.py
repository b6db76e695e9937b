"""Progress through walkthroughs and lessons, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from core.models import FlowKind
from core.repositories.progress import (
    complete_flow,
    completed_keys,
    get_progress,
    latest_unfinished,
    move_to,
    start_flow,
)

SERVICE = FlowKind.SERVICE
LESSON = FlowKind.LESSON


def test_start_move_complete_and_start_again(session: Session) -> None:
    progress = start_flow(session=session, resident_id="r1", kind=SERVICE, key="birth_registration")
    assert (progress.position, progress.correct, progress.times_completed) == (0, 0, 0)
    move_to(session=session, progress=progress, position=3)
    session.commit()
    found = get_progress(session=session, resident_id="r1", kind=SERVICE, key="birth_registration")
    assert found is not None
    assert found.position == 3
    assert found.completed_at is None

    complete_flow(session=session, progress=found)
    session.commit()
    assert found.completed_at is not None
    assert found.times_completed == 1
    assert completed_keys(session=session, resident_id="r1", kind=SERVICE) == {"birth_registration"}

    again = start_flow(session=session, resident_id="r1", kind=SERVICE, key="birth_registration")
    session.commit()
    assert again.id == found.id
    assert (again.position, again.completed_at, again.times_completed) == (0, None, 1)
    assert completed_keys(session=session, resident_id="r1", kind=SERVICE) == {"birth_registration"}


def test_latest_unfinished_is_the_last_touched(session: Session) -> None:
    assert latest_unfinished(session=session, resident_id="r1") is None
    service = start_flow(session=session, resident_id="r1", kind=SERVICE, key="vneid_activation")
    lesson = start_flow(session=session, resident_id="r1", kind=LESSON, key="zalo_basics")
    lesson.updated_at = service.updated_at + timedelta(seconds=1)
    session.commit()
    latest = latest_unfinished(session=session, resident_id="r1")
    assert latest is not None
    assert (latest.kind, latest.key) == ("lesson", "zalo_basics")

    complete_flow(session=session, progress=lesson)
    session.commit()
    latest = latest_unfinished(session=session, resident_id="r1")
    assert latest is not None
    assert latest.key == "vneid_activation"
    assert latest_unfinished(session=session, resident_id="r2") is None


def test_move_to_moves_and_touches_the_flow(session: Session) -> None:
    progress = start_flow(session=session, resident_id="r9", kind=LESSON, key="safe_passwords")
    started = progress.updated_at.replace(tzinfo=None)  # SQLite gives naive UTC back
    move_to(session=session, progress=progress, position=2)
    session.commit()
    found = get_progress(session=session, resident_id="r9", kind=LESSON, key="safe_passwords")
    assert found is not None
    assert found.position == 2
    assert found.times_completed == 0
    assert found.updated_at.replace(tzinfo=None) >= started
