"""`cns seed-demo`: makes marked synthetic data, says so and what to run next; `--clear`
removes it."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import func, select

from cns.main import cli
from core.db import session_scope
from core.models import Event, Volunteer, utcnow
from reports.model import Period


def _count() -> int:
    with session_scope() as session:
        return int(session.scalar(select(func.count()).select_from(Event)) or 0)


def test_seed_then_report_then_clear(app_database: str, tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(
        cli, ["seed-demo", "--communes", "2", "--residents", "60", "--months", "2"]
    )
    assert result.exit_code == 0, result.output
    month = Period.containing(utcnow()).previous().label
    assert "SYNTHETIC DEMO DATA" in result.output
    assert "Made 60 residents" in result.output
    assert "Phường Ba Đình (00004)" in result.output
    assert f"cns report --province 01 --month {month} --format xlsx" in result.output
    made = _count()
    assert made > 1000

    again = runner.invoke(cli, ["seed-demo", "--communes", "2", "--residents", "60"])
    assert again.exit_code == 0, again.output
    assert f"Deleted earlier synthetic data: {made:,} events" in again.output

    out = tmp_path / "report.xlsx"
    report = runner.invoke(
        cli, ["report", "--commune", "00004", "--month", month, "--out", str(out)]
    )
    assert report.exit_code == 0, report.output
    assert "synthetic data" in report.output
    assert out.stat().st_size > 0

    cleared = runner.invoke(cli, ["seed-demo", "--clear"])
    assert cleared.exit_code == 0, cleared.output
    assert "Deleted earlier synthetic data" in cleared.output
    assert "Made" not in cleared.output
    assert _count() == 0
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Volunteer)) == 0


def test_province_by_name_and_event_target(app_database: str) -> None:
    result = CliRunner().invoke(
        cli, ["seed-demo", "--province", "tp hcm", "--communes", "1", "--events", "2000"]
    )
    assert result.exit_code == 0, result.output
    assert "Thành phố Hồ Chí Minh" in result.output
    assert "cns report --province 79" in result.output
    assert _count() >= 2000
