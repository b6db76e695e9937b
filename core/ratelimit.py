"""A fixed-window rate limiter kept in Redis, shared by every gateway replica."""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis


@dataclass(frozen=True)
class RateLimit:
    """At most `limit` hits per `window_seconds` for each key."""

    redis: Redis
    prefix: str
    limit: int
    window_seconds: int = 60

    async def hit(self, key: str) -> bool:
        """Count one hit for `key`; True when it is within the limit."""
        name = f"{self.prefix}:{key}"
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(name)
            pipe.expire(name, self.window_seconds, nx=True)
            count, _ = await pipe.execute()
        return int(count) <= self.limit
