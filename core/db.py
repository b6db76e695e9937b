"""Database engine and sessions (SQLAlchemy 2, synchronous; async callers use a thread)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar, cast

from sqlalchemy import CursorResult, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from core.settings import get_settings

T = TypeVar("T")


CONNECT_TIMEOUT = 5  # seconds to open a connection to PostgreSQL
STATEMENT_TIMEOUT = 30  # seconds a statement of the app may run (the longest report: ~5 s)
POOL_TIMEOUT = 10  # seconds to wait for a free pooled connection
CALL_TIMEOUT = 20.0  # seconds an async caller waits for its database work (see `in_db`)


class DatabaseUnresponsive(Exception):
    """The database did not answer in time (it accepts connections but answers nothing)."""


def make_engine(
    url: str,
    *,
    timeout_seconds: int = CONNECT_TIMEOUT,
    statement_timeout: int | None = None,
    **options: Any,
) -> Engine:
    """An engine for `url`; SQLite gets its directory created, WAL and foreign keys.
    PostgreSQL connections time out after `timeout_seconds` when opened, keep TCP alive
    probes on, and, with `statement_timeout` (seconds), end a statement that runs longer;
    the pool waits POOL_TIMEOUT for a free connection. `options` go to `create_engine`."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30}, **options)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    server_options = str(parsed.query.get("options") or "")
    if statement_timeout:
        server_options = f"{server_options} -c statement_timeout={statement_timeout * 1000}"
    connect_args: dict[str, Any] = {
        "connect_timeout": timeout_seconds,
        "keepalives": 1,
        "keepalives_idle": 30,
        "keepalives_interval": 10,
        "keepalives_count": 3,
    }
    if server_options.strip():
        connect_args["options"] = server_options.strip()
    if "poolclass" not in options:
        options |= {"pool_size": 10, "max_overflow": 20, "pool_timeout": POOL_TIMEOUT}
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args, **options)


@lru_cache
def get_engine() -> Engine:
    """The process-wide engine for DATABASE_URL."""
    return make_engine(get_settings().database_url, statement_timeout=STATEMENT_TIMEOUT)


@lru_cache
def _session_factory() -> sessionmaker[Session]:
    return sessionmaker(bind=get_engine(), expire_on_commit=False)


@contextmanager
def session_scope() -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    session = _session_factory()()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def rowcount(session: Session, statement: Any) -> int:
    """Execute an UPDATE or DELETE in `session`; how many rows it changed."""
    return cast(CursorResult[Any], session.execute(statement)).rowcount or 0


def aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def in_db(work: Callable[[Session], T], executor: Executor | None = None) -> T:
    """Run `work` in a committed session on a worker thread (for async callers); `executor`
    gives a caller its own threads (the inbox, so that intake never waits behind processing).
    Raises DatabaseUnresponsive after CALL_TIMEOUT: a database that stopped answering must not
    hang the caller (the thread finishes on its own when the database answers or the
    connection breaks)."""

    def run() -> T:
        with session_scope() as session:
            return work(session)

    loop = asyncio.get_running_loop()
    future = asyncio.to_thread(run) if executor is None else loop.run_in_executor(executor, run)
    try:  # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancellation
        async with asyncio.timeout(CALL_TIMEOUT):
            return await future
    except TimeoutError as exc:
        raise DatabaseUnresponsive(f"no answer from the database in {CALL_TIMEOUT:g} s") from exc
