"""Web desk passwords: salted scrypt, checked in constant time, short ones refused, checked
off the event loop for async callers."""

from __future__ import annotations

import asyncio
import time

import pytest

from core import passwords
from core.passwords import WeakPassword, hash_password, password_matches, verify_password


def test_hashes_are_salted_and_verify() -> None:
    first, second = hash_password("mat-khau-dai-1"), hash_password("mat-khau-dai-1")
    assert first != second
    assert first.startswith("scrypt$")
    assert "mat-khau" not in first
    assert verify_password("mat-khau-dai-1", first)
    assert not verify_password("mat-khau-dai-2", first)


def test_missing_or_malformed_hashes_never_match() -> None:
    for stored in (None, "", "plain", "md5$1$2$3$aa$bb", "scrypt$x$8$1$zz$yy"):
        assert not verify_password("anything-long", stored)


def test_short_passwords_are_refused() -> None:
    with pytest.raises(WeakPassword):
        hash_password("ngan")


async def test_async_checks_leave_the_event_loop_free(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(passwords, "P", 8)  # slow enough that a stalled loop shows
    stored = hash_password("mat-khau-dai-1")
    started = time.perf_counter()
    assert verify_password("mat-khau-dai-1", stored)
    check = time.perf_counter() - started  # ~0.5 s: room for ~100 ticks of 5 ms
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.005)
            ticks += 1

    ticker = asyncio.create_task(tick())
    await asyncio.sleep(0)
    results = await asyncio.gather(
        password_matches("mat-khau-dai-1", stored), password_matches("sai-mat-khau", stored)
    )
    ticker.cancel()
    assert list(results) == [True, False]
    assert ticks >= 5, (ticks, check)  # a blocked loop would not tick while scrypt runs
