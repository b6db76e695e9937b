"""Stopping a long-running asyncio task in a test and seeing it end."""

from __future__ import annotations

import asyncio
import io


async def cancelled(task: asyncio.Task[None], seconds: float = 10) -> None:
    """Cancel `task` and see it end cancelled within `seconds`: a task that ignores the cancel
    fails the test instead of hanging the suite. (Not `await task` under `asyncio.timeout`:
    the timeout's own cancel would reach the task as a second one and hide the first loss.)"""
    task.cancel()
    await asyncio.wait({task}, timeout=seconds)
    if not task.done():
        where = io.StringIO()
        task.print_stack(file=where)
        raise AssertionError(f"the task went on after it was cancelled:\n{where.getvalue()}")
    assert task.cancelled(), f"the task ended otherwise: {task.exception()!r}"
