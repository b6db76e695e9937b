"""Backup and restore exactly as docs/trien-khai.md tells an officer: the guide's own
`docker compose exec -T postgres …` lines, run (without that prefix) by bash against the
machine's PostgreSQL (TEST_DATABASE_URL) on databases of this test's own, with the user and the
database names swapped; then `cns migrate` has nothing to do and the gateway serves the restored
data to a signed-in staff member."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, make_url, text

from bot.app import create_app
from cns.main import cli
from core import db, migrate
from core.db import make_engine
from core.models import utcnow
from reports.model import Period
from tests.databases import forget_database_caches, postgres_base_url
from tests.documented import GUIDE, commands
from tests.factories import offline_settings

IN_POSTGRES = "docker compose exec -T postgres "
BACKUP = "3.3. Sao lưu dữ liệu"
RESTORE = "3.4. Khôi phục từ bản sao lưu"
UNDO = "Nếu khôi phục không thành công"
DATABASES = ("cns_cu", "rasa_cu", "cns", "rasa")  # the guide's names, longest first
PASSWORD = "mat-khau-rat-dai-1"
COMMUNE = "00004"  # the first demo commune of Hà Nội
LAST_MONTH = Period.containing(utcnow()).previous()

pytestmark = pytest.mark.skipif(
    postgres_base_url() is None or shutil.which("pg_restore") is None,
    reason="needs TEST_DATABASE_URL and the PostgreSQL client programs",
)


def guide_lines(heading: str) -> list[str]:
    """The guide's commands run inside the postgres container, under `heading`."""
    found = [
        command.text[len(IN_POSTGRES) :]
        for command in commands(GUIDE)
        if command.heading == heading and command.text.startswith(IN_POSTGRES)
    ]
    assert found, f"no `{IN_POSTGRES}…` command under {heading!r} in {GUIDE}"
    return found


class Cluster:
    """The test's PostgreSQL server, and this test's names for the guide's databases."""

    def __init__(self, base_url: str) -> None:
        self.base = make_url(base_url)
        prefix = f"bk_{uuid.uuid4().hex[:10]}"
        self.names = {
            name: name.replace("cns", prefix).replace("rasa", f"{prefix}_rasa")
            for name in DATABASES
        }
        self.env = os.environ | {
            "PGHOST": self.base.host or "127.0.0.1",
            "PGPORT": str(self.base.port or 5432),
            "PGPASSWORD": self.base.password or "",
        }

    def url(self, name: str) -> str:
        """The SQLAlchemy URL of the guide's database `name`."""
        return self.base.set(database=self.names[name]).render_as_string(hide_password=False)

    def run(self, line: str, cwd: Path) -> None:
        """One of the guide's lines, the part inside the container given our user and names."""
        inside, redirect = re.fullmatch(r"(.*?)((?:\s[<>]\s.*)?)", line).groups()  # type: ignore[union-attr]
        inside = re.sub(r"-U \S+", f"-U {self.base.username}", inside)
        inside = re.sub(
            r"\b(" + "|".join(DATABASES) + r")\b", lambda m: self.names[m.group(1)], inside
        )
        done = subprocess.run(
            ["bash", "-c", inside + redirect],
            cwd=cwd, env=self.env, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert done.returncode == 0, f"{line}\n{done.stderr}"

    def execute(self, sql: str, database: str = "postgres") -> None:
        engine = create_engine(self.base.set(database=database), isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text(sql))
        engine.dispose()

    def exists(self, name: str) -> bool:
        engine = make_engine(self.base.render_as_string(hide_password=False))
        with engine.connect() as connection:
            found = connection.scalar(
                text("SELECT count(*) FROM pg_database WHERE datname = :name"),
                {"name": self.names[name]},
            )
        engine.dispose()
        return bool(found)


@pytest.fixture
def cluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Cluster]:
    """`cns` filled through the app's own commands (demo activity in Ba Đình, staff member Lan)
    and `rasa` holding a stand-in for Rasa's tracker table; every database dropped after."""
    base = postgres_base_url()
    assert base is not None
    cluster = Cluster(base)
    for name in ("cns", "rasa"):
        cluster.execute(f'CREATE DATABASE "{cluster.names[name]}"')
    try:
        migrate.upgrade(cluster.url("cns"))
        for args in (
            ["seed-demo", "--communes", "1", "--residents", "40", "--months", "1"],
            ["staff", "add", "--username", "lan", "--name", "Chị Lan", "--commune", COMMUNE,
             "--password", PASSWORD],
        ):  # fmt: skip
            cns(monkeypatch, cluster.url("cns"), *args)
        cluster.execute(
            "CREATE TABLE events (id serial PRIMARY KEY, sender_id text, data text);"
            "INSERT INTO events (sender_id, data) VALUES ('r1', 'xin chào')",
            cluster.names["rasa"],
        )
        (tmp_path / "sao-luu").mkdir()
        yield cluster
    finally:
        for name in cluster.names.values():
            cluster.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def cns(monkeypatch: pytest.MonkeyPatch, database_url: str, *args: str) -> str:
    """Run `cns ARGS` on `database_url`; its output."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    forget_database_caches()
    try:
        result = CliRunner().invoke(cli, list(args))
    finally:
        db.get_engine().dispose()
        forget_database_caches()
    assert result.exit_code == 0, result.output
    return result.output


def served_report(database_url: str) -> bytes:
    """Last month's CSV report of Ba Đình, as the gateway on `database_url` gives it to Lan."""
    with TestClient(
        create_app(offline_settings(database_url)), base_url="https://testserver"
    ) as client:
        signed_in = client.post("/admin/api/login", json={"username": "lan", "password": PASSWORD})
        assert signed_in.status_code == 200, signed_in.text
        response = client.get(
            "/admin/api/report",
            params={"commune": COMMUNE, "month": LAST_MONTH.label, "format": "csv"},
        )
    db.get_engine().dispose()  # no connection may stay: the guide renames the database
    assert response.status_code == 200, response.text
    content: bytes = response.content
    return content


