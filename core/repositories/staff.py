"""Commune and province staff who read reports at /admin/reports, and what each may see:
commune staff their own commune, province staff every commune of their province and the
province roll-up."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import Staff, new_security_stamp
from core.passwords import hash_password
from core.places import Commune, commune_by_code, communes, province_by_code


class UsernameTaken(ValueError):
    """Another staff member already signs in with this name."""


@dataclass(frozen=True)
class Scope:
    """What a staff member looks after."""

    kind: str  # "commune" | "province"
    code: str
    name: str  # "Phường Ba Đình, Hà Nội" | "Thành phố Hà Nội"


def _normal(username: str) -> str:
    return username.strip().lower()


def add_staff(
    *,
    session: Session,
    username: str,
    display_name: str,
    password: str,
    commune_code: str | None = None,
    province_code: str | None = None,
) -> Staff:
    """A staff login for exactly one commune or one province (ValueError otherwise, LookupError
    for an unknown code, WeakPassword for a short password, UsernameTaken)."""
    if (commune_code is None) == (province_code is None):
        raise ValueError("give exactly one of a commune or a province")
    if commune_code is not None and commune_by_code(commune_code) is None:
        raise LookupError(f"no commune has the code {commune_code}")
    if province_code is not None and province_by_code(province_code) is None:
        raise LookupError(f"no province has the code {province_code}")
    name = _normal(username)
    if not name:
        raise ValueError("the username is empty")
    if staff_by_username(session=session, username=name) is not None:
        raise UsernameTaken(f"the username {name} is taken")
    staff = Staff(
        username=name,
        display_name=display_name.strip(),
        password_hash=hash_password(password),
        commune_code=commune_code,
        province_code=province_code,
    )
    session.add(staff)
    session.flush()
    return staff


def staff_by_username(*, session: Session, username: str) -> Staff | None:
    return session.scalars(select(Staff).where(Staff.username == _normal(username))).one_or_none()


def list_staff(*, session: Session) -> Sequence[Staff]:
    return session.scalars(select(Staff).order_by(Staff.username)).all()


def remove_staff(*, session: Session, username: str) -> bool:
    staff = staff_by_username(session=session, username=username)
    if staff is None:
        return False
    session.delete(staff)
    session.flush()
    return True


def set_password(*, session: Session, username: str, password: str) -> None:
    """A new password (LookupError for an unknown name, WeakPassword for a short one); it ends
    every session opened with the old one."""
    staff = staff_by_username(session=session, username=username)
    if staff is None:
        raise LookupError(f"no staff member {_normal(username)}")
    staff.password_hash = hash_password(password)
    staff.security_stamp = new_security_stamp()
    session.flush()


def may_see(staff: Staff, commune_code: str) -> bool:
    """True when this commune's report is the staff member's to read."""
    if staff.commune_code is not None:
        return staff.commune_code == commune_code
    commune = commune_by_code(commune_code)
    return commune is not None and commune.province.code == staff.province_code


def may_see_province(staff: Staff, province_code: str) -> bool:
    """True for the staff of this province (the roll-up is theirs alone)."""
    return staff.province_code is not None and staff.province_code == province_code


def visible_communes(staff: Staff) -> list[Commune]:
    """The communes whose reports the staff member may read, by code."""
    if staff.commune_code is not None:
        own = commune_by_code(staff.commune_code)
        return [own] if own else []
    return [c for c in communes() if c.province.code == staff.province_code]


def scope_of(staff: Staff) -> Scope:
    if staff.commune_code is not None:
        commune = commune_by_code(staff.commune_code)
        return Scope("commune", staff.commune_code, commune.label if commune else "?")
    code = staff.province_code or ""
    province = province_by_code(code)
    return Scope("province", code, province.name if province else "?")
