"""Running Alembic migrations from code (`cns migrate`, the prestart step, tests)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from core.settings import PROJECT_ROOT, get_settings


def alembic_config(database_url: str | None = None) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "core" / "migrations"))
    url = database_url or get_settings().database_url
    # ConfigParser interpolation would read "%" in URL-encoded options as a reference.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(database_url: str | None = None, revision: str = "head") -> None:
    """Bring the schema up to `revision`."""
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str | None = None, revision: str = "base") -> None:
    """Take the schema down to `revision` (tests and emergencies only)."""
    command.downgrade(alembic_config(database_url), revision)
