"""`cns report`: events recorded through the repository, the command run with click's runner,
the written file read back (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from openpyxl import load_workbook

from cns.main import cli
from cns.reports import REPORTS_DIR
from core.db import session_scope
from core.models import EventType, utcnow
from core.repositories.events import record_event
from core.settings import VAR_DIR
from reports.model import Period

BA_DINH, NGOC_HA = "00004", "00008"  # two wards of Hà Nội
OCTOBER_10 = datetime(2026, 10, 10, 3, tzinfo=UTC)


@pytest.fixture
def events(app_database: str) -> None:
    """Six residents of Ba Đình and two of Ngọc Hà write in October 2026; one walkthrough."""
    with session_scope() as session:
        for number in range(6):
            record_event(
                session=session,
                type=EventType.MESSAGE_IN,
                channel="zalo",
                resident_id=f"r{number}",
                commune_code=BA_DINH,
                occurred_at=OCTOBER_10,
            )
        for number in range(2):
            record_event(
                session=session,
                type=EventType.MESSAGE_IN,
                channel="telegram",
                resident_id=f"n{number}",
                commune_code=NGOC_HA,
                occurred_at=OCTOBER_10,
            )
        record_event(
            session=session,
            type=EventType.SERVICE_STARTED,
            channel="zalo",
            resident_id="r0",
            commune_code=BA_DINH,
            key="vneid_activation",
            occurred_at=OCTOBER_10,
        )


@pytest.fixture
def reports_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The default folder (var/reports of the app) in a scratch place; the working directory
    elsewhere, so that a report written there would show."""
    folder = tmp_path / "var" / "reports"
    monkeypatch.setattr("cns.reports.REPORTS_DIR", folder)
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    return folder


def run(*args: str, answer: str | None = None) -> Result:
    return CliRunner().invoke(cli, ["report", *args], input=answer)


def csv_rows(path: Path) -> list[list[str]]:
    return list(csv.reader(StringIO(path.read_text(encoding="utf-8-sig"))))


@pytest.mark.usefixtures("events")
def test_a_commune_report_as_csv(tmp_path: Path) -> None:
    out = tmp_path / "ba-dinh.csv"
    result = run("--commune", "00004", "--month", "2026-10", "--format", "csv", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert result.output == f"Report of Phường Ba Đình, tháng 10/2026, written to {out}\n"
    rows = csv_rows(out)
    assert rows[1] == [
        "commune", "00004", "Phường Ba Đình", "2026-10", "summary", "residents", "", "6"
    ]  # fmt: skip
    found = {(row[4], row[5], row[6]): row[7] for row in rows[1:] if row[3] == "2026-10"}
    assert found["summary", "messages_in", ""] == "6"
    assert found["service", "started", "vneid_activation"] == "1"
    assert found["channel", "residents", "zalo"] == "6"


def test_reports_go_under_the_apps_var_directory_by_default() -> None:
    assert REPORTS_DIR == VAR_DIR / "reports"


@pytest.mark.usefixtures("events")
def test_default_format_and_file_name_with_a_name_typed_without_diacritics(
    reports_dir: Path,
) -> None:
    result = run("--commune", "phuong ba dinh ha noi", "--month", "2026-10")
    assert result.exit_code == 0, result.output
    written = reports_dir / "bao-cao-xa-00004-2026-10.xlsx"
    assert result.output.endswith(f"written to {written}\n")
    assert list(Path.cwd().iterdir()) == []
    sheet = load_workbook(written)["Tổng hợp"]
    assert sheet["A2"].value == "PHƯỜNG BA ĐÌNH"
    assert (sheet["B12"].value, sheet["C12"].value, sheet["D12"].value) == (
        "Số người dân được hỗ trợ",
        6,
        0,
    )


@pytest.mark.usefixtures("events")
def test_a_province_report_hides_small_communes(tmp_path: Path) -> None:
    out = tmp_path / "ha-noi.csv"
    result = run("--province", "ha noi", "--month", "2026-10", "--format", "csv", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "Report of Thành phố Hà Nội, tháng 10/2026" in result.output
    rows = csv_rows(out)
    residents = {row[1]: row[7] for row in rows if row[3:6] == ["2026-10", "summary", "residents"]}
    assert (residents["01"], residents[BA_DINH], residents[NGOC_HA]) == ("8", "6", "< 5")
    html = tmp_path / "ha-noi.html"
    result = run("--province", "01", "--month", "2026-10", "--format", "html", "--out", str(html))
    assert result.exit_code == 0, result.output
    page = html.read_text(encoding="utf-8")
    assert "Phường Ngọc Hà" in page
    assert "Xã, phường chưa có hoạt động (124)" in page


def test_the_default_month_is_last_month(app_database: str, reports_dir: Path) -> None:
    last = Period.containing(utcnow()).previous()
    result = run("--province", "80", "--format", "html")
    assert result.exit_code == 0, result.output
    assert (reports_dir / f"bao-cao-tinh-80-{last.label}.html").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--month", "2026-10"], "give exactly one of --commune or --province"),
        (["--commune", "00004", "--province", "01"], "give exactly one of"),
        (["--commune", "00004", "--month", "2026-13"], "YYYY-MM"),
        (["--commune", "99999"], "no commune has the code 99999"),
        (["--province", "99"], "no province has the code 99"),
        (["--province", "xyzzy"], "no province matches 'xyzzy'"),
        (["--commune", "00004", "--format", "pdf"], "'pdf' is not one of"),
    ],
)
def test_usage_errors_are_explained(app_database: str, args: list[str], message: str) -> None:
    result = run(*args)
    assert result.exit_code == 2
    assert message in result.output


def test_an_ambiguous_commune_name_asks_which_one(app_database: str, tmp_path: Path) -> None:
    out = tmp_path / "tan-lap.csv"
    result = run("--commune", "tan lap", "--month", "2026-10", "--format", "csv",
                 "--out", str(out), answer="4\n")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Xã Tân Lập, Tây Ninh (25489)" in result.output
    assert csv_rows(out)[1][:3] == ["commune", "25489", "Xã Tân Lập"]
