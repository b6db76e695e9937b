"""Waiting for what a fake server was sent: `wait_for` (blocking) and `wait_for_async`."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

JSON = dict[str, Any]
POLL_INTERVAL = 0.02


class WaitsForSent:
    """For a fake with `sent()` (what the bot or OA sent, oldest first) and a
    `_nothing_matched(timeout)` that describes it when nothing matched."""

    def sent(self) -> list[JSON]:
        raise NotImplementedError

    def _nothing_matched(self, timeout: float) -> AssertionError:
        raise NotImplementedError

    def _first_sent(self, predicate: Callable[[JSON], bool]) -> JSON | None:
        return next((m for m in self.sent() if predicate(m)), None)

    def wait_for(self, predicate: Callable[[JSON], bool], timeout: float = 10.0) -> JSON:
        """Blocks until a sent message matches; returns it, or raises AssertionError listing
        what was sent."""
        deadline = time.monotonic() + timeout
        while (found := self._first_sent(predicate)) is None:
            if time.monotonic() > deadline:
                raise self._nothing_matched(timeout)
            time.sleep(POLL_INTERVAL)
        return found

    async def wait_for_async(
        self,
        predicate: Callable[[JSON], bool],
        timeout: float = 10.0,  # noqa: ASYNC109 - the same signature as wait_for
    ) -> JSON:
        """`wait_for` for async tests (does not block the event loop)."""
        deadline = time.monotonic() + timeout
        while (found := self._first_sent(predicate)) is None:
            if time.monotonic() > deadline:
                raise self._nothing_matched(timeout)
            await asyncio.sleep(POLL_INTERVAL)
        return found
