"""Announcements from commune and province staff, and their deliveries to subscribed residents.

A draft is approved (by a second staff member unless that step is switched off) and becomes
due at `send_at`; the gateway's worker (bot/announcements.py) moves it to `sending`, claims one
delivery row per subscribed resident and channel (the unique row is the claim: a resident gets
an announcement once per channel, whichever gateway sends it and however often it restarts),
and records `announcement_sent` / `announcement_failed` as the platforms answer.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import DateTime, and_, exists, literal, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from core.db import aware, rowcount
from core.models import (
    ANNOUNCEMENT_TEXT_LIMIT,
    Announcement,
    AnnouncementCategory,
    AnnouncementCommune,
    AnnouncementStatus,
    Delivery,
    DeliveryStatus,
    Event,
    EventType,
    Resident,
    Staff,
    Subscription,
    utcnow,
)
from core.places import commune_by_code, communes, province_by_code
from core.repositories.staff import may_see, may_see_province

TITLE_LIMIT = 120
LINK_LIMIT = 500
CANCELLABLE = (AnnouncementStatus.DRAFT, AnnouncementStatus.APPROVED, AnnouncementStatus.SENDING)


class AnnouncementRefused(ValueError):
    """The request cannot be done; the message (Vietnamese) says why, for the staff member."""


class AnnouncementNotFound(AnnouncementRefused):
    """No such announcement, or not one the staff member may manage (the same to them)."""


@dataclass(frozen=True)
class Draft:
    """What a staff member writes: exactly one of `commune_code` or `province_code`; a province
    announcement may be limited to some of its `communes` (none: the whole province)."""

    title: str
    text: str
    category: str
    send_at: datetime
    expires_at: datetime
    link: str | None = None
    commune_code: str | None = None
    province_code: str | None = None
    communes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Target:
    """One subscription an announcement goes to."""

    resident_id: str
    channel: str
    chat: str
    commune_code: str | None


def _check_content(*, title: str, text: str, link: str | None, category: str) -> None:
    """What residents will read: within the limits (AnnouncementRefused says which not)."""
    if not title.strip() or len(title) > TITLE_LIMIT:
        raise AnnouncementRefused(f"Tiêu đề cần có, dài tối đa {TITLE_LIMIT} ký tự.")
    if not text.strip() or len(text) > ANNOUNCEMENT_TEXT_LIMIT:
        raise AnnouncementRefused(f"Nội dung cần có, dài tối đa {ANNOUNCEMENT_TEXT_LIMIT} ký tự.")
    if link and (len(link) > LINK_LIMIT or not link.startswith("https://")):
        raise AnnouncementRefused("Đường dẫn phải bắt đầu bằng https:// (tối đa 500 ký tự).")
    if category not in set(AnnouncementCategory):
        raise AnnouncementRefused("Loại thông báo không hợp lệ.")


def unsaved(*, title: str, text: str, link: str | None, category: str) -> Announcement:
    """The announcement residents would read, checked but not saved (what staff preview)."""
    _check_content(title=title, text=text, link=link, category=category)
    return Announcement(
        title=title.strip(), text=text.strip(), link=link or None, category=category
    )


def _check_reach(draft: Draft, author: Staff) -> None:
    """When and where: times in order, a place the author is responsible for."""
    if aware(draft.expires_at) <= aware(draft.send_at):
        raise AnnouncementRefused("Thời điểm hết hạn phải sau thời điểm gửi.")
    if aware(draft.expires_at) <= utcnow():
        raise AnnouncementRefused("Thời điểm hết hạn đã qua. Anh/chị chọn một thời điểm sắp tới.")
    if (draft.commune_code is None) == (draft.province_code is None):
        raise AnnouncementRefused("Chọn một xã/phường hoặc cả tỉnh.")
    if draft.commune_code is not None:
        if commune_by_code(draft.commune_code) is None or not may_see(author, draft.commune_code):
            raise AnnouncementRefused("Anh/chị không phụ trách xã/phường này.")
    elif draft.province_code is None or province_by_code(draft.province_code) is None:
        raise AnnouncementRefused("Không có tỉnh này.")
    elif not may_see_province(author, draft.province_code):
        raise AnnouncementRefused("Chỉ cán bộ của tỉnh gửi được thông báo cho cả tỉnh.")
    if draft.communes and draft.province_code is None:
        raise AnnouncementRefused("Chỉ thông báo của tỉnh mới chọn được các xã/phường.")
    for code in draft.communes:
        commune = commune_by_code(code)
        if commune is None or commune.province.code != draft.province_code:
            raise AnnouncementRefused(f"Xã/phường mã {code} không thuộc tỉnh này.")


def create_announcement(*, session: Session, author: Staff, draft: Draft) -> Announcement:
    """A new draft, checked against the limits and the author's scope."""
    announcement = unsaved(
        title=draft.title, text=draft.text, link=draft.link, category=draft.category
    )
    _check_reach(draft, author)
    announcement.send_at = draft.send_at
    announcement.expires_at = draft.expires_at
    announcement.commune_code = draft.commune_code
    announcement.province_code = draft.province_code
    announcement.status = AnnouncementStatus.DRAFT
    announcement.author_id = author.id
    session.add(announcement)
    session.flush()
    session.add_all(
        AnnouncementCommune(announcement_id=announcement.id, commune_code=code)
        for code in sorted(set(draft.communes))
    )
    session.flush()
    return announcement


