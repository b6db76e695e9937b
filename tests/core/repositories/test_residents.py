"""Resident profiles on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from core.models import utcnow
from core.repositories.residents import (
    NOTICE_REPEAT_AFTER,
    commune_of,
    consent_notice_due,
    get_resident,
    has_consented,
    mark_commune_asked,
    mark_consent_asked,
    set_commune,
    set_consent,
)


def test_commune_is_remembered_and_can_change(session: Session) -> None:
    assert get_resident(session=session, resident_id="r1") is None
    assert commune_of(session=session, resident_id="r1") is None

    set_commune(session=session, resident_id="r1", commune_code="00004")
    session.commit()
    assert commune_of(session=session, resident_id="r1") == "00004"

    set_commune(session=session, resident_id="r1", commune_code="25819")
    session.commit()
    resident = get_resident(session=session, resident_id="r1")
    assert resident is not None
    assert resident.commune_code == "25819"
    assert commune_of(session=session, resident_id="r2") is None


def test_consent_is_only_an_explicit_yes(session: Session) -> None:
    assert not has_consented(session=session, resident_id="r1")
    mark_consent_asked(session=session, resident_id="r1")
    session.commit()
    resident = get_resident(session=session, resident_id="r1")
    assert resident is not None
    assert resident.consent is None
    assert resident.consent_asked_at is not None
    assert not has_consented(session=session, resident_id="r1")

    set_consent(session=session, resident_id="r1", consent=True)
    session.commit()
    assert has_consented(session=session, resident_id="r1")
    set_consent(session=session, resident_id="r1", consent=False)
    session.commit()
    assert not has_consented(session=session, resident_id="r1")
    assert get_resident(session=session, resident_id="r1").consent_at is not None  # type: ignore[union-attr]


def test_commune_question_is_marked_once_asked(session: Session) -> None:
    mark_commune_asked(session=session, resident_id="r3")
    session.commit()
    resident = get_resident(session=session, resident_id="r3")
    assert resident is not None
    assert resident.commune_asked_at is not None
    assert resident.commune_code is None


def test_the_privacy_notice_is_due_until_answered_at_most_once_a_day(session: Session) -> None:
    assert consent_notice_due(session=session, resident_id="n1")
    set_commune(session=session, resident_id="n1", commune_code="00004")
    assert consent_notice_due(session=session, resident_id="n1")
    mark_consent_asked(session=session, resident_id="n1")
    session.commit()
    asked = get_resident(session=session, resident_id="n1").consent_asked_at  # type: ignore[union-attr]
    assert asked is not None
    assert not consent_notice_due(session=session, resident_id="n1")
    later = utcnow() + NOTICE_REPEAT_AFTER + timedelta(minutes=1)
    assert consent_notice_due(session=session, resident_id="n1", now=later)

    set_consent(session=session, resident_id="n1", consent=False)
    session.commit()
    assert not consent_notice_due(session=session, resident_id="n1", now=later)
    set_consent(session=session, resident_id="n2", consent=True)
    assert not consent_notice_due(session=session, resident_id="n2")
