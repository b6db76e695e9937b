"""Delivering approved announcements to subscribed residents (a supervised task of each
gateway, `AnnouncementWorker.run_forever`).

Every few seconds: outcomes the outbox reported are written down (`announcement_sent`,
`announcement_failed`; a resident who blocked the Telegram bot is unsubscribed), due
announcements start, and each one being sent gets its next batch. A batch is claimed in
PostgreSQL first — one delivery row per resident and channel, made only once — then handed to
the outbox (Telegram, Zalo) or the web mailbox in one Redis transaction with a ledger of what
was handed over, then marked queued. A gateway killed anywhere in between leaves claimed rows
that the next round (on any gateway) hands over again, and the ledger makes that a no-op for
those already handed over: each resident gets each announcement once per channel.

Channel rules: nothing between 21:00 and 07:00 Vietnam time except warnings; Zalo only where a
free message is allowed now (the 48 h window and its 8 replies, `ZaloWindow`), the others are
counted `unreachable`, never sent as paid messages; web residents find it in their mailbox on
their next visit. Announcements go to the outbox's bulk stream, which takes only the sending
capacity replies leave, and at most `backlog` of them wait there per channel, so a cancelled
announcement stops within seconds.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from redis.asyncio import Redis
from sqlalchemy.orm import Session

from bot.channels import telegram_wire, zalo
from bot.channels.web_mailbox import WebMailbox
from bot.desk.hours import DeskHours
from bot.messages import Button, OutboundMessage
from bot.outbox import Envelope, Outbox
from core.db import aware, in_db
from core.models import (
    Announcement,
    AnnouncementCategory,
    AnnouncementStatus,
    DeliveryStatus,
    utcnow,
)
from core.repositories.announcements import (
    Target,
    claim_deliveries,
    claimed_targets,
    finish_if_done,
    sending,
    set_status,
    settle_delivery,
    start_due,
    unclaimed_targets,
)
from core.repositories.subscriptions import Unsubscribed, unsubscribe
from nlu.controls import ANNOUNCEMENT, payload

log = logging.getLogger(__name__)

WEB = "web"
SENDING_HOURS = DeskHours(time(7, 0), time(21, 0))  # Vietnam time; warnings go any time
TAG_PREFIX = "announcement:"
STALE_CLAIM = timedelta(seconds=15)  # a claimed row this old lost its gateway on the way
LEDGER_SLACK = timedelta(days=2)  # the ledger outlives the announcement by this
ASK_MORE_TITLE = "Hỏi thêm"
STOP = Button("Hủy nhận thông báo", "/unsubscribe_announcements")
CATEGORY_LABELS = {
    AnnouncementCategory.DEADLINE: "⏰ Hạn chót",
    AnnouncementCategory.EVENT: "📅 Sự kiện",
    AnnouncementCategory.WARNING: "⚠️ Cảnh báo",
    AnnouncementCategory.POLICY: "📜 Chính sách",
}
ZALO_REASONS = {zalo.OUTSIDE_WINDOW: "zalo_48h", zalo.OUT_OF_REPLIES: "zalo_replies"}


def ask_more(announcement_id: int) -> Button:
    """ "Hỏi thêm": a person of the commune's team, with the announcement on the ticket."""
    return Button(ASK_MORE_TITLE, payload("request_human", **{ANNOUNCEMENT: str(announcement_id)}))


def render(announcement: Announcement) -> OutboundMessage:
    """The announcement as one message with its two buttons (the same on every channel)."""
    label = CATEGORY_LABELS.get(AnnouncementCategory(announcement.category), "")
    parts = [f"{label} · Thông báo của xã/phường\n{announcement.title}", announcement.text]
    if announcement.link:
        parts.append(f"Xem thêm: {announcement.link}")
    return OutboundMessage("\n\n".join(parts), (ask_more(announcement.id), STOP))


def channel_messages(channel: str, message: OutboundMessage) -> list[OutboundMessage]:
    """The messages one channel sends for it (what staff preview)."""
    if channel == telegram_wire.CHANNEL:
        return telegram_wire.pieces(message)
    if channel == zalo.CHANNEL:
        return zalo.pieces([message])
    return [message]


