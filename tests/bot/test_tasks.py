"""The supervisor of the gateway's background tasks: a failing task is restarted and reported
until it runs well again; stopping ends even a task that swallowed a cancellation."""

from __future__ import annotations

import asyncio
import contextlib

from bot import tasks as supervision
from bot.tasks import Tasks
from tests.stopping import cancelled


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


async def test_a_cancel_lost_in_wait_for_still_stops_a_loop_that_checks() -> None:
    """A cancel that lands as the work under `asyncio.wait_for` completes is lost there on
    Python 3.11 (redis-py wraps every write in it); `stop_if_cancelled` at the top of each
    round still ends the loop."""
    wake = asyncio.Event()
    rounds = 0

    async def loop() -> None:
        nonlocal rounds
        while True:
            supervision.stop_if_cancelled()
            rounds += 1
            wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), timeout=0.05)

    task = asyncio.create_task(loop())
    async with asyncio.timeout(5):
        while not wake._waiters:  # noqa: ASYNC110 (waiting in wait_for)
            await asyncio.sleep(0.01)
    wake.set()  # the work completes…
    await cancelled(task)  # …as the cancel lands
    assert rounds >= 1
