"""Erasing a resident: profile and progress gone, counts kept under an unlinkable id."""

from __future__ import annotations

from sqlalchemy.orm import Session

from core.erasure import ERASED_PREFIX, erase_resident
from core.models import EventType, FlowKind
from core.repositories.events import list_events, record_event
from core.repositories.progress import latest_unfinished, start_flow
from core.repositories.residents import get_resident, set_commune, set_consent


def test_erasure_removes_the_profile_and_unlinks_events(session: Session) -> None:
    set_commune(session=session, resident_id="r1", commune_code="00004")
    set_consent(session=session, resident_id="r1", consent=True)
    start_flow(session=session, resident_id="r1", kind=FlowKind.LESSON, key="zalo_basics")
    for type_ in (EventType.MESSAGE_IN, EventType.MESSAGE_OUT):
        record_event(
            session=session, type=type_, channel="zalo", resident_id="r1", commune_code="00004"
        )
    record_event(session=session, type=EventType.MESSAGE_IN, channel="web", resident_id="r2")
    session.commit()

    erasure = erase_resident(session=session, resident_id="r1", channel="zalo")
    session.commit()

    assert erasure.anonymous_id.startswith(ERASED_PREFIX)
    assert (erasure.events_unlinked, erasure.progress_deleted, erasure.profile_deleted) == (
        2,
        1,
        True,
    )
    assert get_resident(session=session, resident_id="r1") is None
    assert latest_unfinished(session=session, resident_id="r1") is None
    assert list_events(session=session, resident_id="r1") == []
    kept = [
        (e.type, e.commune_code)
        for e in list_events(session=session, resident_id=erasure.anonymous_id)
    ]
    assert kept == [("message_in", "00004"), ("message_out", "00004"), ("data_erased", "00004")]
    assert len(list_events(session=session, resident_id="r2")) == 1


def test_erasing_an_unknown_resident_is_harmless(session: Session) -> None:
    erasure = erase_resident(session=session, resident_id="nobody", channel="staff")
    session.commit()
    assert (erasure.events_unlinked, erasure.progress_deleted, erasure.profile_deleted) == (
        0,
        0,
        False,
    )
    erased = list_events(session=session, type=EventType.DATA_ERASED)
    assert [(e.resident_id, e.commune_code) for e in erased] == [(erasure.anonymous_id, None)]
    first = erase_resident(session=session, resident_id="nobody", channel="staff")
    assert first.anonymous_id != erasure.anonymous_id