def chosen_communes(*, session: Session, announcement_ids: Sequence[int]) -> dict[int, list[str]]:
    """The communes each province announcement was limited to, by code (an announcement sent
    to the whole province, or a commune's, has no entry)."""
    chosen: dict[int, list[str]] = {}
    rows = session.execute(
        select(AnnouncementCommune.announcement_id, AnnouncementCommune.commune_code)
        .where(AnnouncementCommune.announcement_id.in_(announcement_ids))
        .order_by(AnnouncementCommune.announcement_id, AnnouncementCommune.commune_code)
    ).tuples()
    for announcement_id, code in rows:
        chosen.setdefault(announcement_id, []).append(code)
    return chosen


def may_manage(staff: Staff, announcement: Announcement) -> bool:
    """Commune staff: their commune's announcements; province staff: the province's and its
    communes'."""
    if announcement.commune_code is not None:
        return may_see(staff, announcement.commune_code)
    return may_see_province(staff, announcement.province_code or "")


def get_announcement(
    *, session: Session, announcement_id: int, staff: Staff, lock: bool = False
) -> Announcement:
    """The announcement, when the staff member may manage it; with `lock`, its row is locked
    until the transaction ends (a change never crosses the worker's)."""
    announcement = session.get(Announcement, announcement_id, with_for_update=lock)
    if announcement is None or not may_manage(staff, announcement):
        raise AnnouncementNotFound("Không tìm thấy thông báo này.")
    return announcement


def list_announcements(*, session: Session, staff: Staff) -> list[Announcement]:
    """The announcements the staff member may manage, newest first."""
    if staff.commune_code is not None:
        where = Announcement.commune_code == staff.commune_code
    else:
        province = staff.province_code or ""
        codes = [c.code for c in communes() if c.province.code == province]
        where = (Announcement.province_code == province) | Announcement.commune_code.in_(codes)
    return list(session.scalars(select(Announcement).where(where).order_by(Announcement.id.desc())))


def approve_announcement(
    *, session: Session, announcement_id: int, approver: Staff, second_person: bool
) -> Announcement:
    """Draft → approved; with `second_person` (ANNOUNCEMENT_APPROVAL) never by its author."""
    announcement = get_announcement(
        session=session, announcement_id=announcement_id, staff=approver, lock=True
    )
    if announcement.status != AnnouncementStatus.DRAFT:
        raise AnnouncementRefused("Chỉ duyệt được bản nháp.")
    if aware(announcement.expires_at) <= utcnow():
        raise AnnouncementRefused("Thông báo này đã quá hạn, không duyệt được nữa.")
    if second_person and announcement.author_id == approver.id:
        raise AnnouncementRefused("Cần một cán bộ khác duyệt thông báo này.")
    announcement.status = AnnouncementStatus.APPROVED
    announcement.approver_id = approver.id
    announcement.approved_at = utcnow()
    session.flush()
    return announcement


def cancel_announcement(*, session: Session, announcement_id: int, staff: Staff) -> Announcement:
    """Stop it, also while sending: the deliveries claimed but not handed over fail with reason
    `cancelled` (the few already in the outbox, at most the worker's backlog, still go)."""
    announcement = get_announcement(
        session=session, announcement_id=announcement_id, staff=staff, lock=True
    )
    if announcement.status not in CANCELLABLE:
        raise AnnouncementRefused("Thông báo này đã gửi xong hoặc đã hủy.")
    now = utcnow()
    announcement.status = AnnouncementStatus.CANCELLED
    announcement.finished_at = now
    session.execute(
        update(Delivery)
        .where(
            Delivery.announcement_id == announcement_id,
            Delivery.status == DeliveryStatus.CLAIMED,
        )
        .values(status=DeliveryStatus.FAILED, reason="cancelled", updated_at=now),
        execution_options={"synchronize_session": False},
    )
    session.flush()
    return announcement


