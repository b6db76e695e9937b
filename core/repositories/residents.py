"""Resident profiles: the commune a resident said they live in."""

from __future__ import annotations

from sqlalchemy.orm import Session

from core.models import Resident


def get_resident(*, session: Session, resident_id: str) -> Resident | None:
    return session.get(Resident, resident_id)


def set_commune(*, session: Session, resident_id: str, commune_code: str) -> Resident:
    """Remember (or change) the resident's commune, creating the profile if needed."""
    resident = session.get(Resident, resident_id)
    if resident is None:
        resident = Resident(id=resident_id, commune_code=commune_code)
        session.add(resident)
    else:
        resident.commune_code = commune_code
    session.flush()
    return resident


def commune_of(*, session: Session, resident_id: str) -> str | None:
    resident = get_resident(session=session, resident_id=resident_id)
    return resident.commune_code if resident else None
