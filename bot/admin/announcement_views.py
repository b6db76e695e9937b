"""What staff see of announcements, on the admin page (bot/admin/announcements.py) and in
`cns announce`: place, status, who wrote and approved each, what it allows the viewer to do,
what every channel will show (the preview) and how far it reached, as JSON-ready dicts (the
reasons in the monthly report's words, reports/labels.py).

Times staff type without an offset are Vietnam time; times given out are UTC ISO 8601.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.announcements import CATEGORY_LABELS, WEB, channel_messages, render
from bot.channels import telegram_wire, zalo
from bot.desk.hours import VIETNAM
from core.db import aware
from core.models import (
    Announcement,
    AnnouncementCategory,
    AnnouncementStatus,
    Staff,
)
from core.places import commune_by_code, province_by_code
from core.repositories.announcement_reach import Reach, reach
from core.repositories.announcements import (
    CANCELLABLE,
    AnnouncementRefused,
    chosen_communes,
    may_manage,
)
from reports.labels import DELIVERY_REASONS

DEFAULT_LIFETIME = timedelta(days=7)  # an announcement without an expiry stops after this
CHANNELS = ((telegram_wire.CHANNEL, "Telegram"), (zalo.CHANNEL, "Zalo"), (WEB, "Trang web"))
CATEGORIES = [{"value": c.value, "label": CATEGORY_LABELS[c]} for c in AnnouncementCategory]
STATUS_LABELS = {
    AnnouncementStatus.DRAFT: "Chờ duyệt",
    AnnouncementStatus.APPROVED: "Đã duyệt, chờ giờ gửi",
    AnnouncementStatus.SENDING: "Đang gửi",
    AnnouncementStatus.SENT: "Đã gửi xong",
    AnnouncementStatus.CANCELLED: "Đã hủy",
}
WAITING_FOR_SECOND = "Chờ một cán bộ khác duyệt (người soạn không tự duyệt được)."


def parse_time(value: str | None, *, what: str) -> datetime | None:
    """An ISO 8601 time typed by staff (`2026-12-05T08:00`, Vietnam time unless it carries an
    offset), in UTC; None when empty. AnnouncementRefused, naming `what`, when it is not a time."""
    if value is None or not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise AnnouncementRefused(
            f"{what} chưa đúng. Anh/chị nhập dạng năm-tháng-ngày giờ:phút, ví dụ 2026-12-05 08:00."
        ) from exc
    local = moment if moment.tzinfo else moment.replace(tzinfo=VIETNAM)
    return local.astimezone(UTC)  # stored as UTC (SQLite keeps no offset)


def draft_times(
    send_at: str | None, expires_at: str | None, *, now: datetime
) -> tuple[datetime, datetime]:
    """When it goes (now when not given) and when it stops (DEFAULT_LIFETIME later)."""
    sending = parse_time(send_at, what="Thời điểm gửi") or now
    ending = parse_time(expires_at, what="Thời điểm hết hạn") or sending + DEFAULT_LIFETIME
    return sending, ending


def _messages(channel: str, announcement: Announcement) -> list[dict[str, Any]]:
    return [
        {
            "text": piece.text,
            "buttons": [{"title": b.title, "payload": b.payload} for b in piece.buttons],
        }
        for piece in channel_messages(channel, render(announcement))
    ]


def preview(announcement: Announcement) -> list[dict[str, Any]]:
    """Exactly what Telegram, Zalo and the web chat send for it: each channel's messages, in
    order, with their buttons."""
    return [
        {"channel": channel, "name": name, "messages": _messages(channel, announcement)}
        for channel, name in CHANNELS
    ]


def _place(announcement: Announcement, chosen: Sequence[str]) -> dict[str, Any]:
    if announcement.commune_code is not None:
        commune = commune_by_code(announcement.commune_code)
        name = commune.label if commune else announcement.commune_code
        return {"kind": "commune", "code": announcement.commune_code, "name": name, "communes": []}
    code = announcement.province_code or ""
    province = province_by_code(code)
    communes = []
    for commune_code in chosen:
        commune = commune_by_code(commune_code)
        communes.append({"code": commune_code, "name": commune.name if commune else commune_code})
    return {
        "kind": "province",
        "code": code,
        "name": province.name if province else code,
        "communes": communes,
    }


def _reasons(counts: dict[str, int]) -> list[dict[str, Any]]:
    return [
        {"reason": reason, "label": DELIVERY_REASONS.get(reason, reason), "count": count}
        for reason, count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    ]


def _reach(found: Reach) -> dict[str, Any]:
    return found.as_dict() | {
        "failed_reasons": _reasons(found.failed),
        "unreachable_reasons": _reasons(found.unreachable),
    }


def _time(moment: datetime | None) -> str | None:
    return aware(moment).astimezone(UTC).isoformat() if moment else None


def describe(
    *,
    session: Session,
    announcements: Sequence[Announcement],
    viewer: Staff,
    second_person: bool,
) -> list[dict[str, Any]]:
    """Each announcement as the viewer sees it, with its reach and what they may do with it."""
    ids = [a.id for a in announcements]
    reached = reach(session=session, announcement_ids=ids)
    chosen = chosen_communes(session=session, announcement_ids=ids)
    people = {a.author_id for a in announcements} | {a.approver_id for a in announcements}
    named = select(Staff.id, Staff.display_name).where(Staff.id.in_(people))
    names = dict(session.execute(named).tuples().all())
    described = []
    for a in announcements:
        draft = a.status == AnnouncementStatus.DRAFT
        own = a.author_id == viewer.id
        manages = may_manage(viewer, a)
        described.append(
            {
                "id": a.id,
                "title": a.title,
                "text": a.text,
                "link": a.link,
                "category": a.category,
                "category_label": CATEGORY_LABELS[AnnouncementCategory(a.category)],
                "status": a.status,
                "status_label": STATUS_LABELS[AnnouncementStatus(a.status)],
                "place": _place(a, chosen.get(a.id, [])),
                "send_at": _time(a.send_at),
                "expires_at": _time(a.expires_at),
                "created_at": _time(a.created_at),
                "approved_at": _time(a.approved_at),
                "started_at": _time(a.started_at),
                "finished_at": _time(a.finished_at),
                "author": names.get(a.author_id) if a.author_id else None,
                "approver": names.get(a.approver_id) if a.approver_id else None,
                "mine": own,
                "may_approve": manages and draft and not (second_person and own),
                "may_cancel": manages and a.status in CANCELLABLE,
                "waiting": WAITING_FOR_SECOND if draft and second_person and own else None,
                "reach": _reach(reached[a.id]),
            }
        )
    return described