def ledger_key(namespace: str, announcement: Announcement) -> str:
    """The Redis ledger of what was handed over for this announcement: named by its id and its
    creation time, so a database whose ids start again (restored, or a test's) never meets an
    older announcement's ledger."""
    created = int(aware(announcement.created_at).timestamp() * 1000)
    return f"{namespace}:announced:{announcement.id}:{created}"


def in_quiet_hours(announcement: Announcement, now: datetime) -> bool:
    if announcement.category == AnnouncementCategory.WARNING:
        return False
    return not SENDING_HOURS.is_open(now)


@dataclass(frozen=True)
class Handed:
    """A delivery row claimed for a target, on its way to the resident."""

    delivery_id: int
    target: Target


@dataclass
class AnnouncementWorker:
    """Sends announcements; `senders` are the channels whose outbox sender runs here."""

    outbox: Outbox
    mailbox: WebMailbox
    redis: Redis
    senders: frozenset[str]
    clock: Callable[[], datetime] = utcnow
    batch: int = 500
    backlog: int = 300  # bulk messages waiting in a channel's outbox at most
    poll_seconds: float = 1.0
    _messages: dict[int, OutboundMessage] = field(default_factory=dict)

    async def run_forever(self) -> None:
        while True:
            await self.step()
            await asyncio.sleep(self.poll_seconds)

    async def step(self) -> None:
        """One round: outcomes, due announcements, the next batch of each being sent."""
        await self.settle_outcomes()
        now = self.clock()
        started = await in_db(lambda session: start_due(session=session, now=now))
        if started:
            log.info("announcements: %d started", started)
        for announcement in await in_db(lambda session: list(sending(session=session))):
            await self.advance(announcement, now)

    async def settle_outcomes(self) -> int:
        """Write down what the outbox reported about announcement messages."""
        outcomes = [o for o in await self.outbox.read_outcomes() if o.tag.startswith(TAG_PREFIX)]
        if not outcomes:
            return 0

        def settle(session: Session) -> None:
            for outcome in outcomes:
                delivery = settle_delivery(
                    session=session,
                    delivery_id=int(outcome.tag.removeprefix(TAG_PREFIX)),
                    sent=outcome.reason is None,
                    reason=outcome.reason,
                )
                if delivery is not None and outcome.reason == "blocked":
                    unsubscribe(
                        session=session,
                        resident_id=delivery.resident_id,
                        channel=delivery.channel,
                        why=Unsubscribed.BLOCKED,
                    )

        await in_db(settle)
        await self.outbox.drop_outcomes(outcomes)
        return len(outcomes)

    async def _room(self) -> int:
        """How many more announcement messages the outboxes take now."""
        waiting = [await self.outbox.pending(c, bulk=True) for c in sorted(self.senders)]
        return min([self.batch, *(self.backlog - n for n in waiting)])

    async def advance(self, announcement: Announcement, now: datetime) -> None:
        """Hand over what a stopped gateway left claimed, then claim and hand over the next
        batch; finish when nothing is left."""
        if aware(announcement.expires_at) <= now:
            await in_db(lambda session: self._expire(session, announcement.id))
            return
        if in_quiet_hours(announcement, now):
            return
        stale = await in_db(
            lambda session: claimed_targets(
                session=session, announcement_id=announcement.id, older_than=now - STALE_CLAIM
            )
        )
        gone = [delivery_id for delivery_id, target in stale if target is None]
        await self.hand_over(
            announcement, [Handed(i, t) for i, t in stale if t is not None], gone=gone
        )
        room = await self._room()
        if room > 0:
            targets = await in_db(
                lambda session: unclaimed_targets(
                    session=session, announcement=announcement, limit=room
                )
            )
            await self.hand_over(announcement, await self._claim(announcement, targets, now))
        done = await in_db(
            lambda session: finish_if_done(session=session, announcement_id=announcement.id)
        )
        if done:
            log.info("announcement %d: every subscriber handed over", announcement.id)

    @staticmethod
    def _expire(session: Session, announcement_id: int) -> None:
        row = session.get(Announcement, announcement_id)
        if row is not None and row.status == AnnouncementStatus.SENDING:
            row.status, row.finished_at = AnnouncementStatus.SENT, utcnow()

    async def _claim(
        self, announcement: Announcement, targets: Sequence[Target], now: datetime
    ) -> list[Handed]:
        """Make the delivery rows: claimed where the message can go, unreachable (Zalo outside
        its free window) or failed (channel not running) where it cannot."""
        window = zalo.ZaloWindow(self.redis)
        parts = len(channel_messages(zalo.CHANNEL, self._message(announcement)))
        rows: list[tuple[Target, str, str | None]] = []
        for target in targets:
            status, reason = DeliveryStatus.CLAIMED, None
            if target.channel != WEB and target.channel not in self.senders:
                status, reason = DeliveryStatus.FAILED, "channel_off"
            elif target.channel == zalo.CHANNEL:
                why = await window.closed_because(target.chat, needed=parts, now=now)
                if why is not None:
                    status, reason = DeliveryStatus.UNREACHABLE, ZALO_REASONS.get(why, "zalo")
            rows.append((target, status, reason))
        by_key = {(t.resident_id, t.channel): t for t in targets}
        claimable = {(t.resident_id, t.channel) for t, s, _ in rows if s == DeliveryStatus.CLAIMED}
        made = await in_db(
            lambda session: claim_deliveries(
                session=session, announcement_id=announcement.id, targets=rows, now=now
            )
        )
        return [Handed(i, by_key[key]) for key, i in made.items() if key in claimable]

    def _message(self, announcement: Announcement) -> OutboundMessage:
        if announcement.id not in self._messages:
            self._messages[announcement.id] = render(announcement)
        return self._messages[announcement.id]

    async def hand_over(
        self, announcement: Announcement, handed: Sequence[Handed], gone: Sequence[int] = ()
    ) -> None:
        """Into the outbox or the mailbox (once, by the ledger), then marked queued (web:
        sent, with its events); `gone` rows (unsubscribed meanwhile) are marked failed."""
        if not handed and not gone:
            return
        message = self._message(announcement)
        ledger = ledger_key(self.outbox.namespace, announcement)
        seconds = int((aware(announcement.expires_at) - utcnow() + LEDGER_SLACK).total_seconds())
        by_channel: dict[str, list[Handed]] = defaultdict(list)
        for item in handed:
            by_channel[item.target.channel].append(item)
        web = by_channel.pop(WEB, [])
        batches = [
            (str(item.delivery_id), self._envelopes(item, message))
            for items in by_channel.values()
            for item in items
        ]
        await self.outbox.put_once(ledger, batches, seconds)
        await self.mailbox.post_once(
            ledger, [(str(i.delivery_id), i.target.chat, message) for i in web], seconds
        )
        queued = [item.delivery_id for items in by_channel.values() for item in items]
        posted = [item.delivery_id for item in web]

        def mark(session: Session) -> None:
            set_status(
                session=session,
                delivery_ids=queued + posted,
                status=DeliveryStatus.QUEUED,
                only_from=DeliveryStatus.CLAIMED,
            )
            set_status(
                session=session,
                delivery_ids=list(gone),
                status=DeliveryStatus.FAILED,
                only_from=DeliveryStatus.CLAIMED,
                reason="unsubscribed",
            )
            for delivery_id in posted:  # in the mailbox: the resident sees it on their visit
                settle_delivery(session=session, delivery_id=delivery_id, sent=True)

        await in_db(mark)

    @staticmethod
    def _envelopes(item: Handed, message: OutboundMessage) -> list[Envelope]:
        target = item.target
        parts = channel_messages(target.channel, message)
        tag = f"{TAG_PREFIX}{item.delivery_id}"
        return [
            Envelope(
                target.channel,
                target.chat,
                part,
                bulk=True,
                tag=tag if n == len(parts) else None,
            )
            for n, part in enumerate(parts, start=1)
        ]
