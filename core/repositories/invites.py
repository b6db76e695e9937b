"""One-time volunteer invitations: `cns volunteer invite` makes a code, `/dangky CODE` uses it.

Only the code's SHA-256 is stored; a code works once, before it expires.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session

from core.db import rowcount
from core.models import Volunteer, VolunteerInvite, VolunteerRole, utcnow
from core.repositories.volunteers import add_communes, add_volunteer, volunteer_by_telegram

DEFAULT_VALIDITY = timedelta(days=7)
# Unambiguous on a phone keyboard: no 0/O, 1/I/L.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8


def _digest(code: str) -> str:
    return hashlib.sha256(code.strip().upper().encode()).hexdigest()


def create_invite(
    *,
    session: Session,
    communes: Iterable[str],
    role: VolunteerRole = VolunteerRole.VOLUNTEER,
    validity: timedelta = DEFAULT_VALIDITY,
    now: datetime | None = None,
) -> str:
    """A new one-time code for the given communes; only its hash is stored."""
    now = now or utcnow()
    code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    session.add(
        VolunteerInvite(
            code_hash=_digest(code),
            communes=",".join(sorted(set(communes))),
            role=role,
            created_at=now,
            expires_at=now + validity,
        )
    )
    session.flush()
    return code


def redeem_invite(
    *,
    session: Session,
    code: str,
    telegram_user_id: int,
    display_name: str,
    now: datetime | None = None,
) -> Volunteer | None:
    """Register the Telegram user with the invite's communes; None for an unknown, used or
    expired code. A Telegram user already on the roster gets the communes added."""
    now = now or utcnow()
    invite = session.get(VolunteerInvite, _digest(code))
    if invite is None:
        return None
    taken = rowcount(
        session,
        update(VolunteerInvite)
        .where(
            VolunteerInvite.code_hash == invite.code_hash,
            VolunteerInvite.used_at.is_(None),
            VolunteerInvite.expires_at > now,
        )
        .values(used_at=now)
        # SQLite gives back naive times: let the database compare, not Python.
        .execution_options(synchronize_session=False),
    )
    if not taken:
        return None
    communes = [code for code in invite.communes.split(",") if code]
    volunteer = volunteer_by_telegram(session=session, telegram_user_id=telegram_user_id)
    if volunteer is None:
        volunteer = add_volunteer(
            session=session,
            display_name=display_name,
            communes=communes,
            telegram_user_id=telegram_user_id,
            role=VolunteerRole(invite.role),
        )
    else:
        add_communes(session=session, volunteer_id=volunteer.id, communes=communes)
    session.execute(
        update(VolunteerInvite)
        .where(VolunteerInvite.code_hash == invite.code_hash)
        .values(used_by=volunteer.id)
    )
    return volunteer