def start_due(*, session: Session, now: datetime) -> int:
    """Approved announcements whose time came move to `sending` (the conditional UPDATE runs
    once across gateways); approved ones that expired first are cancelled. How many started."""
    rowcount(
        session,
        update(Announcement)
        .where(Announcement.status == AnnouncementStatus.APPROVED, Announcement.expires_at <= now)
        .values(status=AnnouncementStatus.CANCELLED, finished_at=now),
    )
    return rowcount(
        session,
        update(Announcement)
        .where(Announcement.status == AnnouncementStatus.APPROVED, Announcement.send_at <= now)
        .values(status=AnnouncementStatus.SENDING, started_at=now),
    )


def sending(*, session: Session) -> Sequence[Announcement]:
    return session.scalars(
        select(Announcement)
        .where(Announcement.status == AnnouncementStatus.SENDING)
        .order_by(Announcement.send_at, Announcement.id)
    ).all()


def target_communes(*, session: Session, announcement: Announcement) -> list[str]:
    """Where its residents live: its commune, the province's chosen communes, or every commune
    of the province."""
    if announcement.commune_code is not None:
        return [announcement.commune_code]
    chosen = chosen_communes(session=session, announcement_ids=[announcement.id])
    return chosen.get(announcement.id) or [
        c.code for c in communes() if c.province.code == announcement.province_code
    ]


def _no_delivery_yet(announcement_id: int) -> object:
    return ~exists().where(
        Delivery.announcement_id == announcement_id,
        Delivery.resident_id == Subscription.resident_id,
        Delivery.channel == Subscription.channel,
    )


def unclaimed_targets(*, session: Session, announcement: Announcement, limit: int) -> list[Target]:
    """Subscriptions in the announcement's communes (where the residents live now) that have
    no delivery row yet."""
    rows = session.execute(
        select(
            Subscription.resident_id,
            Subscription.channel,
            Subscription.channel_user_id,
            Resident.commune_code,
        )
        .join(Resident, Resident.id == Subscription.resident_id)
        .where(
            Resident.commune_code.in_(target_communes(session=session, announcement=announcement)),
            _no_delivery_yet(announcement.id),  # type: ignore[arg-type]
        )
        .order_by(Subscription.resident_id, Subscription.channel)
        .limit(limit)
    ).tuples()
    return [Target(*row) for row in rows]


def fan_out(*, session: Session, announcement: Announcement, now: datetime) -> int:
    """Claim a delivery row for every subscription in the announcement's communes that has
    none yet, in one INSERT … SELECT … ON CONFLICT DO NOTHING run by the database (100,000
    rows in about a second; only their ids come back); how many were made."""
    stamp = literal(now, DateTime(timezone=True))
    chosen = (
        select(
            literal(announcement.id),
            Subscription.resident_id,
            Subscription.channel,
            literal(DeliveryStatus.CLAIMED.value),
            stamp,
            stamp,
        )
        .join(Resident, Resident.id == Subscription.resident_id)
        .where(
            Resident.commune_code.in_(target_communes(session=session, announcement=announcement)),
            _no_delivery_yet(announcement.id),  # type: ignore[arg-type]
        )
    )
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    columns = ["announcement_id", "resident_id", "channel", "status", "created_at", "updated_at"]
    statement = (
        insert(Delivery)
        .from_select(columns, chosen)
        .on_conflict_do_nothing(index_elements=["announcement_id", "resident_id", "channel"])
        .returning(Delivery.id)
    )
    return len(session.scalars(statement).all())


def claimed_targets(
    *, session: Session, announcement_id: int, channel: str | None = None, limit: int | None = None
) -> list[tuple[int, Target | None]]:
    """Delivery rows still `claimed` (not yet handed to the outbox or the mailbox), oldest
    first: all of them, or those of `channel`, at most `limit` (chosen before the joins: a
    few among 100,000 in milliseconds): (delivery id, the subscription now, or None when it
    ended)."""
    where = [
        Delivery.announcement_id == announcement_id,
        Delivery.status == DeliveryStatus.CLAIMED,
    ]
    if channel is not None:
        where.append(Delivery.channel == channel)
    oldest = (
        select(Delivery.id, Delivery.resident_id, Delivery.channel)
        .where(*where)
        .order_by(Delivery.id)
        .limit(limit)
        .subquery()
    )
    rows = session.execute(
        select(
            oldest.c.id,
            oldest.c.resident_id,
            oldest.c.channel,
            Subscription.channel_user_id,
            Resident.commune_code,
        )
        .select_from(oldest)
        .outerjoin(
            Subscription,
            and_(
                Subscription.resident_id == oldest.c.resident_id,
                Subscription.channel == oldest.c.channel,
            ),
        )
        .outerjoin(Resident, Resident.id == oldest.c.resident_id)
        .order_by(oldest.c.id)
    ).tuples()
    return [
        (i, None if chat is None else Target(resident, channel, chat, commune))
        for i, resident, channel, chat, commune in rows
    ]


