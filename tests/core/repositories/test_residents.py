"""Resident profiles on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy.orm import Session

from core.repositories.residents import commune_of, get_resident, set_commune


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
