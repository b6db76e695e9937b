"""Chat content is deleted after RETENTION_DAYS and with the resident; counts stay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.erasure import erase_resident
from core.models import Event, EventType, FallbackText, FlowKind, Progress
from core.repositories.events import keep_fallback_text, record_event
from core.repositories.progress import move_to, start_flow
from core.repositories.residents import set_consent
from core.retention import SESSION_LENGTH, purge_chat_content
from core.settings import PROJECT_ROOT

DAY = datetime(2026, 10, 1, tzinfo=UTC)


def _missed(session: Session, resident: str, when: datetime, words: str) -> None:
    event = record_event(
        session=session,
        type=EventType.FALLBACK,
        channel="zalo",
        resident_id=resident,
        commune_code="00004",
        key="service_id_card",
        occurred_at=when,
    )
    keep_fallback_text(session=session, event=event, text=f"  {words}  ")


def _texts(session: Session) -> list[tuple[str, str]]:
    rows = session.scalars(select(FallbackText).order_by(FallbackText.id))
    return [(row.resident_id, row.text) for row in rows]


def test_kept_words_are_purged_after_retention_and_events_stay(session: Session) -> None:
    _missed(session, "r1", DAY, "doi sim chinh chu")
    _missed(session, "r2", DAY + timedelta(days=2), "app loi ko vao dc")

    purged = purge_chat_content(session=session, before=DAY + timedelta(days=1))

    assert (purged.fallback_texts, purged.handoff_messages) == (1, 0)
    assert _texts(session) == [("r2", "app loi ko vao dc")]
    assert session.scalar(select(func.count()).select_from(Event)) == 2


def test_kept_words_go_with_the_resident(session: Session) -> None:
    _missed(session, "r1", DAY, "doi sim chinh chu")
    _missed(session, "r2", DAY, "app loi ko vao dc")

    erase_resident(session=session, resident_id="r1", channel="zalo")

    assert _texts(session) == [("r2", "app loi ko vao dc")]


def _progress(session: Session, resident: str, moved: datetime) -> None:
    progress = start_flow(
        session=session, resident_id=resident, kind=FlowKind.SERVICE, key="birth_registration"
    )
    move_to(session=session, progress=progress, position=2)
    progress.updated_at = moved
    session.flush()


def test_progress_without_consent_lasts_the_session_only(session: Session) -> None:
    now = DAY + timedelta(hours=5)
    set_consent(session=session, resident_id="kept", consent=True)
    set_consent(session=session, resident_id="refused", consent=False)
    _progress(session, "kept", DAY)
    _progress(session, "refused", DAY)
    _progress(session, "never-asked", DAY)
    _progress(session, "in-session", now - timedelta(minutes=20))

    purged = purge_chat_content(session=session, before=DAY - timedelta(days=90), now=now)

    assert purged.progress == 2
    assert sorted(session.scalars(select(Progress.resident_id))) == ["in-session", "kept"]


def test_the_session_is_rasas() -> None:
    domain = yaml.safe_load((PROJECT_ROOT / "data" / "domain.yml").read_text(encoding="utf-8"))
    minutes = domain["session_config"]["session_expiration_time"]
    assert timedelta(minutes=minutes) == SESSION_LENGTH
