"""One-time volunteer invites: only the hash is stored, a code works once and before expiry,
and a known Telegram account gets the communes added."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import VolunteerInvite, VolunteerRole, utcnow
from core.repositories.invites import create_invite, redeem_invite
from core.repositories.volunteers import add_volunteer, communes_of


def test_a_code_registers_once_and_is_stored_only_as_a_hash(session: Session) -> None:
    code = create_invite(session=session, communes=["00004", "00008"], role=VolunteerRole.LEAD)
    stored = session.scalars(select(VolunteerInvite)).one()
    assert code not in stored.code_hash
    assert len(stored.code_hash) == 64
    volunteer = redeem_invite(
        session=session, code=code.lower(), telegram_user_id=501, display_name="Chị Lan"
    )
    assert volunteer is not None
    assert volunteer.role == VolunteerRole.LEAD
    assert communes_of(session=session, volunteer_id=volunteer.id) == {"00004", "00008"}
    again = redeem_invite(session=session, code=code, telegram_user_id=502, display_name="Ai")
    assert again is None


def test_expired_and_unknown_codes_do_nothing(session: Session) -> None:
    old = create_invite(session=session, communes=["00004"], now=utcnow() - timedelta(days=8))
    assert redeem_invite(session=session, code=old, telegram_user_id=7, display_name="A") is None
    assert (
        redeem_invite(session=session, code="KHONGCO", telegram_user_id=7, display_name="A") is None
    )


def test_a_known_account_gets_the_communes_added(session: Session) -> None:
    known = add_volunteer(
        session=session, display_name="Anh Minh", communes=["00004"], telegram_user_id=900
    )
    code = create_invite(session=session, communes=["00008", "00004"])
    again = redeem_invite(session=session, code=code, telegram_user_id=900, display_name="Minh")
    assert again is not None
    assert again.id == known.id
    assert communes_of(session=session, volunteer_id=known.id) == {"00004", "00008"}
