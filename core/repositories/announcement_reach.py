"""How far each announcement reached: what staff see on its admin page and what the monthly
report's announcements section counts. Counts only, never people.

- targeted: delivery rows made (one per subscribed resident and channel)
- sent / failed (by reason) / unreachable (by reason, e.g. outside Zalo's free window) / pending
- unsubscribed: residents it reached who stopped their subscription within UNSUBSCRIBE_WINDOW
  of its start
- replies: residents who wrote back soon after it (`announcement_reply` events)
- handoffs: tickets opened about it ("Hỏi thêm", or asking for a person while replying)

With `communes`, only the residents of those communes count (a commune's monthly report): a
delivery belongs to the commune stamped on its `announcement_sent` / `announcement_failed`
event, else (no event: unreachable, pending, failed before sending) the resident's commune now,
else (the resident erased their data) the commune on their `data_erased` event; replies and
unsubscriptions to the commune stamped on their events, handoffs to the ticket's commune.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    and_,
    cast,
    distinct,
    func,
    or_,
    select,
    true,
)
from sqlalchemy.orm import Session

from core.models import (
    Announcement,
    Delivery,
    DeliveryStatus,
    Event,
    EventType,
    Resident,
    Ticket,
)

UNSUBSCRIBE_WINDOW = timedelta(days=7)


@dataclass
class Reach:
    """One announcement's outcome so far."""

    targeted: int = 0
    sent: int = 0
    failed: Counter[str] = field(default_factory=Counter)  # reason → deliveries
    unreachable: Counter[str] = field(default_factory=Counter)  # reason → deliveries
    pending: int = 0  # claimed or queued, no answer from the platform yet
    unsubscribed: int = 0
    replies: int = 0
    handoffs: int = 0

    def as_dict(self) -> dict[str, object]:
        return {
            "targeted": self.targeted,
            "sent": self.sent,
            "failed": sum(self.failed.values()),
            "failed_by_reason": dict(sorted(self.failed.items())),
            "unreachable": sum(self.unreachable.values()),
            "unreachable_by_reason": dict(sorted(self.unreachable.items())),
            "pending": self.pending,
            "unsubscribed": self.unsubscribed,
            "replies": self.replies,
            "handoffs": self.handoffs,
        }


def reach(
    *,
    session: Session,
    announcement_ids: Sequence[int],
    communes: Collection[str] | None = None,
) -> dict[int, Reach]:
    """The reach of each of these announcements (every id gets an entry), among the residents
    of `communes` when given."""
    found = {i: Reach() for i in announcement_ids}
    if not found:
        return found
    ids = list(found)
    keys = [str(i) for i in ids]
    deliveries = (
        select(Delivery.announcement_id, Delivery.status, Delivery.reason, func.count())
        .where(Delivery.announcement_id.in_(ids))
        .group_by(Delivery.announcement_id, Delivery.status, Delivery.reason)
    )
    if communes is not None:
        deliveries = _in_communes(deliveries, keys, communes)
    statuses = session.execute(deliveries).tuples()
    for announcement_id, status, reason, count in statuses:
        one = found[announcement_id]
        one.targeted += count
        if status == DeliveryStatus.SENT:
            one.sent += count
        elif status == DeliveryStatus.FAILED:
            one.failed[reason or "unknown"] += count
        elif status == DeliveryStatus.UNREACHABLE:
            one.unreachable[reason or "unknown"] += count
        else:
            one.pending += count

    starts = session.execute(
        select(Announcement.id, Announcement.started_at).where(Announcement.id.in_(ids))
    ).tuples()
    windows = [
        and_(
            Delivery.announcement_id == announcement_id,
            Event.occurred_at >= started,
            Event.occurred_at < started + UNSUBSCRIBE_WINDOW,
        )
        for announcement_id, started in starts
        if started is not None
    ]
    if windows:  # one query for all: each announcement's week after its start
        unsubscribed = session.execute(
            select(Delivery.announcement_id, func.count(distinct(Delivery.resident_id)))
            .join(Event, Event.resident_id == Delivery.resident_id)
            .where(
                Delivery.announcement_id.in_(ids),
                Delivery.status == DeliveryStatus.SENT,
                Event.type == EventType.UNSUBSCRIBED.value,
                or_(*windows),
                _among(Event.commune_code, communes),
            )
            .group_by(Delivery.announcement_id)
        ).tuples()
        for announcement_id, count in unsubscribed:
            found[announcement_id].unsubscribed = count

    replies = session.execute(
        select(Event.key, func.count(distinct(Event.resident_id)))
        .where(
            Event.type == EventType.ANNOUNCEMENT_REPLY.value,
            Event.key.in_(keys),
            _among(Event.commune_code, communes),
        )
        .group_by(Event.key)
    ).tuples()
    for key, count in replies:
        if key is not None:
            found[int(key)].replies = count

    handoffs = session.execute(
        select(Ticket.announcement_id, func.count())
        .where(Ticket.announcement_id.in_(ids), _among(Ticket.commune_code, communes))
        .group_by(Ticket.announcement_id)
    ).tuples()
    for ticket_announcement, count in handoffs:
        if ticket_announcement is not None:
            found[ticket_announcement].handoffs = count
    return found


def _in_communes(query: Select[Any], keys: list[str], communes: Collection[str]) -> Select[Any]:
    """`query` over `Delivery` limited to the deliveries that count in `communes` (see the
    module's docstring): three outer joins, each to a table or a small grouped set."""
    settled = (
        select(
            Event.resident_id,
            Event.channel,
            Event.key,
            func.max(Event.commune_code).label("commune"),
        )
        .where(
            Event.type.in_(
                [EventType.ANNOUNCEMENT_SENT.value, EventType.ANNOUNCEMENT_FAILED.value]
            ),
            Event.key.in_(keys),
        )
        .group_by(Event.resident_id, Event.channel, Event.key)
        .subquery()
    )
    erased = (
        select(Event.resident_id, func.max(Event.commune_code).label("commune"))
        .where(Event.type == EventType.DATA_ERASED.value)
        .group_by(Event.resident_id)
        .subquery()
    )
    home = func.coalesce(settled.c.commune, Resident.commune_code, erased.c.commune)
    return (
        query.outerjoin(
            settled,
            and_(
                settled.c.resident_id == Delivery.resident_id,
                settled.c.channel == Delivery.channel,
                settled.c.key == cast(Delivery.announcement_id, String),
            ),
        )
        .outerjoin(Resident, Resident.id == Delivery.resident_id)
        .outerjoin(erased, erased.c.resident_id == Delivery.resident_id)
        .where(home.in_(list(communes)))
    )


def _among(commune: Any, communes: Collection[str] | None) -> ColumnElement[bool]:
    return true() if communes is None else commune.in_(list(communes))
