"""The supervisor of the gateway's background tasks: a failing task is restarted and reported
until it runs well again; stopping ends even a task that swallowed a cancellation."""

from __future__ import annotations

import asyncio

from bot import tasks as supervision
from bot.tasks import Tasks


async def test_a_failing_task_is_restarted_and_reported_until_it_runs_well() -> None:
    runs = 0
    healthy = asyncio.Event()

    async def flaky() -> None:
        nonlocal runs
        runs += 1
        if runs < 3:
            raise ConnectionError(f"Redis down ({runs})")
        healthy.set()
        await asyncio.Event().wait()

    tasks = Tasks()
    tasks.spawn("flaky", flaky)
    try:
        async with asyncio.timeout(10):
            await healthy.wait()
        assert tasks.failing() == ["flaky"]  # just restarted: not trusted yet
        assert tasks.report()["flaky"] == {
            "alive": False,
            "restarts": 2,
            "last_error": "ConnectionError: Redis down (2)",
        }
        await asyncio.sleep(supervision.HEALTHY_AFTER + 0.2)
        assert tasks.failing() == []
        assert tasks.report()["flaky"]["alive"] is True
    finally:
        await tasks.cancel()


async def test_stopping_ends_a_task_that_swallowed_a_cancellation() -> None:
    swallowed = asyncio.Event()

    async def stubborn() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            swallowed.set()  # as asyncio.wait_for on Python 3.11 sometimes does
        await asyncio.Event().wait()  # then waits for something that never comes

    tasks = Tasks()
    task = tasks.spawn("stubborn", stubborn)
    await asyncio.sleep(0.05)
    async with asyncio.timeout(10):
        await tasks.cancel()
    assert swallowed.is_set()
    assert task.done()
