"""Supervised background tasks: every long-running loop of the gateway (inbox writers and
shard workers, outbox senders, Telegram polling, desk timers) runs under `Tasks.spawn`.

A task that raises is logged (through the masking filter), waits a capped, growing backoff
and is started again; a task that returns is started again too (a loop is not meant to end).
Each task's state — running, restarts, the last error and when — is what `/healthz` reports:
a task counts as failing from its crash until it has run again for `HEALTHY_AFTER` seconds
without failing, so a dependency that keeps breaking it turns the health check red.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

FIRST_BACKOFF = 0.5
MAX_BACKOFF = 4.0
HEALTHY_AFTER = 2.0  # seconds of running without failing after a restart


def stop_if_cancelled() -> None:
    """Raise CancelledError if this task was cancelled and the cancel got lost on the way. On
    Python 3.11, `asyncio.wait_for` (redis-py wraps every write in it) returns its finished
    work instead of raising a cancel that lands as that work completes; the request still
    counts in `Task.cancelling()`. A long-running loop calls this once per round."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


@dataclass
class TaskState:
    name: str
    running: bool = False
    restarts: int = 0
    last_error: str | None = None
    failed_at: float | None = None  # monotonic time of the last failure
    started_at: float = 0.0

    def healthy(self, now: float) -> bool:
        if not self.running:
            return False
        if self.failed_at is None:
            return True
        return now - self.started_at >= HEALTHY_AFTER

    def as_json(self, now: float) -> dict[str, object]:
        return {
            "alive": self.healthy(now),
            "restarts": self.restarts,
            "last_error": self.last_error,
        }


@dataclass
class Tasks:
    """The gateway's supervised tasks (one registry per app)."""

    clock: Callable[[], float] = time.monotonic
    states: dict[str, TaskState] = field(default_factory=dict)
    _running: dict[str, asyncio.Task[None]] = field(default_factory=dict)

    def spawn(self, name: str, work: Callable[[], Awaitable[object]]) -> asyncio.Task[None]:
        """Run `work()` as task `name` until `cancel`, restarting it whenever it ends."""
        state = self.states[name] = TaskState(name)
        task = asyncio.create_task(self._supervise(state, work), name=name)
        self._running[name] = task
        return task

    async def _supervise(self, state: TaskState, work: Callable[[], Awaitable[object]]) -> None:
        backoff = FIRST_BACKOFF
        while True:
            state.running, state.started_at = True, self.clock()
            try:
                await work()
                error = "ended"
            except asyncio.CancelledError:
                state.running = False
                raise
            except Exception as exc:
                error = f"{type(exc).__name__}: {exc}"[:300]
                log.error("task %s failed (%s); restarting in %.1fs", state.name, error, backoff)
            else:
                log.error("task %s ended; restarting in %.1fs", state.name, backoff)
            if self.clock() - state.started_at > MAX_BACKOFF * 3:
                backoff = FIRST_BACKOFF  # it had been running well: start over gently
            state.running = False
            state.restarts += 1
            state.last_error, state.failed_at = error, self.clock()
            await asyncio.sleep(backoff)
            backoff = min(MAX_BACKOFF, backoff * 2)

    def failing(self) -> list[str]:
        now = self.clock()
        return sorted(name for name, state in self.states.items() if not state.healthy(now))

    def report(self) -> dict[str, dict[str, object]]:
        now = self.clock()
        return {name: state.as_json(now) for name, state in sorted(self.states.items())}

    async def cancel(self) -> None:
        """Stop every task and wait for them to end."""
        tasks = list(self._running.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            # Cancel again until it ends: on Python 3.11 asyncio.wait_for, which libraries use,
            # can swallow a cancellation that lands as its awaited work completes.
            while not task.done():
                task.cancel()
                await asyncio.wait({task}, timeout=1.0)
            with contextlib.suppress(asyncio.CancelledError, Exception):
                task.result()
        self._running.clear()