def set_status(
    *,
    session: Session,
    delivery_ids: Sequence[int],
    status: DeliveryStatus,
    only_from: DeliveryStatus,
    reason: str | None = None,
) -> int:
    """Move these deliveries from `only_from` to `status` (a row already moved on stays)."""
    if not delivery_ids:
        return 0
    return rowcount(
        session,
        update(Delivery)
        .where(Delivery.id.in_(delivery_ids), Delivery.status == only_from)
        .values(status=status, reason=reason, updated_at=utcnow()),
    )


class Settled(NamedTuple):
    """A delivery the platform answered for."""

    id: int
    announcement_id: int
    resident_id: str
    channel: str


def settle_deliveries(
    *, session: Session, outcomes: Sequence[tuple[int, str | None]]
) -> list[Settled]:
    """The platform's answers for queued deliveries — (delivery id, None when it accepted the
    message, else why not) — in a statement per kind of answer: each moves to sent or failed
    once and records `announcement_sent` / `announcement_failed` then. The deliveries moved
    now (one settled before is not among them)."""
    by_reason: dict[str | None, list[int]] = defaultdict(list)
    for delivery_id, reason in outcomes:
        by_reason[reason].append(delivery_id)
    settled: list[Settled] = []
    for reason, ids in by_reason.items():
        sent = reason is None
        moved = [
            Settled(*row)
            for row in session.execute(
                update(Delivery)
                .where(Delivery.id.in_(ids), Delivery.status == DeliveryStatus.QUEUED)
                .values(
                    status=DeliveryStatus.SENT if sent else DeliveryStatus.FAILED,
                    reason=reason,
                    updated_at=utcnow(),
                )
                .returning(
                    Delivery.id, Delivery.announcement_id, Delivery.resident_id, Delivery.channel
                ),
                execution_options={"synchronize_session": False},
            ).tuples()
        ]
        record_delivery_events(session=session, deliveries=moved, sent=sent)
        settled += moved
    return settled


def record_delivery_events(*, session: Session, deliveries: Sequence[Settled], sent: bool) -> None:
    """`announcement_sent` / `announcement_failed` (key = announcement id) for these rows, with
    each resident's commune."""
    if not deliveries:
        return
    kind = EventType.ANNOUNCEMENT_SENT if sent else EventType.ANNOUNCEMENT_FAILED
    ids = {d.resident_id for d in deliveries}
    homes = dict(
        session.execute(select(Resident.id, Resident.commune_code).where(Resident.id.in_(ids)))
        .tuples()
        .all()
    )
    now = utcnow()
    session.add_all(
        Event(
            type=kind.value,
            channel=d.channel,
            resident_id=d.resident_id,
            commune_code=homes.get(d.resident_id),
            key=str(d.announcement_id),
            occurred_at=now,
        )
        for d in deliveries
    )
    session.flush()


def finish_if_done(*, session: Session, announcement_id: int) -> bool:
    """`sending` → `sent` once every target has a row and none is still only claimed."""
    announcement = session.get(Announcement, announcement_id)
    if announcement is None or announcement.status != AnnouncementStatus.SENDING:
        return False
    if unclaimed_targets(session=session, announcement=announcement, limit=1):
        return False
    pending = session.scalar(
        select(Delivery.id)
        .where(
            Delivery.announcement_id == announcement_id, Delivery.status == DeliveryStatus.CLAIMED
        )
        .limit(1)
    )
    if pending is not None:
        return False
    return bool(
        rowcount(
            session,
            update(Announcement)
            .where(
                Announcement.id == announcement_id,
                Announcement.status == AnnouncementStatus.SENDING,
            )
            .values(status=AnnouncementStatus.SENT, finished_at=utcnow()),
        )
    )


def unlink_deliveries(*, session: Session, resident_id: str, anonymous_id: str) -> int:
    """Erasure: the resident's deliveries move to the erasure's anonymous id (counts stay)."""
    return rowcount(
        session,
        update(Delivery)
        .where(Delivery.resident_id == resident_id)
        .values(resident_id=anonymous_id),
    )
