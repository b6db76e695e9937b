"""Redis connections: real Redis when REDIS_URL is set, an in-process stand-in otherwise."""

from __future__ import annotations

import fakeredis
from redis.asyncio import Redis


def make_redis(url: str | None) -> Redis:
    """An asyncio Redis client for `url`; None gives an in-process fake (one process only)."""
    if url is None:
        client: Redis = fakeredis.FakeAsyncRedis(decode_responses=True)
        return client
    return Redis.from_url(url, decode_responses=True)
