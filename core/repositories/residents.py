"""Resident profiles: the commune a resident lives in and their answer to the privacy notice."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from core.db import aware
from core.models import Resident, utcnow


def get_resident(*, session: Session, resident_id: str) -> Resident | None:
    return session.get(Resident, resident_id)


def ensure_resident(*, session: Session, resident_id: str) -> Resident:
    """The resident's profile, created empty on first use."""
    resident = session.get(Resident, resident_id)
    if resident is None:
        resident = Resident(id=resident_id)
        session.add(resident)
        session.flush()
    return resident


def set_commune(*, session: Session, resident_id: str, commune_code: str) -> Resident:
    """Remember (or change) the resident's commune, creating the profile if needed."""
    resident = ensure_resident(session=session, resident_id=resident_id)
    resident.commune_code = commune_code
    session.flush()
    return resident


def commune_of(*, session: Session, resident_id: str) -> str | None:
    resident = get_resident(session=session, resident_id=resident_id)
    return resident.commune_code if resident else None


def set_consent(*, session: Session, resident_id: str, consent: bool) -> Resident:
    """Record the resident's explicit answer to the privacy notice."""
    resident = ensure_resident(session=session, resident_id=resident_id)
    resident.consent = consent
    resident.consent_at = utcnow()
    session.flush()
    return resident


def has_consented(*, session: Session, resident_id: str) -> bool:
    """True only after an explicit yes: no answer counts as no."""
    resident = get_resident(session=session, resident_id=resident_id)
    return bool(resident and resident.consent)


NOTICE_REPEAT_AFTER = timedelta(days=1)


def consent_notice_due(*, session: Session, resident_id: str, now: datetime | None = None) -> bool:
    """Show the privacy notice? Yes until the resident answers it, at most once a day."""
    resident = get_resident(session=session, resident_id=resident_id)
    if resident is None:
        return True
    if resident.consent is not None:
        return False
    if resident.consent_asked_at is None:
        return True
    return (now or utcnow()) - aware(resident.consent_asked_at) >= NOTICE_REPEAT_AFTER


def mark_consent_asked(*, session: Session, resident_id: str) -> None:
    ensure_resident(session=session, resident_id=resident_id).consent_asked_at = utcnow()
    session.flush()


def mark_commune_asked(*, session: Session, resident_id: str) -> None:
    ensure_resident(session=session, resident_id=resident_id).commune_asked_at = utcnow()
    session.flush()
