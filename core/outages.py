"""Errors that mean PostgreSQL or Redis cannot be reached or answer right now — an outage,
no fault of the request or update being handled. Work that fails with one is done again
later (the inbox) or answered "try again" (the HTTP API); anything else is a bug."""

from __future__ import annotations

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from core.db import DatabaseUnresponsive

STORAGE_OUTAGES: tuple[type[Exception], ...] = (
    OperationalError,
    InterfaceError,
    PoolTimeoutError,
    RedisConnectionError,
    RedisTimeoutError,
    DatabaseUnresponsive,
)


def is_outage(exc: BaseException) -> bool:
    """`exc` (or what caused it) is PostgreSQL or Redis being unreachable."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, STORAGE_OUTAGES):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False
