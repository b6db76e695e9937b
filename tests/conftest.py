"""Shared fixtures: databases (SQLite, and PostgreSQL when TEST_DATABASE_URL is set),
Redis (in-process, and real Redis when TEST_REDIS_URL is set), and the global settings."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from redis.asyncio import Redis
from sqlalchemy.orm import Session

from core import db
from core.kv import make_redis
from tests.databases import (
    BACKENDS,
    forget_database_caches,
    postgres_base_url,
    scratch_database,
)
from tests.fakes.zalo_api import FakeZalo
from tests.stack import RunningStack, running_stack


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database: SQLite always, PostgreSQL when TEST_DATABASE_URL is set."""
    if request.param == "postgresql" and postgres_base_url() is None:
        pytest.skip("TEST_DATABASE_URL is not set")
    with scratch_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def app_database(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Points the process-wide settings and engine (used by actions and the gateway) at
    the test database."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    forget_database_caches()
    yield database_url
    db.get_engine().dispose()
    forget_database_caches()


@pytest.fixture
def session(database_url: str) -> Iterator[Session]:
    engine = db.make_engine(database_url)
    with Session(engine) as session:
        yield session
    engine.dispose()


@pytest.fixture(params=["in-process", "redis"])
async def redis(request: pytest.FixtureRequest) -> AsyncIterator[Redis]:
    """The in-process stand-in, and real Redis when TEST_REDIS_URL is set."""
    url = os.environ.get("TEST_REDIS_URL")
    if request.param == "redis" and not url:
        pytest.skip("TEST_REDIS_URL is not set")
    client = make_redis(url if request.param == "redis" else None)
    yield client
    await client.aclose()


@pytest.fixture
def unique() -> str:
    """A short unique string, for keys shared with other test runs in real Redis."""
    return uuid.uuid4().hex[:10]


@pytest.fixture
async def fresh_redis(redis: Redis, unique: str) -> AsyncIterator[Redis]:
    """The shared Redis fixture with this test's keys (`unique`:*) cleared afterwards."""
    yield redis
    for key in await redis.keys(f"{unique}:*"):
        await redis.delete(key)


@pytest.fixture
def zalo() -> Iterator[FakeZalo]:
    """The fake Zalo OA API on 127.0.0.1 with its default app and keys."""
    with FakeZalo() as fake:
        yield fake


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    """The real local stack (trained Rasa, action server, gateway), once per test run."""
    with running_stack(tmp_path_factory.mktemp("stack")) as running:
        yield running
