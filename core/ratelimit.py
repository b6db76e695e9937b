"""A fixed-window rate limiter kept in Redis, shared by every gateway replica."""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis


@dataclass(frozen=True)
class RateLimit:
    """At most `limit` hits per `window_seconds` for each key (the window starts at a key's
    first hit)."""

    redis: Redis
    prefix: str
    limit: int
    window_seconds: int = 60

    def _name(self, key: str) -> str:
        return f"{self.prefix}:{key}"

    async def add(self, key: str) -> int:
        """Count one hit for `key`; how many it has in this window, this one included."""
        name = self._name(key)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(name)
            pipe.expire(name, self.window_seconds, nx=True)
            count, _ = await pipe.execute()
        return int(count)

    async def hit(self, key: str) -> bool:
        """Count one hit for `key`; True when it is within the limit."""
        return await self.add(key) <= self.limit

    async def give_back(self, key: str) -> None:
        """Uncount one hit of `key` (one that turned out not to count)."""
        name = self._name(key)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.decr(name)
            pipe.expire(name, self.window_seconds, nx=True)
            left, _ = await pipe.execute()
        if int(left) <= 0:  # nothing left, or the window ended meanwhile
            await self.redis.delete(name)

    async def forget(self, key: str) -> None:
        """Start `key` afresh."""
        await self.redis.delete(self._name(key))
