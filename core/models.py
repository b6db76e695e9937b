"""SQLAlchemy 2 typed models. Alembic (core/migrations) is the only way the schema is made."""

from __future__ import annotations

import enum
import secrets
from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
# Row ids are BIGINT (SQLite's INTEGER is 64-bit too): a larger number names no row.
MAX_ID = 2**63 - 1


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_security_stamp() -> str:
    """A random value a web session is bound to (see `Volunteer.security_stamp`)."""
    return secrets.token_hex(16)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class EventType(enum.StrEnum):
    """Kinds of events; reports are built from these alone (see shared/design.md)."""

    MESSAGE_IN = "message_in"
    MESSAGE_OUT = "message_out"
    INTENT = "intent"
    FALLBACK = "fallback"
    SERVICE_STARTED = "service_started"
    SERVICE_STEP = "service_step"
    SERVICE_COMPLETED = "service_completed"
    SERVICE_STUCK = "service_stuck"
    LESSON_STARTED = "lesson_started"
    LESSON_COMPLETED = "lesson_completed"
    QUIZ_ANSWERED = "quiz_answered"
    HANDOFF_REQUESTED = "handoff_requested"
    HANDOFF_CLAIMED = "handoff_claimed"
    HANDOFF_RESOLVED = "handoff_resolved"
    HANDOFF_EXPIRED = "handoff_expired"
    CSAT = "csat"
    CONSENT_GIVEN = "consent_given"
    CONSENT_REFUSED = "consent_refused"
    DATA_ERASED = "data_erased"
    SCREEN_READ = "screen_read"  # key: the problem a screenshot shows (core.screen_match), or none
    SUBSCRIBED = "subscribed"  # key = channel
    UNSUBSCRIBED = "unsubscribed"  # key = why ("resident", "blocked", "unfollowed")
    ANNOUNCEMENT_SENT = "announcement_sent"  # key = announcement id
    ANNOUNCEMENT_FAILED = "announcement_failed"  # key = announcement id
    # A resident's message soon after an announcement reached them (key = announcement id)
    ANNOUNCEMENT_REPLY = "announcement_reply"


class Event(Base):
    """One append-only support metric. Never holds chat text or a channel account id."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_commune_time", "commune_code", "occurred_at"),
        Index("ix_events_type_time", "type", "occurred_at"),
        Index("ix_events_resident", "resident_id"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    commune_code: Mapped[str | None] = mapped_column(String(5))
    channel: Mapped[str] = mapped_column(String(16))
    resident_id: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(32))
    key: Mapped[str | None] = mapped_column(String(64))
    value: Mapped[float | None] = mapped_column(Float)
    ticket_id: Mapped[int | None] = mapped_column(BigInteger)
    # Rows made by `cns seed-demo`; reports say so when they include any.
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class FallbackText(Base):
    """The masked words of a message the bot did not understand, kept only when the resident
    consented, for the team's "top questions the bot missed" list. Erased with the resident and
    after RETENTION_DAYS; reports never show who wrote them."""

    __tablename__ = "fallback_texts"
    __table_args__ = (Index("ix_fallback_texts_commune_time", "commune_code", "occurred_at"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    event_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), index=True
    )  # the fallback event this text belongs to
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    commune_code: Mapped[str | None] = mapped_column(String(5))
    resident_id: Mapped[str] = mapped_column(String(64), index=True)
    text: Mapped[str] = mapped_column(String(500))
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class Staff(Base):
    """A commune or province officer who reads reports at /admin/reports: exactly one of
    `commune_code` (that commune) or `province_code` (every commune of the province)."""

    __tablename__ = "staff"
    __table_args__ = (
        CheckConstraint("(commune_code IS NULL) <> (province_code IS NULL)", name="one_scope"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(80))
    password_hash: Mapped[str] = mapped_column(String(255))
    commune_code: Mapped[str | None] = mapped_column(String(5))
    province_code: Mapped[str | None] = mapped_column(String(2))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # As Volunteer.security_stamp.
    security_stamp: Mapped[str] = mapped_column(String(32), default=new_security_stamp)


class Resident(Base):
    """A resident's profile, keyed by their pseudonymous id (never a channel account id).

    `consent` is None until the resident answers the privacy notice: True lets chat content be
    stored, False (or None) keeps only anonymous counters.
    """

    __tablename__ = "residents"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    commune_code: Mapped[str | None] = mapped_column(String(5))
    consent: Mapped[bool | None] = mapped_column(Boolean)
    consent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    consent_asked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    commune_asked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class FlowKind(enum.StrEnum):
    """What a resident can be part-way through."""

    SERVICE = "service"
    LESSON = "lesson"


class Progress(Base):
    """Where a resident is in one walkthrough or lesson, so they can leave and come back.

    `position` counts from 0: a guide's steps; a lesson's cards, then its quiz questions.
    `correct` counts right quiz answers in the current attempt; `completed_at` is None while an
    attempt is under way, and `times_completed` remembers finished attempts across restarts.
    """

    __tablename__ = "progress"
    __table_args__ = (UniqueConstraint("resident_id", "kind", "key", name="uq_progress_flow"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    resident_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(32))
    position: Mapped[int] = mapped_column(Integer, default=0)
    correct: Mapped[int] = mapped_column(Integer, default=0)
    times_completed: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class VolunteerRole(enum.StrEnum):
    VOLUNTEER = "volunteer"
    LEAD = "lead"


class Volunteer(Base):
    """A member of a commune's digital technology team who takes handoffs."""

    __tablename__ = "volunteers"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    display_name: Mapped[str] = mapped_column(String(80))
    telegram_user_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    role: Mapped[str] = mapped_column(String(16), default=VolunteerRole.VOLUNTEER)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Web desk sign-in (optional): a login name and a scrypt hash (core/passwords.py).
    username: Mapped[str | None] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    # Random, replaced with every new password: a web session carries the stamp it was opened
    # with, so a new password ends every session, and an account created later under a reused
    # id (SQLite) never accepts a removed account's session.
    security_stamp: Mapped[str] = mapped_column(String(32), default=new_security_stamp)


