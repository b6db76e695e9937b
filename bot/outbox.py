"""The outbox: every message to a Telegram or Zalo chat goes through a persistent, paced queue.

Messages are appended to a Redis stream per channel (`outbox:<channel>`; with REDIS_URL unset
the in-process stand-in keeps them only while the process lives). One gateway at a time is
the channel's sender (a Redis lease), so the order of each chat is kept across replicas. The
sender keeps each chat's messages in order and paces them: at most one message per
`per_chat_interval` to a chat, `group_per_minute` to a group (all forum topics of a group
share it), and `global_per_second` in all. The platform counts messages when they reach it,
which the network (or a busy machine) delays unevenly, so evenly spaced sends can reach it
bunched: a send also waits until fewer than `global_per_second` could have reached it in the
last second (sends finished within it, and those still under way). That bound holds whatever
the delays; its price is the round trip: at most `global_per_second` per (1 s + round trip),
about 29 a second at the few milliseconds of a nearby server, 25 at 200 ms.

A message is removed from the stream only after the platform accepted it; a 429
(`retry_after`) or a 5xx/network error retries it later with backoff, and a permanent
refusal, or `max_attempts` failures, moves it to `outbox:dead` (a dead-letter stream
operators can read). A restarted sender first re-sends what the previous
one had read but not finished (the stream's pending entries), in order.

Work that answers one inbound update can `hold` its messages: they are appended together, in
one transaction that also sets a marker, so after a crash the inbox knows whether that update
was already answered (`bot/inbox.py`) and never answers it twice.

A stopping sender (the gateway shutting down on SIGTERM: a restart, a deploy) starts no new
send and lets those under way finish and be removed first. A message whose send succeeded but
whose removal was cut off by a crash (SIGKILL, a power cut) is sent again on restart: delivery
to the platform is at least once, with that one window (the round trip of the message in
flight; Telegram and Zalo take no idempotency key, so nobody can tell afterwards whether it
arrived).

Bulk messages (announcements, `Envelope.bulk`) have a stream of their own,
`outbox:<channel>:bulk`, read only a little at a time (`BULK_AHEAD`) and sent only in the
slots no conversation reply wants: they share the pacing budget and take the spare capacity, so
residents' answers are never starved, and leave `Limits.bulk_reserve` of each second free (a
reply goes at once; a send made outside the stream with `direct` fits). A message with a
`tag` reports what became of it (sent, or refused and why) on `outbox:outcomes`, in the
same transaction that removes it, for its producer to read (bot/announcements.py).
`put_once` appends a producer's batches exactly once across restarts (a ledger of what was
appended, kept in the same transaction).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import math
import secrets
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from redis.asyncio import Redis
from redis.exceptions import ResponseError, WatchError

from bot.messages import Attachment, Button, OutboundMessage
from bot.tasks import stop_if_cancelled
from core.models import MessageKind
from core.outages import is_outage

log = logging.getLogger(__name__)

GROUP = "senders"
CONSUMER = "sender"  # one sender per channel at a time (the lease), so one consumer name
# A dead gateway's lease runs out this fast, so a surviving replica takes over its channel
# within LEASE_SECONDS + LEASE_SECONDS / 3 (renewed every LEASE_SECONDS / 3).
LEASE_SECONDS = 3
IDLE_POLL = 0.2  # seconds between looks at the stream when nothing is due
BULK_AHEAD = 64  # bulk messages read into a sender's queues at most (the rest wait in Redis)
DRAIN_SECONDS = 5.0  # a stopping sender waits this long for the sends under way to finish

T = TypeVar("T")


class RetryLater(Exception):
    """The platform asked to wait (429) or failed for now (5xx, network)."""

    def __init__(self, seconds: float | None = None, reason: str = "") -> None:
        super().__init__(reason or f"retry after {seconds}s")
        self.seconds = seconds


class Refused(Exception):
    """The platform refused the message for good (bad request, blocked by the user)."""

    outcome = "refused"  # the reason reported for a tagged message


class Blocked(Refused):
    """The resident blocked the bot (Telegram 403): nothing more can reach them there."""

    outcome = "blocked"


class Superseded(Exception):
    """A guarded `Outbox.hold` appended nothing: its work now belongs to another replica, or
    the marker was set meanwhile (the work was done elsewhere)."""


@dataclass(frozen=True)
class Guard:
    """A `hold` appends only while Redis key `key` holds `value` (the claim of one replica)."""

    key: str
    value: str


@dataclass(frozen=True)
class Envelope:
    """One message to one chat (or forum topic) of a channel."""

    channel: str
    chat: str
    message: OutboundMessage
    thread: int | None = None
    group: bool = False  # a group chat: counts against the per-group limit
    bulk: bool = False  # an announcement: sent only in slots no reply wants
    tag: str | None = None  # its outcome is reported on the outcomes stream

    def dumps(self) -> str:
        attachment = self.message.attachment
        return json.dumps(
            {
                "channel": self.channel,
                "chat": self.chat,
                "thread": self.thread,
                "group": self.group,
                "bulk": self.bulk,
                "tag": self.tag,
                "text": self.message.text,
                "buttons": [[b.title, b.payload] for b in self.message.buttons],
                "attachment": None
                if attachment is None
                else [attachment.kind, attachment.ref, attachment.latitude, attachment.longitude],
            },
            ensure_ascii=False,
        )

    @classmethod
    def loads(cls, raw: str) -> Envelope:
        data = json.loads(raw)
        attachment = data["attachment"]
        return cls(
            channel=data["channel"],
            chat=data["chat"],
            thread=data["thread"],
            group=data["group"],
            bulk=data.get("bulk", False),
            tag=data.get("tag"),
            message=OutboundMessage(
                data["text"],
                tuple(Button(title, payload) for title, payload in data["buttons"]),
                None
                if attachment is None
                else Attachment(MessageKind(attachment[0]), *attachment[1:]),
            ),
        )


class Transport(Protocol):
    """Delivers one envelope on its platform; raises RetryLater or Refused."""

    async def deliver(self, envelope: Envelope) -> None: ...


@dataclass(frozen=True)
class Limits:
    """Telegram's flood limits, with a margin: we time our sends, Telegram times their
    arrival, and the network moves each by a few milliseconds."""

    per_chat_interval: float = 1.05
    group_per_minute: int = 20
    global_per_second: int = 30
    margin: float = 1.03  # the windows (1 s, 60 s) are stretched by this factor
    # Of `global_per_second`, what bulk messages leave free: for replies arriving meanwhile
    # (they go at once instead of waiting for the second to turn) and for the sends made
    # outside the stream (`Outbox.direct`: a ticket's card, which another replica may send).
    bulk_reserve: int = 1
    max_attempts: int = 8
    max_backoff: float = 60.0


Ref = tuple[str, str]  # (stream, entry id)


@dataclass(frozen=True)
class Outcome:
    """What became of a tagged message: `reason` is None when the platform accepted it, else
    "blocked", "refused", "gave_up" (retries exhausted) or "error"."""

    entry: str  # its id on the outcomes stream
    tag: str
    reason: str | None


@dataclass
class _Chat:
    queue: deque[tuple[Ref, Envelope]] = field(default_factory=deque)
    ready_at: float = 0.0
    attempts: int = 0
    busy: bool = False
    sent_at: deque[float] = field(default_factory=deque)  # a group's sends, its last minute


@dataclass
class _Held:
    """Messages put while one piece of work runs; queued together when it ends."""

    envelopes: list[Envelope] = field(default_factory=list)
    open: bool = True


_HELD: ContextVar[_Held | None] = ContextVar("outbox_held", default=None)


@dataclass
class Outbox:
    """Put messages in with `put`; `run(channel, transport)` sends them."""

    redis: Redis
    limits: Limits = field(default_factory=Limits)
    clock: Callable[[], float] = time.monotonic
    namespace: str = "outbox"  # key prefix (tests use their own)
    delivered: dict[str, set[Ref]] = field(default_factory=dict)  # by channel: see _Sender
    senders: dict[str, _Sender] = field(default_factory=dict)  # running here, by channel

    def stream(self, channel: str) -> str:
        return f"{self.namespace}:{channel}"

    def bulk_stream(self, channel: str) -> str:
        return f"{self.namespace}:{channel}:bulk"

    def stream_of(self, envelope: Envelope) -> str:
        return (self.bulk_stream if envelope.bulk else self.stream)(envelope.channel)

    @property
    def outcomes(self) -> str:
        return f"{self.namespace}:outcomes"

    @property
    def dead_letters(self) -> str:
        return f"{self.namespace}:dead"

    async def put(self, envelope: Envelope) -> None:
        """Append to the channel's stream (persisted when this returns), or, inside `hold`, to
        the held messages."""
        held = _HELD.get()
        if held is not None and held.open:
            held.envelopes.append(envelope)
            return
        await self.redis.xadd(self.stream_of(envelope), {"e": envelope.dumps()})

    async def put_once(
        self, ledger: str, batches: Sequence[tuple[str, Sequence[Envelope]]], seconds: int
    ) -> int:
        """Append each (key, envelopes) batch unless Redis hash `ledger` already names its key,
        and name it there, in one transaction: a producer that stopped after appending and
        before recording that elsewhere appends nothing twice when it tries again. How many
        batches were appended now."""
        if not batches:
            return 0
        keys = [key for key, _ in batches]
        while True:
            async with self.redis.pipeline(transaction=True) as pipe:
                await pipe.watch(ledger)
                seen = await pipe.hmget(ledger, keys)
                pipe.multi()  # type: ignore[no-untyped-call]
                fresh = [batch for batch, done in zip(batches, seen, strict=True) if done is None]
                for _, envelopes in fresh:
                    for envelope in envelopes:
                        pipe.xadd(self.stream_of(envelope), {"e": envelope.dumps()})
                pipe.hset(ledger, mapping=dict.fromkeys(keys, "1"))
                pipe.expire(ledger, seconds)
                try:
                    await pipe.execute()
                except WatchError:
                    continue  # another producer wrote meanwhile: look again
                return len(fresh)

    async def read_outcomes(self, count: int = 500) -> list[Outcome]:
        """The oldest reported outcomes (left there until `drop_outcomes`)."""
        entries: list[tuple[str, dict[str, str]]] = await self.redis.xrange(  # type: ignore[assignment]
            self.outcomes, count=count
        )
        return [
            Outcome(entry, fields["tag"], fields.get("why") or None)
            for entry, fields in entries
            if "tag" in fields
        ]

    async def drop_outcomes(self, outcomes: Sequence[Outcome]) -> None:
        if outcomes:
            await self.redis.xdel(self.outcomes, *(o.entry for o in outcomes))

    @contextlib.asynccontextmanager
    async def hold(
        self, marker: str, seconds: int, guard: Guard | None = None
    ) -> AsyncIterator[None]:
        """Messages put inside are appended when the block ends, in one transaction that sets
        `marker` for `seconds` (also when the block fails: what was said is sent). A cancelled
        block (the gateway stopping) appends nothing: its work is done again after a restart.
        Tasks the block started that put later append directly. With a `guard`, the append
        happens only if the guard still holds and `marker` is not set (checked in the same
        transaction); else nothing is appended and `Superseded` is raised."""
        held = _Held()
        token = _HELD.set(held)
        try:
            yield
        except Exception as exc:
            if is_outage(exc):  # PostgreSQL or Redis was down: the work will be done again
                held.open = False
                raise
            await self._append(held, marker, seconds, guard)
            raise
        else:
            await self._append(held, marker, seconds, guard)
        finally:
            _HELD.reset(token)
            held.open = False

    async def _append(self, held: _Held, marker: str, seconds: int, guard: Guard | None) -> None:
        held.open = False
        async with self.redis.pipeline(transaction=True) as pipe:
            if guard is not None:
                await pipe.watch(guard.key, marker)
                if await pipe.get(guard.key) != guard.value or await pipe.exists(marker):
                    raise Superseded(marker)
                pipe.multi()  # type: ignore[no-untyped-call]
            for envelope in held.envelopes:
                pipe.xadd(self.stream_of(envelope), {"e": envelope.dumps()})
            pipe.set(marker, "1", ex=seconds)
            try:
                await pipe.execute()
            except WatchError:
                raise Superseded(marker) from None

    async def send_all(
        self, channel: str, chat: str, messages: list[OutboundMessage], **where: Any
    ) -> None:
        for message in messages:
            await self.put(Envelope(channel, chat, message, **where))

    async def direct(
        self, channel: str, call: Callable[[], Awaitable[T]], *, group: str | None = None
    ) -> T:
        """Make a platform call outside the stream (one whose answer the caller needs at once,
        such as the first message of a forum topic, whose id is kept), to group chat `group`
        if it goes to one: when this process sends the channel's stream, the call waits for a
        slot as a reply would and is counted with the stream's sends (and the group's); else
        (another replica sends) it goes at once, within the margin bulk messages leave
        (`Limits.bulk_reserve`)."""
        sender = self.senders.get(channel)
        if sender is None:
            return await call()
        return await sender.direct(call, group)

    async def pending(self, channel: str, *, bulk: bool = False) -> int:
        """Messages (or bulk messages) not yet accepted by the platform."""
        stream = self.bulk_stream(channel) if bulk else self.stream(channel)
        return int(await self.redis.xlen(stream))

    async def run(self, channel: str, transport: Transport) -> None:
        """Send the channel's messages for as long as this task lives. A Redis error ends it
        (the supervisor, bot/tasks.py, starts it again): its chat queues are rebuilt from the
        stream, and the consumer group is made again if Redis lost it."""
        sender = _Sender(self, channel, transport)
        await sender.run()


class _Sender:
    """The channel's single active sender: reads the stream, paces, retries, acknowledges."""

    def __init__(self, outbox: Outbox, channel: str, transport: Transport) -> None:
        self.outbox = outbox
        self.channel = channel
        self.redis = outbox.redis
        self.limits = outbox.limits
        self.clock = outbox.clock
        self.key = outbox.stream(channel)
        self.bulk_key = outbox.bulk_stream(channel)
        self.transport = transport
        self.chats: dict[str, _Chat] = {}  # by chat: a group's topics share one queue
        self.forget_at = 0.0  # when `_forget_idle` looks next
        self.next_send = 0.0  # the earliest moment of the next send (even spacing)
        self.finished: deque[float] = deque()  # when sends ended, the last second or so
        self.under_way = 0  # sends waiting for the platform's answer
        self.token = secrets.token_hex(8)
        self.in_flight: set[asyncio.Task[None]] = set()
        self.wake = asyncio.Event()
        # Sent but not yet removed from the stream (Redis failed in between): kept by the
        # Outbox, so that a restarted sender removes them instead of sending them again.
        self.delivered = outbox.delivered.setdefault(channel, set())

    async def run(self) -> None:
        self.outbox.senders[self.channel] = self
        try:
            await self._run()
        finally:
            if self.outbox.senders.get(self.channel) is self:
                del self.outbox.senders[self.channel]
            await self._drain()
            await self._release_lease()

    async def _drain(self) -> None:
        """Stopped (the gateway shutting down, or Redis failed): no new send starts; those
        under way get DRAIN_SECONDS to finish and be removed from the stream, so that a
        restart does not send them again. One still unanswered then is dropped, its entry
        left for the next sender (sent again: the at-least-once window)."""
        if not self.in_flight:
            return
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await asyncio.shield(asyncio.wait(set(self.in_flight), timeout=DRAIN_SECONDS))
        for task in self.in_flight:
            task.cancel()

    async def direct(self, call: Callable[[], Awaitable[T]], group: str | None) -> T:
        """A call outside the stream, in the first free slot (before any waiting message)."""
        while True:
            now = self.clock()
            # Looked up each time: while this waits, an idle group may be forgotten.
            chat = None if group is None else self.chats.setdefault(group, _Chat())
            due = max(self.next_send, self._second_free_at(now))
            if chat is not None:
                due = max(due, self._group_free_at(chat, now))
            if due <= now:
                break
            await asyncio.sleep(min(due - now, IDLE_POLL))
        self._take_slot(now, chat)
        try:
            return await self._counted(call)
        finally:
            self.wake.set()

    async def _run(self) -> None:
        await self._ensure_group()
        while True:
            stop_if_cancelled()
            if not await self._hold_lease():
                # Another gateway sends now: what this one had read is its business (kept
                # here, a later lease would send entries the other one already sent).
                self.chats = {chat: c for chat, c in self.chats.items() if c.busy}
                for chat in self.chats.values():  # only the send under way is still ours
                    chat.queue = deque(itertools.islice(chat.queue, 1))
                await asyncio.sleep(LEASE_SECONDS / 3)
                continue
            await self._read("0")  # what a previous sender read but did not finish
            lease_until = time.monotonic() + LEASE_SECONDS / 3
            while time.monotonic() < lease_until:
                stop_if_cancelled()
                await self._read(">")
                self._dispatch()
                self.wake.clear()  # set when a send finishes
                # Not `asyncio.wait_for`: in Python 3.11 a stop (cancel) that comes as a send
                # finishes is lost in it, and the sender runs on.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._wait()):
                        await self.wake.wait()

    async def _ensure_group(self) -> None:
        for key in (self.key, self.bulk_key):
            try:
                await self.redis.xgroup_create(key, GROUP, id="0", mkstream=True)
            except ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise

    async def _hold_lease(self) -> bool:
        lease = f"{self.key}:lease"
        if await self.redis.set(lease, self.token, nx=True, ex=LEASE_SECONDS):
            return True
        if await self.redis.get(lease) == self.token:
            await self.redis.expire(lease, LEASE_SECONDS)
            return True
        return False

    async def _release_lease(self) -> None:
        """Let another gateway take over at once (a lease left behind expires by itself)."""
        lease = f"{self.key}:lease"
        with contextlib.suppress(Exception):
            if await self.redis.get(lease) == self.token:
                await self.redis.delete(lease)

    def _forget_idle(self) -> None:
        """Drop the chats with nothing queued, no send under way and no pacing left to keep
        (at most once a second): an announcement to 100,000 residents would otherwise leave
        100,000 of them for every turn of the loop to walk through."""
        now = self.clock()
        if now < self.forget_at:
            return
        self.forget_at = now + 1.0
        group_window = now - 60.0 * self.limits.margin
        self.chats = {
            key: chat
            for key, chat in self.chats.items()
            if chat.queue
            or chat.busy
            or chat.ready_at > now
            or (chat.sent_at and chat.sent_at[-1] > group_window)
        }

    async def _read(self, start: str) -> None:
        """Take new entries (`>`) or this sender's unfinished ones (`0`) into the chat queues:
        replies, then bulk messages while fewer than BULK_AHEAD are queued here. Never blocks
        in Redis: the loop polls (at most IDLE_POLL apart when idle)."""
        self._forget_idle()
        queued = [ref for chat in self.chats.values() for ref, _ in chat.queue]
        known = set(queued)
        bulk_room = BULK_AHEAD - sum(1 for stream, _ in queued if stream == self.bulk_key)
        for key, count in ((self.key, 500), (self.bulk_key, bulk_room)):
            if count <= 0:
                continue
            try:
                replies: list[
                    tuple[str, list[tuple[str, dict[str, str]]]]
                ] = await self.redis.xreadgroup(GROUP, CONSUMER, {key: start}, count=count)  # type: ignore[assignment]
            except ResponseError as exc:
                if "NOGROUP" not in str(exc):
                    raise
                await self._ensure_group()  # Redis lost the stream (restarted without its data)
                return
            for _, entries in replies or []:
                for entry_id, fields in entries:
                    if (key, entry_id) in known or not fields:
                        continue
                    envelope = Envelope.loads(fields["e"])
                    chat = self.chats.setdefault(envelope.chat, _Chat())
                    chat.queue.append(((key, entry_id), envelope))

    def _wait(self) -> float:
        waiting = [c.ready_at for c in self.chats.values() if c.queue and not c.busy]
        if not waiting:
            return IDLE_POLL
        due = max(min(waiting), self.next_send, self._second_free_at(self.clock()))
        return max(0.005, min(IDLE_POLL, due - self.clock()))

    def _second_free_at(self, now: float, cap: int | None = None) -> float:
        """When fewer than `cap` (`global_per_second`) sends can have reached the platform
        within the last second: those that ended within it (one that ended earlier reached it
        earlier) and those under way. Now, or when enough of the sends that ended within it
        are a second old; never while `cap` are under way (a send under way ends with a
        wake-up)."""
        cap = self.limits.global_per_second if cap is None else cap
        self._forget_before(self.finished, now - 1.0)
        counted = len(self.finished) + self.under_way
        if counted < cap:
            return now
        if counted - len(self.finished) >= cap or not self.finished:
            return math.inf
        return self.finished[counted - cap] + 1.0

    def _group_free_at(self, chat: _Chat, now: float) -> float:
        """When the group may take one more message within its `group_per_minute`."""
        self._forget_before(chat.sent_at, now - 60.0 * self.limits.margin)
        if len(chat.sent_at) < self.limits.group_per_minute:
            return now
        return chat.sent_at[0] + 60.0 * self.limits.margin

    def _take_slot(self, now: float, group: _Chat | None) -> None:
        """A send starts `now` (to `group`, counted in its minute, when it goes to one)."""
        spacing = self.limits.margin / self.limits.global_per_second
        # Keep to the grid of slots (a late wake-up does not push every later send back);
        # after an idle spell the grid restarts from now, so no burst makes up for it.
        self.next_send = (self.next_send if now - self.next_send < spacing else now) + spacing
        if group is not None:
            group.sent_at.append(now)

    def _dispatch(self) -> None:
        """Start the sends that are due, evenly spaced: bursts arriving with network jitter
        would break Telegram's per-second limit even when the count per second is right.
        Replies first; bulk messages take the slots left."""
        now = self.clock()
        ordered = sorted(
            (c for c in self.chats.values() if c.queue and not c.busy and c.ready_at <= now),
            key=lambda c: (c.queue[0][1].bulk, c.queue[0][0][1]),
        )
        bulk_cap = self.limits.global_per_second - self.limits.bulk_reserve
        for chat in ordered:
            envelope = chat.queue[0][1]
            cap = bulk_cap if envelope.bulk else None
            if now < max(self.next_send, self._second_free_at(now, cap)):
                return
            if envelope.group and (free_at := self._group_free_at(chat, now)) > now:
                chat.ready_at = free_at
                continue
            chat.busy = True
            self._take_slot(now, chat if envelope.group else None)
            task = asyncio.create_task(self._send(chat))
            self.in_flight.add(task)
            task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self.in_flight.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            # Redis failed around the send: the entry stays queued and is tried again.
            log.warning("outbox %s: send interrupted: %r", self.key, error)
        self.wake.set()

    @staticmethod
    def _forget_before(times: deque[float], cutoff: float) -> None:
        while times and times[0] < cutoff:
            times.popleft()

    async def _send(self, chat: _Chat) -> None:
        ref, envelope = chat.queue[0]
        try:
            if ref not in self.delivered:  # else only its removal failed (Redis down)
                if not await self._deliver(chat, ref, envelope):
                    return
                self.delivered.add(ref)
            await self._finish(chat, ref, envelope, None)
            self.delivered.discard(ref)
            chat.ready_at = self.clock() + self.limits.per_chat_interval
        finally:
            chat.busy = False

    async def _deliver(self, chat: _Chat, ref: Ref, envelope: Envelope) -> bool:
        """Hand the message to the platform; False when it was not accepted (retried later,
        or buried)."""
        try:
            await self._counted(lambda: self.transport.deliver(envelope))
        except RetryLater as exc:
            chat.attempts += 1
            if chat.attempts >= self.limits.max_attempts:
                await self._bury(chat, ref, envelope, f"gave up: {exc}", "gave_up")
            else:
                backoff = min(self.limits.max_backoff, 2.0 ** (chat.attempts - 1))
                delay = max(exc.seconds or 0.0, backoff)
                chat.ready_at = self.clock() + delay
                log.warning("outbox %s: %s; retrying in %.1fs", self.key, exc, delay)
            return False
        except Refused as exc:
            await self._bury(chat, ref, envelope, f"refused: {exc}", exc.outcome)
            return False
        except Exception as exc:  # a bug in a transport must not lose the message silently
            log.exception("outbox %s: unexpected failure", self.key)
            await self._bury(chat, ref, envelope, f"error: {exc!r}", "error")
            return False
        return True

    async def _counted(self, call: Callable[[], Awaitable[T]]) -> T:
        """A platform call, counted for `_second_free_at` while under way and after."""
        self.under_way += 1
        try:
            return await call()
        finally:
            self.under_way -= 1
            self.finished.append(self.clock())

    async def _finish(self, chat: _Chat, ref: Ref, envelope: Envelope, failure: str | None) -> None:
        """Remove the entry and, for a tagged message, report its outcome (`failure` None:
        accepted) in the same transaction."""
        stream, entry_id = ref
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.xack(stream, GROUP, entry_id)
            pipe.xdel(stream, entry_id)
            if envelope.tag is not None:
                pipe.xadd(self.outbox.outcomes, {"tag": envelope.tag, "why": failure or ""})
            await pipe.execute()
        chat.queue.popleft()
        chat.attempts = 0

    async def _bury(
        self, chat: _Chat, ref: Ref, envelope: Envelope, why: str, outcome: str
    ) -> None:
        log.error("outbox %s: dead letter %s: %s", ref[0], ref[1], why)
        await self.redis.xadd(self.outbox.dead_letters, {"e": envelope.dumps(), "why": why[:500]})
        await self._finish(chat, ref, envelope, outcome)
