"""Delivering approved announcements to subscribed residents (a supervised task of each
gateway, `AnnouncementWorker.run_forever`).

Every second: outcomes the outbox reported are written down (`announcement_sent`,
`announcement_failed`; a resident who blocked the Telegram bot is unsubscribed), due
announcements start, and each one being sent goes on. Its first round claims a delivery row
for every subscriber at once, in PostgreSQL (one INSERT … SELECT; one row per resident and
channel, made only once): the whole fan-out is queued there within seconds, and staff see how
many it targets. Each round then hands the oldest claimed rows of each channel to the outbox
(Telegram, Zalo) or the web mailbox, in one Redis transaction with a ledger of what was
handed over, and marks them queued. A gateway killed anywhere in between leaves claimed rows
that the next round (on any gateway) hands over again, and the ledger makes that a no-op for
those already handed over: each resident gets each announcement once per channel.

Channel rules: nothing between 21:00 and 07:00 Vietnam time except warnings; Zalo only where a
free message is allowed when its row is handed over (the 48 h window and its 8 replies,
`ZaloWindow`), the others are counted `unreachable`, never sent as paid messages; web
residents find it in their mailbox on their next visit. Announcements go to the outbox's bulk
stream, which takes only the sending capacity replies leave, and at most `backlog` of them
wait there per channel (the rest wait claimed in PostgreSQL), so a cancelled announcement
stops within seconds.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from redis.asyncio import Redis
from sqlalchemy.orm import Session

from bot.channels import telegram_wire, zalo
from bot.channels.web_mailbox import WebMailbox
from bot.desk.hours import DeskHours
from bot.messages import Button, OutboundMessage
from bot.outbox import Envelope, Outbox
from bot.tasks import stop_if_cancelled
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
    claimed_targets,
    fan_out,
    finish_if_done,
    sending,
    set_status,
    settle_deliveries,
    start_due,
)
from core.repositories.subscriptions import Unsubscribed, unsubscribe
from nlu.controls import ANNOUNCEMENT, payload

log = logging.getLogger(__name__)

WEB = "web"
CHANNELS = (telegram_wire.CHANNEL, zalo.CHANNEL, WEB)
SENDING_HOURS = DeskHours(time(7, 0), time(21, 0))  # Vietnam time; warnings go any time
TAG_PREFIX = "announcement:"
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


def ask_more(announcement_id: int | None) -> Button:
    """ "Hỏi thêm": a person of the commune's team, with the announcement on the ticket (a
    preview of an unsaved draft has no id yet: a plain request)."""
    if announcement_id is None:
        return Button(ASK_MORE_TITLE, payload("request_human"))
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


@dataclass(frozen=True)
class Dropped:
    """A claimed delivery row that cannot go: failed or unreachable, and why."""

    delivery_id: int
    status: DeliveryStatus
    reason: str


@dataclass
class AnnouncementWorker:
    """Sends announcements; `senders` are the channels whose outbox sender runs here."""

    outbox: Outbox
    mailbox: WebMailbox
    redis: Redis
    senders: frozenset[str]
    clock: Callable[[], datetime] = utcnow
    batch: int = 500  # claimed rows handed over per channel and round at most
    backlog: int = 300  # bulk messages waiting in a channel's outbox at most
    poll_seconds: float = 1.0
    _messages: dict[int, OutboundMessage] = field(default_factory=dict)
    _fanned_out: set[int] = field(default_factory=set)  # announcements claimed for here

    async def run_forever(self) -> None:
        while True:
            stop_if_cancelled()
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
            answers = [(int(o.tag.removeprefix(TAG_PREFIX)), o.reason) for o in outcomes]
            blocked = {i for i, reason in answers if reason == "blocked"}
            for delivery in settle_deliveries(session=session, outcomes=answers):
                if delivery.id in blocked:
                    unsubscribe(
                        session=session,
                        resident_id=delivery.resident_id,
                        channel=delivery.channel,
                        why=Unsubscribed.BLOCKED,
                    )

        await in_db(settle)
        await self.outbox.drop_outcomes(outcomes)
        return len(outcomes)

    async def _room(self, channel: str) -> int:
        """How many more of the channel's deliveries to hand over now."""
        if channel not in self.senders:  # the mailbox, or marked failed: no queue to fill
            return self.batch
        return min(self.batch, self.backlog - await self.outbox.pending(channel, bulk=True))

    async def advance(self, announcement: Announcement, now: datetime) -> None:
        """Claim a row for every subscriber (this gateway's first round of it), then hand
        over the oldest claimed rows of each channel, as many as it takes now. Once none is
        left: claim those who subscribed meanwhile, or finish."""
        if aware(announcement.expires_at) <= now:
            await in_db(lambda session: self._expire(session, announcement.id))
            return
        if in_quiet_hours(announcement, now):
            return
        if announcement.id not in self._fanned_out:
            await self._fan_out(announcement, now)
            self._fanned_out.add(announcement.id)
        more = False  # claimed rows may be left
        for channel in CHANNELS:
            room = await self._room(channel)
            if room <= 0:
                more = True
                continue
            claimed = await self._claimed(announcement.id, channel, room)
            more = more or bool(claimed)
            handed, dropped = await self._sort(announcement, claimed, now)
            await self.hand_over(announcement, handed, dropped)
        if more or await self._fan_out(announcement, now):
            return
        done = await in_db(
            lambda session: finish_if_done(session=session, announcement_id=announcement.id)
        )
        if done:
            log.info("announcement %d: every subscriber handed over", announcement.id)

    @staticmethod
    async def _fan_out(announcement: Announcement, now: datetime) -> int:
        made = await in_db(
            lambda session: fan_out(session=session, announcement=announcement, now=now)
        )
        if made:
            log.info("announcement %d: %d deliveries claimed", announcement.id, made)
        return made

    @staticmethod
    async def _claimed(
        announcement_id: int, channel: str, limit: int
    ) -> list[tuple[int, Target | None]]:
        return await in_db(
            lambda session: claimed_targets(
                session=session, announcement_id=announcement_id, channel=channel, limit=limit
            )
        )

    @staticmethod
    def _expire(session: Session, announcement_id: int) -> None:
        row = session.get(Announcement, announcement_id)
        if row is not None and row.status == AnnouncementStatus.SENDING:
            row.status, row.finished_at = AnnouncementStatus.SENT, utcnow()

    async def _sort(
        self,
        announcement: Announcement,
        claimed: Iterable[tuple[int, Target | None]],
        now: datetime,
    ) -> tuple[list[Handed], list[Dropped]]:
        """Claimed rows that can go now, and those that cannot: the subscription ended
        meanwhile, the channel does not run here, or Zalo allows no free message now."""
        window = zalo.ZaloWindow(self.redis)
        parts = len(channel_messages(zalo.CHANNEL, self._message(announcement)))
        handed: list[Handed] = []
        dropped: list[Dropped] = []
        for delivery_id, target in claimed:
            if target is None:
                dropped.append(Dropped(delivery_id, DeliveryStatus.FAILED, "unsubscribed"))
            elif target.channel != WEB and target.channel not in self.senders:
                dropped.append(Dropped(delivery_id, DeliveryStatus.FAILED, "channel_off"))
            elif target.channel == zalo.CHANNEL and (
                why := await window.closed_because(target.chat, needed=parts, now=now)
            ):
                reason = ZALO_REASONS.get(why, "zalo")
                dropped.append(Dropped(delivery_id, DeliveryStatus.UNREACHABLE, reason))
            else:
                handed.append(Handed(delivery_id, target))
        return handed, dropped

    def _message(self, announcement: Announcement) -> OutboundMessage:
        if announcement.id not in self._messages:
            self._messages[announcement.id] = render(announcement)
        return self._messages[announcement.id]

    async def hand_over(
        self, announcement: Announcement, handed: Sequence[Handed], dropped: Sequence[Dropped]
    ) -> None:
        """Into the outbox or the mailbox (once, by the ledger), then marked queued (web:
        sent, with its events); `dropped` rows are marked failed or unreachable."""
        if not handed and not dropped:
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
            by_outcome: dict[tuple[DeliveryStatus, str], list[int]] = defaultdict(list)
            for drop in dropped:
                by_outcome[drop.status, drop.reason].append(drop.delivery_id)
            for (status, reason), ids in by_outcome.items():
                set_status(
                    session=session,
                    delivery_ids=ids,
                    status=status,
                    only_from=DeliveryStatus.CLAIMED,
                    reason=reason,
                )
            # In the mailbox: the resident sees it on their next visit.
            settle_deliveries(session=session, outcomes=[(i, None) for i in posted])

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
