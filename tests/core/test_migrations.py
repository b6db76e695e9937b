"""Alembic is the only schema path: migrations match the models and go down and up."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from core import migrate
from core.db import make_engine
from core.models import Base
from tests.databases import BACKENDS, postgres_base_url, scratch_database


@pytest.fixture(params=BACKENDS)
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> object:
    if request.param == "postgresql" and postgres_base_url() is None:
        pytest.skip("TEST_DATABASE_URL is not set")
    with scratch_database(request.param, tmp_path, migrated=False) as url:
        yield url


def test_upgrade_matches_models_and_downgrade_removes_all(empty_database_url: str) -> None:
    migrate.upgrade(empty_database_url)
    engine = make_engine(empty_database_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection)
        assert compare_metadata(context, Base.metadata) == []
        assert set(inspect(connection).get_table_names()) >= {
            "events",
            "residents",
            "alembic_version",
        }

    migrate.downgrade(empty_database_url, "base")
    with engine.connect() as connection:
        assert set(inspect(connection).get_table_names()) == {"alembic_version"}

    migrate.upgrade(empty_database_url)
    with engine.connect() as connection:
        assert "events" in inspect(connection).get_table_names()
    engine.dispose()


def test_accounts_made_before_security_stamps_get_one_each(empty_database_url: str) -> None:
    migrate.upgrade(empty_database_url, "0007")
    engine = make_engine(empty_database_url)
    with engine.begin() as connection:
        for name in ("lan", "hoa"):
            connection.execute(
                text(
                    "INSERT INTO volunteers (display_name, role, created_at, username) "
                    "VALUES (:name, 'volunteer', CURRENT_TIMESTAMP, :name)"
                ),
                {"name": name},
            )
            connection.execute(
                text(
                    "INSERT INTO staff (username, display_name, password_hash, province_code, "
                    "created_at) VALUES (:name, :name, 'x', '01', CURRENT_TIMESTAMP)"
                ),
                {"name": name},
            )
    migrate.upgrade(empty_database_url)
    with engine.connect() as connection:
        for table in ("volunteers", "staff"):
            stamps = connection.execute(text(f"SELECT security_stamp FROM {table}")).scalars()
            found = list(stamps)
            assert len(set(found)) == 2
            assert all(len(stamp) == 32 for stamp in found)
    engine.dispose()
