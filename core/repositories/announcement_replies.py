"""Residents answering announcements: which announcement reached a resident (a "Hỏi thêm" id
is checked here, as a stranger can type one), the one their message soon after it answers,
and the `announcement_reply` event counted once per resident and announcement
(core/repositories/announcement_reach.py counts them).

Read from the delivery rows, by their resident index: nothing to set at delivery, restart-safe,
and gone with the resident (erasure moves their deliveries to an unlinkable id).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from core.models import MAX_ID, Announcement, Delivery, DeliveryStatus, Event, EventType
from core.repositories.events import record_event

REPLY_WINDOW = timedelta(hours=48)  # a message this soon after an announcement answers it
# Handed to the resident's channel (the platform's answer may still be on its way).
REACHED = (DeliveryStatus.QUEUED, DeliveryStatus.SENT)


def received(*, session: Session, resident_id: str, announcement_id: int) -> Announcement | None:
    """The announcement when it reached this resident; None for an unknown id or one that
    went to others only."""
    if not 0 < announcement_id <= MAX_ID:
        return None
    reached = exists().where(
        Delivery.announcement_id == announcement_id,
        Delivery.resident_id == resident_id,
        Delivery.status.in_(REACHED),
    )
    return session.scalars(
        select(Announcement).where(Announcement.id == announcement_id, reached)
    ).one_or_none()


def answered(*, session: Session, resident_id: str, channel: str, now: datetime) -> int | None:
    """The newest announcement sent to the resident on this channel in the last
    REPLY_WINDOW: the one a message from them now answers."""
    return session.scalars(
        select(Delivery.announcement_id)
        .where(
            Delivery.resident_id == resident_id,
            Delivery.channel == channel,
            Delivery.status == DeliveryStatus.SENT,
            Delivery.updated_at >= now - REPLY_WINDOW,
        )
        .order_by(Delivery.updated_at.desc(), Delivery.id.desc())
        .limit(1)
    ).first()


def record_reply(
    *,
    session: Session,
    resident_id: str,
    channel: str,
    commune_code: str | None,
    announcement_id: int,
) -> bool:
    """Record `announcement_reply` (key = the announcement's id) unless the resident's reply to
    it was counted already; True when recorded."""
    key = str(announcement_id)
    counted = session.scalar(
        select(
            exists().where(
                Event.resident_id == resident_id,
                Event.type == EventType.ANNOUNCEMENT_REPLY.value,
                Event.key == key,
            )
        )
    )
    if counted:
        return False
    record_event(
        session=session,
        type=EventType.ANNOUNCEMENT_REPLY,
        channel=channel,
        resident_id=resident_id,
        commune_code=commune_code,
        key=key,
    )
    return True
