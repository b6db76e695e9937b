"""The volunteer roster: who serves which communes, as volunteer or team lead."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from core.models import Volunteer, VolunteerCommune, VolunteerRole, new_security_stamp
from core.passwords import hash_password


def add_volunteer(
    *,
    session: Session,
    display_name: str,
    communes: Iterable[str],
    telegram_user_id: int | None = None,
    role: VolunteerRole = VolunteerRole.VOLUNTEER,
) -> Volunteer:
    volunteer = Volunteer(display_name=display_name, telegram_user_id=telegram_user_id, role=role)
    session.add(volunteer)
    session.flush()
    add_communes(session=session, volunteer_id=volunteer.id, communes=communes)
    return volunteer


def add_communes(*, session: Session, volunteer_id: int, communes: Iterable[str]) -> None:
    """Let a volunteer serve more communes (those already served are kept once)."""
    new = set(communes) - communes_of(session=session, volunteer_id=volunteer_id)
    session.add_all(VolunteerCommune(volunteer_id=volunteer_id, commune_code=code) for code in new)
    session.flush()


def communes_of(*, session: Session, volunteer_id: int) -> set[str]:
    return set(
        session.scalars(
            select(VolunteerCommune.commune_code).where(
                VolunteerCommune.volunteer_id == volunteer_id
            )
        )
    )


def serves(*, session: Session, volunteer_id: int, commune_code: str | None) -> bool:
    """True when the volunteer may see and take tickets of `commune_code`. A ticket without a
    commune (a scam reported before the resident named theirs) belongs to the fallback desk:
    the team leads on the web desk (and anyone in TELEGRAM_DESK_CHAT_ID, bot/desk/telegram.py)."""
    if commune_code is None:
        volunteer = session.get(Volunteer, volunteer_id)
        return volunteer is not None and volunteer.role == VolunteerRole.LEAD
    return commune_code in communes_of(session=session, volunteer_id=volunteer_id)


def serves_on_the_web(*, session: Session, commune_code: str | None) -> bool:
    """True when someone who may take `commune_code`'s tickets can sign in to the web desk."""
    query = select(Volunteer.id).where(Volunteer.password_hash.is_not(None))
    if commune_code is None:
        query = query.where(Volunteer.role == VolunteerRole.LEAD)
    else:
        query = query.join(VolunteerCommune).where(VolunteerCommune.commune_code == commune_code)
    return session.scalars(query.limit(1)).first() is not None


def list_volunteers(*, session: Session, commune_code: str | None = None) -> Sequence[Volunteer]:
    query = select(Volunteer).order_by(Volunteer.id)
    if commune_code is not None:
        query = query.join(VolunteerCommune).where(VolunteerCommune.commune_code == commune_code)
    return session.scalars(query).all()


def volunteer_by_telegram(*, session: Session, telegram_user_id: int) -> Volunteer | None:
    return session.scalars(
        select(Volunteer).where(Volunteer.telegram_user_id == telegram_user_id)
    ).one_or_none()


def remove_volunteer(*, session: Session, volunteer_id: int) -> bool:
    session.execute(delete(VolunteerCommune).where(VolunteerCommune.volunteer_id == volunteer_id))
    removed = session.get(Volunteer, volunteer_id)
    if removed is None:
        return False
    session.delete(removed)
    session.flush()
    return True


def leads_of(*, session: Session, commune_code: str | None) -> Sequence[Volunteer]:
    """The team leads of a commune (who get escalations)."""
    if commune_code is None:
        return []
    return session.scalars(
        select(Volunteer)
        .join(VolunteerCommune)
        .where(
            VolunteerCommune.commune_code == commune_code,
            Volunteer.role == VolunteerRole.LEAD,
        )
        .order_by(Volunteer.id)
    ).all()


def set_web_login(*, session: Session, volunteer_id: int, username: str, password: str) -> None:
    """Let a volunteer sign in to the web desk (raises WeakPassword for a short password); a new
    password ends every session opened with the old one."""
    volunteer = session.get(Volunteer, volunteer_id)
    if volunteer is None:
        raise LookupError(f"no volunteer {volunteer_id}")
    volunteer.username = username.strip().lower()
    volunteer.password_hash = hash_password(password)
    volunteer.security_stamp = new_security_stamp()
    session.flush()


def volunteer_by_username(*, session: Session, username: str) -> Volunteer | None:
    return session.scalars(
        select(Volunteer).where(Volunteer.username == username.strip().lower())
    ).one_or_none()