def back_up_and_restore(cluster: Cluster, monkeypatch: pytest.MonkeyPatch, cwd: Path) -> None:
    """The guide's backup; then a staff member added after it; then the guide's restore."""
    for line in guide_lines(BACKUP):
        cluster.run(line, cwd)
    made = {path.name.split("-", 1)[0]: path.name for path in (cwd / "sao-luu").iterdir()}
    assert sorted(made) == ["cns", "rasa"], made
    cns(monkeypatch, cluster.url("cns"), "staff", "add", "--username", "hung", "--name",
        "Anh Hùng", "--province", "01", "--password", PASSWORD)  # fmt: skip
    day = re.search(r"\d{4}-\d{2}-\d{2}", made["cns"])
    assert day is not None
    for line in guide_lines(RESTORE):
        if "dropdb" not in line:  # the old copies are dropped only when all is well
            cluster.run(re.sub(r"\d{4}-\d{2}-\d{2}", day.group(), line), cwd)


def staff(monkeypatch: pytest.MonkeyPatch, database_url: str) -> list[str]:
    return [
        row.split("\t")[0]
        for row in cns(monkeypatch, database_url, "staff", "list").split("\n")
        if row
    ]


def test_a_restored_backup_is_served_as_it_was(
    cluster: Cluster, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    before = served_report(cluster.url("cns"))
    assert f"commune,{COMMUNE}," in before.decode("utf-8-sig")
    back_up_and_restore(cluster, monkeypatch, tmp_path)

    assert cns(monkeypatch, cluster.url("cns"), "migrate") == "Database schema is up to date.\n"
    assert served_report(cluster.url("cns")) == before
    assert staff(monkeypatch, cluster.url("cns")) == ["lan"]  # as at the backup
    assert staff(monkeypatch, cluster.url("cns_cu")) == ["hung", "lan"]  # kept aside
    rasa = make_engine(cluster.url("rasa"))
    with rasa.connect() as connection:
        rows = connection.execute(text("SELECT sender_id, data FROM events")).all()
    assert [tuple(row) for row in rows] == [("r1", "xin chào")]
    rasa.dispose()

    for line in guide_lines(RESTORE):
        if "dropdb" in line:
            cluster.run(line, tmp_path)
    assert not cluster.exists("cns_cu")
    assert not cluster.exists("rasa_cu")


def test_a_restore_can_be_undone(
    cluster: Cluster, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    back_up_and_restore(cluster, monkeypatch, tmp_path)
    for line in guide_lines(UNDO):
        cluster.run(line, tmp_path)
    assert staff(monkeypatch, cluster.url("cns")) == ["hung", "lan"]  # as before the restore
    assert not cluster.exists("cns_cu")
    assert cluster.exists("rasa")