class VolunteerCommune(Base):
    """A commune whose tickets a volunteer may see and claim."""

    __tablename__ = "volunteer_communes"

    volunteer_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"),
        ForeignKey("volunteers.id", ondelete="CASCADE"),
        primary_key=True,
    )
    commune_code: Mapped[str] = mapped_column(String(5), primary_key=True)


class TicketState(enum.StrEnum):
    OPEN = "open"
    CLAIMED = "claimed"
    RESOLVED = "resolved"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


ACTIVE_TICKET_STATES = (TicketState.OPEN, TicketState.CLAIMED)


class TicketReason(enum.StrEnum):
    REQUEST_HUMAN = "request_human"
    STUCK = "stuck"  # stuck at a service step
    FALLBACK = "fallback"  # the two-stage fallback failed
    SCAM = "scam"  # urgent
    ANNOUNCEMENT = "announcement"  # "Hỏi thêm" under an announcement (ticket.announcement_id)


class Ticket(Base):
    """A resident handed to a volunteer of their commune. At most one open or claimed ticket
    per resident (a partial unique index). `channel_user_id` is kept only so that replies reach
    the resident; it is erased with the resident."""

    __tablename__ = "tickets"
    __table_args__ = (
        Index(
            "uq_tickets_active_resident",
            "resident_id",
            unique=True,
            postgresql_where=text("state IN ('open', 'claimed')"),
            sqlite_where=text("state IN ('open', 'claimed')"),
        ),
        Index("ix_tickets_commune_state", "commune_code", "state"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    resident_id: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16))
    channel_user_id: Mapped[str] = mapped_column(String(64))
    commune_code: Mapped[str | None] = mapped_column(String(5))
    reason: Mapped[str] = mapped_column(String(16))
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    service: Mapped[str | None] = mapped_column(String(32))
    step: Mapped[int | None] = mapped_column(Integer)
    summary: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(16), default=TicketState.OPEN)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    claimed_by: Mapped[int | None] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"),
        ForeignKey("volunteers.id", ondelete="SET NULL"),
    )
    rating: Mapped[int | None] = mapped_column(Integer)
    # The announcement the resident asked about ("Hỏi thêm" or a reply soon after it).
    announcement_id: Mapped[int | None] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"),
        ForeignKey("announcements.id", ondelete="SET NULL"),
    )
    # Service levels: the unclaimed-time clock starts at sla_from (the next desk opening when the
    # ticket came in out of hours); reminded/escalated mark the steps already taken, so the
    # timers survive a restart and run once across gateway replicas.
    sla_from: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    reminded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    escalated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class MessageAuthor(enum.StrEnum):
    RESIDENT = "resident"
    VOLUNTEER = "volunteer"
    BOT = "bot"
    NOTE = "note"  # a volunteer's internal note (typed with a leading //), never relayed


class MessageKind(enum.StrEnum):
    TEXT = "text"
    PHOTO = "photo"
    VOICE = "voice"
    DOCUMENT = "document"
    LOCATION = "location"
    STICKER = "sticker"


class TicketMessage(Base):
    """One message of a handoff conversation, stored (masked) before it is relayed.

    Files are kept as the channel's own reference (`file_ref`, e.g. a Telegram file id), never
    as bytes. Deleted with the resident's data, and `RETENTION_DAYS` after the ticket closed.
    """

    __tablename__ = "ticket_messages"
    __table_args__ = (Index("ix_ticket_messages_ticket", "ticket_id", "id"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    ticket_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"),
        ForeignKey("tickets.id", ondelete="CASCADE"),
    )
    author: Mapped[str] = mapped_column(String(16))
    volunteer_id: Mapped[int | None] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"),
        ForeignKey("volunteers.id", ondelete="SET NULL"),
    )
    kind: Mapped[str] = mapped_column(String(16), default=MessageKind.TEXT)
    text: Mapped[str] = mapped_column(Text, default="")
    file_ref: Mapped[str | None] = mapped_column(String(255))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    relayed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class DeskLink(Base):
    """The Telegram forum group that takes a commune's handoffs (`cns desk link`)."""

    __tablename__ = "desk_links"

    commune_code: Mapped[str] = mapped_column(String(5), primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)


