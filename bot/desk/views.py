"""Plain snapshots of tickets and their messages, safe to hand between threads and to render
for volunteers (Telegram cards, the web desk's JSON)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from core.content.services import find_service_guide
from core.db import aware
from core.models import Announcement, Ticket, TicketMessage, TicketReason, TicketState, Volunteer
from core.places import commune_by_code

REASON_LABELS = {
    TicketReason.REQUEST_HUMAN: "Cần người hỗ trợ",
    TicketReason.STUCK: "Bị kẹt ở một bước",
    TicketReason.FALLBACK: "Bot chưa hiểu câu hỏi",
    TicketReason.SCAM: "Khẩn: nghi bị lừa đảo",
    TicketReason.ANNOUNCEMENT: "Hỏi thêm về thông báo",
}
STATE_LABELS = {
    TicketState.OPEN: "Chờ người nhận",
    TicketState.CLAIMED: "Đang hỗ trợ",
    TicketState.RESOLVED: "Đã xong",
    TicketState.EXPIRED: "Quá hạn, chưa ai nhận",
    TicketState.CANCELLED: "Đã huỷ",
}
NO_COMMUNE = "Chưa rõ xã"
CARD_LIMIT = 4096  # one Telegram message


def commune_name(code: str | None) -> str:
    commune = commune_by_code(code) if code else None
    return commune.label if commune else NO_COMMUNE


def place_of(code: str | None) -> str:
    """A commune as said to the resident ("xã, phường mình" when unknown)."""
    return commune_name(code) if code else "xã, phường mình"


@dataclass(frozen=True)
class AnnouncementView:
    """The announcement a ticket is about, as the resident received it."""

    id: int
    title: str
    text: str

    def as_dict(self) -> dict[str, object]:
        return {"id": self.id, "title": self.title, "text": self.text}


@dataclass(frozen=True)
class TicketView:
    id: int
    resident_id: str
    channel: str
    channel_user_id: str
    commune_code: str | None
    reason: TicketReason
    urgent: bool
    service: str | None
    step: int | None
    summary: str
    state: TicketState
    created_at: datetime
    sla_from: datetime
    claimed_at: datetime | None
    closed_at: datetime | None
    claimed_by: int | None
    claimer_name: str | None
    announcement: AnnouncementView | None = None

    @classmethod
    def of(cls, session: Session, ticket: Ticket) -> TicketView:
        claimer = session.get(Volunteer, ticket.claimed_by) if ticket.claimed_by else None
        about = (
            session.get(Announcement, ticket.announcement_id) if ticket.announcement_id else None
        )
        return cls(
            id=ticket.id,
            resident_id=ticket.resident_id,
            channel=ticket.channel,
            channel_user_id=ticket.channel_user_id,
            commune_code=ticket.commune_code,
            reason=TicketReason(ticket.reason),
            urgent=ticket.urgent,
            service=ticket.service,
            step=ticket.step,
            summary=ticket.summary,
            state=TicketState(ticket.state),
            created_at=aware(ticket.created_at),
            sla_from=aware(ticket.sla_from),
            claimed_at=aware(ticket.claimed_at) if ticket.claimed_at else None,
            closed_at=aware(ticket.closed_at) if ticket.closed_at else None,
            claimed_by=ticket.claimed_by,
            claimer_name=claimer.display_name if claimer else None,
            announcement=AnnouncementView(about.id, about.title, about.text) if about else None,
        )

    @property
    def commune_name(self) -> str:
        return commune_name(self.commune_code)

    @property
    def place(self) -> str:
        """The resident's commune as said to them."""
        return place_of(self.commune_code)

    @property
    def team(self) -> str:
        """Who the resident was handed to, for the resident: "Tổ công nghệ số Phường …"."""
        if self.commune_code is None:
            return "Tổ công nghệ số"
        return f"Tổ công nghệ số {self.commune_name}"

    @property
    def reason_label(self) -> str:
        return REASON_LABELS[self.reason]

    @property
    def state_label(self) -> str:
        return STATE_LABELS[self.state]

    @property
    def service_label(self) -> str | None:
        guide = find_service_guide(self.service)
        if guide is None:
            return None
        return f"{guide.name}, bước {self.step}" if self.step else guide.name

    def title(self) -> str:
        """The forum topic's name: number, commune, reason (Telegram allows 128 characters)."""
        return f"#{self.id} · {self.commune_name} · {self.reason_label}"[:128]

    def card(self) -> str:
        """What a volunteer reads before claiming (one Telegram message: a summary too long
        for it is cut at the end)."""
        lines = [f"Yêu cầu #{self.id} — {self.reason_label}", f"Xã: {self.commune_name}"]
        if self.service_label:
            lines.append(f"Thủ tục: {self.service_label}")
        if self.announcement:
            lines += ["", f"Thông báo đã gửi: {self.announcement.title}", self.announcement.text]
        if self.summary:
            lines += ["", self.summary]
        card = "\n".join(lines)
        return card if len(card) <= CARD_LIMIT else card[: CARD_LIMIT - 1] + "…"


@dataclass(frozen=True)
class MessageView:
    id: int
    ticket_id: int
    author: str
    author_name: str | None
    kind: str
    text: str
    file_ref: str | None
    latitude: float | None
    longitude: float | None
    created_at: datetime

    @classmethod
    def of(cls, session: Session, message: TicketMessage) -> MessageView:
        volunteer = session.get(Volunteer, message.volunteer_id) if message.volunteer_id else None
        return cls(
            id=message.id,
            ticket_id=message.ticket_id,
            author=message.author,
            author_name=volunteer.display_name if volunteer else None,
            kind=message.kind,
            text=message.text,
            file_ref=message.file_ref,
            latitude=message.latitude,
            longitude=message.longitude,
            created_at=aware(message.created_at),
        )
