"""Staff logins for the report page: one commune or one province each, hashed passwords, and
what each may read (commune staff their commune; province staff its communes and roll-up)."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from core.passwords import WeakPassword, verify_password
from core.repositories.staff import (
    Scope,
    UsernameTaken,
    add_staff,
    list_staff,
    may_see,
    may_see_province,
    remove_staff,
    scope_of,
    set_password,
    staff_by_username,
    visible_communes,
)

PASSWORD = "mat-khau-rat-dai-1"


def test_add_find_list_and_remove(session: Session) -> None:
    lan = add_staff(
        session=session,
        username=" Lan ",
        display_name="Chị Lan",
        password=PASSWORD,
        commune_code="00004",
    )
    add_staff(
        session=session, username="hung", display_name="Anh Hùng", password=PASSWORD,
        province_code="01",
    )  # fmt: skip
    assert lan.username == "lan"
    assert lan.password_hash != PASSWORD
    assert verify_password(PASSWORD, lan.password_hash)
    assert staff_by_username(session=session, username="LAN") is lan
    assert [s.username for s in list_staff(session=session)] == ["hung", "lan"]
    assert remove_staff(session=session, username="lan") is True
    assert remove_staff(session=session, username="lan") is False
    assert staff_by_username(session=session, username="lan") is None


def test_exactly_one_known_scope_a_free_name_and_a_long_password(session: Session) -> None:
    both = {"commune_code": "00004", "province_code": "01"}
    with pytest.raises(ValueError, match="exactly one"):
        add_staff(session=session, username="a", display_name="A", password=PASSWORD, **both)
    with pytest.raises(ValueError, match="exactly one"):
        add_staff(session=session, username="a", display_name="A", password=PASSWORD)
    with pytest.raises(LookupError, match="99999"):
        add_staff(
            session=session, username="a", display_name="A", password=PASSWORD,
            commune_code="99999",
        )  # fmt: skip
    with pytest.raises(LookupError, match="77"):
        add_staff(
            session=session, username="a", display_name="A", password=PASSWORD,
            province_code="77",
        )  # fmt: skip
    with pytest.raises(WeakPassword):
        add_staff(
            session=session, username="a", display_name="A", password="ngan",
            commune_code="00004",
        )  # fmt: skip
    add_staff(
        session=session, username="a", display_name="A", password=PASSWORD, commune_code="00004"
    )
    with pytest.raises(UsernameTaken):
        add_staff(
            session=session, username="A", display_name="B", password=PASSWORD,
            province_code="01",
        )  # fmt: skip


def test_set_password(session: Session) -> None:
    add_staff(
        session=session, username="lan", display_name="Lan", password=PASSWORD, commune_code="00004"
    )
    set_password(session=session, username="Lan", password="mat-khau-moi-2")
    lan = staff_by_username(session=session, username="lan")
    assert lan is not None
    assert verify_password("mat-khau-moi-2", lan.password_hash)
    assert not verify_password(PASSWORD, lan.password_hash)
    with pytest.raises(LookupError):
        set_password(session=session, username="ai", password="mat-khau-moi-2")
    with pytest.raises(WeakPassword):
        set_password(session=session, username="lan", password="ngan")


def test_what_commune_and_province_staff_may_see(session: Session) -> None:
    commune = add_staff(
        session=session, username="lan", display_name="Lan", password=PASSWORD, commune_code="00004"
    )
    province = add_staff(
        session=session, username="hung", display_name="Hùng", password=PASSWORD,
        province_code="01",
    )  # fmt: skip
    assert may_see(commune, "00004")
    assert not may_see(commune, "00008")  # another commune of Hà Nội
    assert not may_see_province(commune, "01")
    assert may_see(province, "00004")
    assert may_see(province, "00008")
    assert not may_see(province, "25489")  # Xã Tân Lập, Tây Ninh
    assert not may_see(province, "99999")
    assert may_see_province(province, "01")
    assert not may_see_province(province, "80")

    assert [c.code for c in visible_communes(commune)] == ["00004"]
    hanoi = visible_communes(province)
    assert len(hanoi) > 100
    assert {c.province.code for c in hanoi} == {"01"}
    assert scope_of(commune) == Scope("commune", "00004", "Phường Ba Đình, Hà Nội")
    assert scope_of(province) == Scope("province", "01", "Thành phố Hà Nội")
