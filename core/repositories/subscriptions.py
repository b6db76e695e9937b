"""Residents' subscriptions to their commune's announcements, one per channel: made only with
consent and a known commune, ended by the resident or by the channel (a blocked bot)."""

from __future__ import annotations

import enum

from sqlalchemy import delete
from sqlalchemy.orm import Session

from core.db import rowcount
from core.models import EventType, Subscription
from core.repositories.events import record_event
from core.repositories.residents import get_resident


class Subscribed(enum.StrEnum):
    """What `subscribe` did."""

    NEW = "new"
    ALREADY = "already"
    NO_CONSENT = "no_consent"  # nothing stored: the privacy notice comes first
    NO_COMMUNE = "no_commune"  # nothing stored: whose announcements would it be?


class Unsubscribed(enum.StrEnum):
    """Why a subscription ended (the `unsubscribed` event's key)."""

    RESIDENT = "resident"
    BLOCKED = "blocked"  # the Telegram bot was blocked (403)
    UNFOLLOWED = "unfollowed"  # the Zalo OA was unfollowed


def subscribe(
    *, session: Session, resident_id: str, channel: str, channel_user_id: str
) -> Subscribed:
    """Subscribe the resident on this channel; records `subscribed` (key = channel) when new."""
    resident = get_resident(session=session, resident_id=resident_id)
    if resident is None or not resident.consent:
        return Subscribed.NO_CONSENT
    if resident.commune_code is None:
        return Subscribed.NO_COMMUNE
    existing = session.get(Subscription, (resident_id, channel))
    if existing is not None:
        existing.channel_user_id = channel_user_id
        session.flush()
        return Subscribed.ALREADY
    session.add(
        Subscription(resident_id=resident_id, channel=channel, channel_user_id=channel_user_id)
    )
    record_event(
        session=session,
        type=EventType.SUBSCRIBED,
        channel=channel,
        resident_id=resident_id,
        commune_code=resident.commune_code,
        key=channel,
    )
    return Subscribed.NEW


def unsubscribe(
    *, session: Session, resident_id: str, channel: str, why: Unsubscribed = Unsubscribed.RESIDENT
) -> bool:
    """End the subscription; records `unsubscribed` (key = why) when there was one."""
    gone = rowcount(
        session,
        delete(Subscription).where(
            Subscription.resident_id == resident_id, Subscription.channel == channel
        ),
    )
    if not gone:
        return False
    resident = get_resident(session=session, resident_id=resident_id)
    record_event(
        session=session,
        type=EventType.UNSUBSCRIBED,
        channel=channel,
        resident_id=resident_id,
        commune_code=resident.commune_code if resident else None,
        key=why.value,
    )
    return True


def is_subscribed(*, session: Session, resident_id: str, channel: str) -> bool:
    return session.get(Subscription, (resident_id, channel)) is not None


def drop_subscriptions(*, session: Session, resident_id: str) -> int:
    """Delete every subscription of the resident (erasure: no event, data_erased says it)."""
    return rowcount(session, delete(Subscription).where(Subscription.resident_id == resident_id))
