"""The inbox: every update a channel delivers is stored before it is acknowledged and
processed exactly once.

`accept` answers only after the update is durable in the database (the unique key
channel + update id turns a retried webhook or a replayed update into a no-op; Redis remembers
recent keys for a day so duplicates rarely reach the database). Updates arriving together
are written in one transaction (group commit). Processing runs in worker
tasks, one queue per shard of chats so that each chat's updates keep their order while
different residents are served in parallel. Updates stored but not processed when a gateway
stopped are processed when it starts again (`recover`). The replies of an update are queued
in the outbox together with an "answered" marker (`Outbox.hold`), so an update whose replies
were queued just before a crash is not answered a second time.

Several gateway replicas share one inbox table. Each update belongs to the replica that
stored it (`…:owner` in Redis); each replica says it is alive every HEARTBEAT_SECONDS (a key
expiring after ALIVE_SECONDS) and watches the others: when one stops saying so, the others
claim its unprocessed updates at once (an atomic compare-and-set in Redis), so an update a
killed replica had stored is answered by another within a few seconds, and never by two: the
replies are queued only if the replica still owns the update and nobody answered it
(`Guard`, checked in the transaction that queues them).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
import zlib
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import WatchError
from sqlalchemy.orm import Session

from bot.outbox import Guard, Outbox, Superseded
from bot.tasks import Tasks
from core.db import in_db
from core.outages import is_outage
from core.repositories.inbound import mark_processed, store_updates, unprocessed

log = logging.getLogger(__name__)

SEEN_SECONDS = 24 * 3600
SHARDS = 8
MAX_BATCH = 200
BURST_PER_SECOND = 100
RETRY_FIRST, RETRY_MAX = 0.5, 5.0  # seconds between tries while PostgreSQL or Redis is down
SWEEP_SECONDS = 30.0  # how often stored but unprocessed updates are looked for
HEARTBEAT_SECONDS = 1.0  # how often a replica says it is alive and looks at the others
ALIVE_SECONDS = 3  # a replica silent this long is taken for dead; its updates are claimed
# The intake writer's own thread: acknowledging updates never waits behind their processing.
WRITER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="inbox-writer")

Payload = dict[str, Any]


@dataclass
class Arrivals:
    """How fast updates arrive (a one-second window). During a burst faster than
    `BURST_PER_SECOND`, acknowledging comes first: updates are answered one at a time instead
    of one per shard, and the acknowledgements keep the CPU they need."""

    clock: Callable[[], float] = time.monotonic
    window_start: float = 0.0
    in_window: int = 0
    last_rate: int = 0

    def count(self) -> None:
        now = self.clock()
        if now - self.window_start >= 1.0:
            self.last_rate = self.in_window if now - self.window_start < 2.0 else 0
            self.window_start, self.in_window = now, 0
        self.in_window += 1

    def busy(self) -> bool:
        now = self.clock()
        if now - self.window_start >= 2.0:
            return False
        return max(self.last_rate, self.in_window) > BURST_PER_SECOND


@dataclass
class Inbox:
    """One channel's inbox. `process(payload)` handles one update; `chat_of(payload)` names the
    conversation whose order must be kept."""

    redis: Redis
    channel: str
    process: Callable[[Payload], Awaitable[None]]
    chat_of: Callable[[Payload], str]
    outbox: Outbox
    queues: list[asyncio.Queue[tuple[int, str, Payload]]] = field(
        default_factory=lambda: [asyncio.Queue() for _ in range(SHARDS)]
    )
    writes: asyncio.Queue[tuple[str, str, asyncio.Future[int | None]]] = field(
        default_factory=asyncio.Queue
    )
    instance: str = field(default_factory=lambda: secrets.token_hex(6))  # this replica
    _arrivals: Arrivals = field(default_factory=lambda: Arrivals())
    _queued: set[int] = field(default_factory=set)  # stored ids waiting or being answered
    _one_at_a_time: asyncio.Lock = field(default_factory=asyncio.Lock)

    def _seen_key(self, key: str) -> str:
        return f"inbound:{self.channel}:{key}"

    def _owner_key(self, key: str) -> str:
        return f"{self._seen_key(key)}:owner"

    def _alive_key(self, instance: str) -> str:
        return f"inbox:{self.channel}:alive:{instance}"

    @property
    def _replicas_key(self) -> str:
        return f"inbox:{self.channel}:replicas"

    async def accept(self, key: str, payload: Payload) -> bool:
        """Store the update and queue it; False for one already delivered. When this returns
        the update is durable, so the channel may be told it arrived."""
        self._arrivals.count()
        raw = json.dumps(payload, ensure_ascii=False)
        done: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
        await self.writes.put((key, raw, done))
        stored = await done
        if stored is None:
            return False
        await self._queue(stored, key, payload)
        return True

    async def recover(self) -> int:
        """Queue what was stored but not processed (before a restart, by a replica that died,
        or while the database could not be told), is not queued already, and is not owned by
        another live replica; how many."""

        def read(session: Session) -> list[tuple[int, str, Payload]]:
            rows = unprocessed(session=session, channel=self.channel)
            return [
                (row.id, row.update_key, json.loads(row.payload)) for row in rows if row.payload
            ]

        pending = [item for item in await in_db(read) if item[0] not in self._queued]
        claimed = [item for item in pending if await self._claim(item[1])]
        for stored, key, payload in claimed:
            await self._queue(stored, key, payload)
        return len(claimed)

    async def _claim(self, key: str) -> bool:
        """Make this replica the update's owner unless a live replica owns it (one atomic
        compare-and-set); whether this replica owns it now."""
        owner_key = self._owner_key(key)
        async with self.redis.pipeline(transaction=True) as pipe:
            await pipe.watch(owner_key)
            owner: str | None = await pipe.get(owner_key)  # type: ignore[assignment]
            if owner == self.instance:
                return True
            if owner is not None and await pipe.exists(self._alive_key(owner)):
                return False
            pipe.multi()  # type: ignore[no-untyped-call]
            pipe.set(owner_key, self.instance, ex=SEEN_SECONDS)
            try:
                await pipe.execute()
            except WatchError:  # another replica claimed it in between
                return False
        return True

    async def beat(self) -> list[str]:
        """Say this replica is alive; the replicas that stopped saying so (forgotten here)."""
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.set(self._alive_key(self.instance), "1", ex=ALIVE_SECONDS)
            pipe.sadd(self._replicas_key, self.instance)
            pipe.smembers(self._replicas_key)
            *_, members = await pipe.execute()
        others = sorted(str(m) for m in members if m != self.instance)
        async with self.redis.pipeline(transaction=False) as pipe:
            for other in others:
                pipe.exists(self._alive_key(other))
            alive = await pipe.execute()
        return [other for other, up in zip(others, alive, strict=True) if not up]

    async def sweep(self) -> None:
        """For as long as the task lives: say this replica is alive every HEARTBEAT_SECONDS,
        and `recover` at once, when another replica dies, and every SWEEP_SECONDS."""
        next_sweep = 0.0
        try:
            while True:
                dead = await self.beat()
                if dead or time.monotonic() >= next_sweep:
                    await self.recover()
                    next_sweep = time.monotonic() + SWEEP_SECONDS
                if dead:
                    log.warning("%s inbox: replicas %s stopped; their updates are taken over",
                                self.channel, ", ".join(dead))  # fmt: skip
                    await self.redis.srem(self._replicas_key, *dead)
                await asyncio.sleep(HEARTBEAT_SECONDS)
        finally:  # stopping: the others take over what is left at once
            with contextlib.suppress(Exception):
                await self.redis.delete(self._alive_key(self.instance))

    async def _queue(self, stored: int, key: str, payload: Payload) -> None:
        self._queued.add(stored)
        shard = zlib.crc32(self.chat_of(payload).encode()) % len(self.queues)
        await self.queues[shard].put((stored, key, payload))

    async def idle(self) -> bool:
        return all(queue.empty() for queue in self.queues)

    async def run(self) -> None:
        """Store and process updates until cancelled (a writer, and one task per shard)."""
        await asyncio.gather(self._write(), *(self._work(queue) for queue in self.queues))

    def spawn(self, tasks: Tasks) -> None:
        """`run`, as supervised tasks that /healthz reports (bot/tasks.py)."""
        tasks.spawn(f"{self.channel}-inbox-writer", self._write)
        tasks.spawn(f"{self.channel}-inbox-sweeper", self.sweep)
        for number, queue in enumerate(self.queues):
            tasks.spawn(f"{self.channel}-inbox-{number}", partial(self._work, queue))

    async def _write(self) -> None:
        """Group commit: the updates that arrived while the last batch was being written go
        to the database together, in one statement and one transaction (far more per second
        than one each). Keys Redis saw recently are answered "duplicate" without the database;
        the database's unique key catches the rest."""
        while True:
            batch = [await self.writes.get()]
            while not self.writes.empty() and len(batch) < MAX_BATCH:
                batch.append(self.writes.get_nowait())
            try:
                seen = await self._seen([key for key, _, _ in batch])
                fresh = [
                    (key, raw) for (key, raw, _), old in zip(batch, seen, strict=True) if not old
                ]
                stored = await self._store(fresh)
                await self._remember(
                    [
                        key
                        for (key, _), id_ in zip(fresh, stored, strict=True)
                        if not isinstance(id_, Exception)
                    ]
                )
            except Exception as exc:  # PostgreSQL or Redis is down: every waiting accept fails
                for _, _, done in batch:
                    done.set_exception(exc)
                continue
            ids = iter(stored)
            for (_, _, done), old in zip(batch, seen, strict=True):
                result = None if old else next(ids)
                if isinstance(result, Exception):
                    done.set_exception(result)
                else:
                    done.set_result(result)

    async def _store(self, fresh: list[tuple[str, str]]) -> list[int | Exception | None]:
        """The batch in one statement; if that fails for a reason other than an outage (one
        update the database will not take), each on its own, so only the bad one fails."""
        if not fresh:
            return []
        try:
            return list(await in_db(self._storer(fresh), WRITER))
        except Exception as exc:
            if is_outage(exc) or len(fresh) == 1:
                raise
        results: list[int | Exception | None] = []
        for pair in fresh:
            try:
                results.extend(await in_db(self._storer([pair]), WRITER))
            except Exception as exc:
                if is_outage(exc):
                    raise
                log.error("%s update %s cannot be stored: %r", self.channel, pair[0], exc)
                results.append(exc)
        return results

    async def _seen(self, keys: list[str]) -> list[bool]:
        async with self.redis.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.exists(self._seen_key(key))
            return [bool(found) for found in await pipe.execute()]

    async def _remember(self, keys: list[str]) -> None:
        """Mark the keys seen, and owned by this replica."""
        async with self.redis.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.set(self._seen_key(key), "1", ex=SEEN_SECONDS)
                pipe.set(self._owner_key(key), self.instance, ex=SEEN_SECONDS)
            await pipe.execute()

    def _storer(self, pairs: list[tuple[str, str]]) -> Callable[[Session], list[int | None]]:
        def store(session: Session) -> list[int | None]:
            return store_updates(session=session, channel=self.channel, updates=pairs)

        return store

    async def _work(self, queue: asyncio.Queue[tuple[int, str, Payload]]) -> None:
        while True:
            stored, key, payload = await queue.get()
            if self._arrivals.busy():
                async with self._one_at_a_time:
                    await self._answer(stored, key, payload)
            else:
                await self._answer(stored, key, payload)
            self._queued.discard(stored)
            queue.task_done()

    async def _answer(self, stored: int, key: str, payload: Payload) -> None:
        """Answer the update once and mark it processed. While PostgreSQL or Redis is down the
        whole update is tried again (its replies were not queued, see `Outbox.hold`), so it is
        neither lost nor answered twice; any other failure is a bug in handling this one
        update: logged, and the update is not tried again."""
        # Keyed like the "seen" mark, by the platform's update id: a row id would be reused
        # by another database (a restored backup, a test schema) sharing this Redis.
        answered = f"{self._seen_key(key)}:answered"
        guard = Guard(self._owner_key(key), self.instance)
        delay = RETRY_FIRST
        while True:
            try:
                if not await self._claim(key):
                    return  # another replica took it over (this one looked dead): it answers
                if not await self.redis.exists(answered):
                    async with self.outbox.hold(answered, SEEN_SECONDS, guard):
                        await self.process(payload)
                await self._done(stored)
                return
            except Superseded:
                log.warning("%s update %s: answered by another replica", self.channel, stored)
                return
            except Exception as exc:
                if not is_outage(exc):
                    log.exception("%s update %s failed", self.channel, stored)
                    break
                log.warning(
                    "%s update %s: storage unavailable (%r); retrying in %.1fs",
                    self.channel, stored, exc, delay,
                )  # fmt: skip
            await asyncio.sleep(delay)
            delay = min(RETRY_MAX, delay * 2)
        while True:  # one bad update must not stop the channel: mark it and go on
            try:
                await self._done(stored)
                return
            except Exception as exc:
                log.warning("%s update %s: not marked yet (%r)", self.channel, stored, exc)
            await asyncio.sleep(delay)
            delay = min(RETRY_MAX, delay * 2)

    @staticmethod
    async def _done(stored: int) -> None:
        def mark(session: Session) -> None:
            mark_processed(session=session, update_id=stored)

        await in_db(mark)
