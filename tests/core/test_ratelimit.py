"""The Redis rate limiter, on the in-process stand-in and on real Redis."""

from __future__ import annotations

from redis.asyncio import Redis

from core.ratelimit import RateLimit


async def test_allows_up_to_the_limit_per_key(redis: Redis, unique: str) -> None:
    limiter = RateLimit(redis, f"test:{unique}", limit=3, window_seconds=60)
    assert [await limiter.hit("a") for _ in range(4)] == [True, True, True, False]
    assert await limiter.hit("b") is True


async def test_window_expires(redis: Redis, unique: str) -> None:
    limiter = RateLimit(redis, f"test:{unique}", limit=1, window_seconds=60)
    assert await limiter.hit("a")
    ttl = await redis.ttl(f"test:{unique}:a")
    assert 0 < ttl <= 60
    assert not await limiter.hit("a")
    await redis.delete(f"test:{unique}:a")  # what expiry does when the window ends
    assert await limiter.hit("a")


async def test_a_hit_given_back_does_not_count(redis: Redis, unique: str) -> None:
    limiter = RateLimit(redis, f"test:{unique}", limit=2, window_seconds=60)
    assert await limiter.add("a") == 1
    await limiter.give_back("a")
    assert [await limiter.hit("a") for _ in range(3)] == [True, True, False]
    await limiter.forget("a")
    assert await limiter.add("a") == 1


async def test_giving_back_after_the_window_leaves_no_credit(redis: Redis, unique: str) -> None:
    limiter = RateLimit(redis, f"test:{unique}", limit=1, window_seconds=60)
    await limiter.give_back("a")  # its hit's window has ended meanwhile
    assert await redis.get(f"test:{unique}:a") is None
    assert [await limiter.hit("a") for _ in range(2)] == [True, False]
