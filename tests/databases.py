"""Throw-away databases for tests: a SQLite file, or a fresh schema in TEST_DATABASE_URL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import text

from core import db, migrate
from core.db import make_engine
from core.settings import get_settings, normalise_database_url

BACKENDS = ("sqlite", "postgresql")


def forget_database_caches() -> None:
    """Make the process-wide settings, engine and sessions follow a new DATABASE_URL."""
    get_settings.cache_clear()
    db.get_engine.cache_clear()
    db._session_factory.cache_clear()


def postgres_base_url() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL")
    return normalise_database_url(url) if url else None


@contextmanager
def scratch_database(backend: str, tmp_path: Path, *, migrated: bool = True) -> Iterator[str]:
    """A URL to an empty database of `backend` (with the schema migrated), dropped after."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'test.sqlite3'}"
        if migrated:
            migrate.upgrade(url)
        yield url
        return
    base = postgres_base_url()
    assert base is not None, "TEST_DATABASE_URL is not set"
    schema = f"test_{uuid.uuid4().hex[:12]}"
    admin = make_engine(base)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in base else "?"
    url = f"{base}{separator}options={quote(f'-csearch_path={schema}')}"
    try:
        if migrated:
            migrate.upgrade(url)
        yield url
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
