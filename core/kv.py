"""Redis connections: real Redis when REDIS_URL is set, an in-process stand-in otherwise.

A real client times out instead of waiting forever, and a command that meets a broken
connection (Redis restarted) reconnects and is tried again a few times before it fails."""

from __future__ import annotations

import fakeredis
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError, TimeoutError

TIMEOUT_SECONDS = 5.0  # to connect, and for one command's answer
RETRIES = 3  # a command meeting a broken connection reconnects and tries again


def make_redis(url: str | None) -> Redis:
    """An asyncio Redis client for `url`; None gives an in-process fake (one process only)."""
    if url is None:
        client: Redis = fakeredis.FakeAsyncRedis(decode_responses=True)
        return client
    return Redis.from_url(
        url,
        decode_responses=True,
        socket_connect_timeout=TIMEOUT_SECONDS,
        socket_timeout=TIMEOUT_SECONDS,
        socket_keepalive=True,
        health_check_interval=15,
        retry=Retry(ExponentialBackoff(cap=1.0, base=0.05), RETRIES),
        retry_on_error=[ConnectionError, TimeoutError],
    )