class DeskTopic(Base):
    """Where a ticket lives in a Telegram desk group: our own topic routing."""

    __tablename__ = "desk_topics"
    __table_args__ = (UniqueConstraint("chat_id", "thread_id"),)

    ticket_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"),
        ForeignKey("tickets.id", ondelete="CASCADE"),
        primary_key=True,
    )
    chat_id: Mapped[int] = mapped_column(BigInteger)
    thread_id: Mapped[int] = mapped_column(BigInteger)
    card_message_id: Mapped[int | None] = mapped_column(BigInteger)


class VolunteerInvite(Base):
    """A one-time code (`cns volunteer invite`) a volunteer sends to the bot as /dangky CODE.
    Only the code's SHA-256 is stored."""

    __tablename__ = "volunteer_invites"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    communes: Mapped[str] = mapped_column(String(255))  # comma-separated commune codes
    role: Mapped[str] = mapped_column(String(16), default=VolunteerRole.VOLUNTEER)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    used_by: Mapped[int | None] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"),
        ForeignKey("volunteers.id", ondelete="SET NULL"),
    )


class InboundUpdate(Base):
    """Every update a channel delivered, stored before it is acknowledged; the unique key makes
    a retried webhook or a replayed update a no-op. The payload (which may hold chat text) is
    cleared once the update is processed; the key stays for deduplication."""

    __tablename__ = "inbound_updates"
    __table_args__ = (UniqueConstraint("channel", "update_key"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    channel: Mapped[str] = mapped_column(String(16))
    update_key: Mapped[str] = mapped_column(String(128))
    payload: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ChannelToken(Base):
    """A channel's current OAuth tokens (Zalo's refresh token works once: the new one must be
    kept the moment it is issued)."""

    __tablename__ = "channel_tokens"

    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    access_token: Mapped[str] = mapped_column(Text)
    refresh_token: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Subscription(Base):
    """A resident's opt-in to their commune's announcements on one channel. `channel_user_id`
    (the chat to send to) is kept only for that; the row goes with the resident's data."""

    __tablename__ = "subscriptions"

    resident_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    channel_user_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AnnouncementCategory(enum.StrEnum):
    DEADLINE = "deadline"
    EVENT = "event"
    WARNING = "warning"  # the only kind sent in quiet hours
    POLICY = "policy"


class AnnouncementStatus(enum.StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"
    SENDING = "sending"
    SENT = "sent"
    CANCELLED = "cancelled"


ANNOUNCEMENT_TEXT_LIMIT = 1000


class Announcement(Base):
    """A notice from commune or province staff to the subscribed residents of exactly one of
    `commune_code` (that commune) or `province_code` (every commune of the province)."""

    __tablename__ = "announcements"
    __table_args__ = (
        CheckConstraint("(commune_code IS NULL) <> (province_code IS NULL)", name="one_scope"),
        CheckConstraint(f"length(text) <= {ANNOUNCEMENT_TEXT_LIMIT}", name="text_length"),
        Index("ix_announcements_status_send_at", "status", "send_at"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    commune_code: Mapped[str | None] = mapped_column(String(5))
    province_code: Mapped[str | None] = mapped_column(String(2))
    title: Mapped[str] = mapped_column(String(120))
    text: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(500))
    category: Mapped[str] = mapped_column(String(16))
    send_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(16), default=AnnouncementStatus.DRAFT)
    author_id: Mapped[int | None] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"),
        ForeignKey("staff.id", ondelete="SET NULL"),
    )
    approver_id: Mapped[int | None] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"),
        ForeignKey("staff.id", ondelete="SET NULL"),
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AnnouncementCommune(Base):
    """The communes a province announcement was limited to (none: the whole province)."""

    __tablename__ = "announcement_communes"

    announcement_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"),
        ForeignKey("announcements.id", ondelete="CASCADE"),
        primary_key=True,
    )
    commune_code: Mapped[str] = mapped_column(String(5), primary_key=True)


class DeliveryStatus(enum.StrEnum):
    CLAIMED = "claimed"  # the row exists; handing it to the outbox may have been cut off
    QUEUED = "queued"  # in the outbox (or the web mailbox)
    SENT = "sent"  # the platform accepted it
    FAILED = "failed"  # refused or given up (reason says why)
    UNREACHABLE = "unreachable"  # no free message possible now (Zalo's 48 h window)


class Delivery(Base):
    """One announcement to one resident on one channel. The unique key is the claim: a row is
    made once, so a resident gets an announcement once per channel, across gateway restarts.
    On erasure the resident id is replaced like the events' (the counts stay)."""

    __tablename__ = "announcement_deliveries"
    __table_args__ = (
        UniqueConstraint("announcement_id", "resident_id", "channel", name="uq_delivery_once"),
        Index("ix_announcement_deliveries_status", "announcement_id", "status"),
        Index("ix_announcement_deliveries_resident", "resident_id"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    announcement_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"),
        ForeignKey("announcements.id", ondelete="CASCADE"),
    )
    resident_id: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.CLAIMED)
    reason: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
