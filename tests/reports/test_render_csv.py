"""The tidy CSV (read back with the csv module), and `reports.render`: formats, media types and
file names."""

from __future__ import annotations

import csv
from io import StringIO

import pytest

from reports.model import Report
from reports.render import FORMATS, MEDIA_TYPES, filename, render
from reports.tidy import csv_bytes
from tests.pii_corpus import CORPUS
from tests.reports.factories import (
    FORMULA_NAMES,
    FORMULAS,
    commune_report,
    hostile_commune_report,
    province_report,
)

HEADER = ["scope", "code", "name", "period", "section", "metric", "dimension", "value"]


def read(report: Report) -> list[list[str]]:
    data = csv_bytes(report)
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    return list(csv.reader(StringIO(data.decode("utf-8-sig"))))


def where(rows: list[list[str]], **fields: str) -> list[list[str]]:
    return [row for row in rows if all(row[HEADER.index(name)] == v for name, v in fields.items())]


def test_a_commune_report_in_long_format() -> None:
    rows = read(commune_report())
    assert rows[0] == HEADER
    ba_dinh = ["commune", "00004", "Phường Ba Đình"]
    assert rows[1] == [*ba_dinh, "2026-10", "summary", "residents", "", "1234"]
    assert where(rows, period="2026-09", metric="residents") == [
        [*ba_dinh, "2026-09", "summary", "residents", "", "987"]
    ]
    summary = {row[5]: row[7] for row in where(rows, period="2026-10", section="summary")}
    assert len(summary) == 27
    assert (summary["screens_read"], summary["screens_recognised"]) == ("64", "51")
    assert summary["self_service_rate"] == "0.85"
    assert summary["fallback_rate"] == "0.065006"
    assert summary["claim_p90"] == "3900"
    assert summary["rating_average"] == "4.6"
    assert where(rows, section="service", dimension="vneid_activation") == [
        [*ba_dinh, "2026-10", "service", metric, "vneid_activation", value]
        for metric, value in (
            ("started", "200"),
            ("completed", "150"),
            ("completion_rate", "0.75"),
            ("stuck", "40"),
            ("stuck_step", "3"),
            ("stuck_at_step", "25"),
        )
    ]
    assert (
        where(rows, section="service", dimension="permanent_residence", metric="stuck_step")[0][7]
        == ""
    )
    assert where(rows, section="week", dimension="2026-10-19") == [
        [*ba_dinh, "2026-10", "week", "residents", "2026-10-19", "< 5"],
        [*ba_dinh, "2026-10", "week", "conversations", "2026-10-19", "4"],
        [*ba_dinh, "2026-10", "week", "messages_in", "2026-10-19", "20"],
    ]
    assert where(rows, section="channel", dimension="web", metric="residents")[0][7] == "< 5"
    assert where(rows, section="missed")[:2] == [
        [*ba_dinh, "2026-10", "missed", "text", "cách đổi ảnh thẻ căn cước", "31"],
        [*ba_dinh, "2026-10", "missed", "intent", "service_vneid_recovery", "17"],
    ]
    assert where(rows, section="volunteer", dimension="Chị Lan") == [
        [*ba_dinh, "2026-10", "volunteer", "claimed", "Chị Lan", "140"],
        [*ba_dinh, "2026-10", "volunteer", "resolved", "Chị Lan", "135"],
    ]
    # 2 × 27 summary, 5 weeks × 3, 3 services × 6, 2 lessons × 5, 3 channels × 2, 3 missed,
    # 2 volunteers × 2, 2 announcements × 12 and their 4 reasons, 3 channels × 3 subscription
    # counts and 3 reasons to unsubscribe
    assert len(rows) == 1 + 54 + 15 + 18 + 10 + 6 + 3 + 4 + 28 + 12


def test_a_province_report_has_a_block_per_commune() -> None:
    rows = read(province_report())
    assert rows[1] == ["province", "01", "Thành phố Hà Nội", "2026-10", "summary", "residents",
                       "", "1270"]  # fmt: skip
    assert not where(rows, section="volunteer")
    assert where(rows, scope="commune", metric="residents", period="2026-10") == [
        ["commune", "00004", "Phường Ba Đình", "2026-10", "summary", "residents", "", "1234"],
        ["commune", "00008", "Phường Ngọc Hà", "2026-10", "summary", "residents", "", "40"],
        ["commune", "00025", "Phường Giảng Võ", "2026-10", "summary", "residents", "", "< 5"],
        ["commune", "00070", "Phường Hoàn Kiếm", "2026-10", "summary", "residents", "", "0"],
    ]
    assert [(row[1], row[7]) for row in where(rows, metric="rank")] == [
        ("00004", "1"),
        ("00008", "2"),
        ("00025", "3"),
    ]
    assert where(rows, code="00070", period="2026-09", metric="residents")[0][7] == "6"
    assert len(where(rows, scope="commune")) == 4 * 54 + 3
    assert {row[0] for row in where(rows, section="week")} == {"province"}


@pytest.mark.parametrize("fmt", FORMATS)
def test_render_every_format(fmt: str) -> None:
    data = render(commune_report(), fmt)
    start = {"xlsx": b"PK", "html": b"<!DOCTYPE html>", "csv": b"\xef\xbb\xbfscope,"}[fmt]
    assert data.startswith(start)
    assert set(MEDIA_TYPES) == set(FORMATS)


def test_media_types_and_file_names() -> None:
    assert MEDIA_TYPES["xlsx"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert MEDIA_TYPES["csv"] == "text/csv; charset=utf-8"
    assert filename(commune_report(), "xlsx") == "bao-cao-xa-00004-2026-10.xlsx"
    assert filename(province_report(), "html") == "bao-cao-tinh-01-2026-10.html"
    with pytest.raises(ValueError, match="pdf"):
        render(commune_report(), "pdf")
    with pytest.raises(ValueError, match="pdf"):
        filename(commune_report(), "pdf")


def test_text_that_would_start_a_formula_gets_an_apostrophe() -> None:
    rows = read(hostile_commune_report())
    missed = [row[6] for row in where(rows, section="missed")][: len(FORMULAS)]
    assert missed == [text if text == "#N/A" else "'" + text for text in FORMULAS]
    names = [row[6] for row in where(rows, section="volunteer", metric="claimed")]
    assert names == ["'" + name for name in FORMULA_NAMES] + ["Lan [số điện thoại]"]
    # Values (numbers, "< 5") are written as they were.
    expired = where(rows, period="2026-10", section="summary", metric="handoffs_expired")
    assert expired[0][7] == "9"
    assert all(not row[7].startswith("'") for row in rows[1:])


def test_formulas_never_reach_a_spreadsheet_through_the_csv() -> None:
    data = csv_bytes(hostile_commune_report()).decode("utf-8-sig")
    for row in csv.reader(StringIO(data)):
        for cell in row:
            assert not cell.startswith(("=", "+", "@", "\t", "\r")), cell
            if cell.startswith("-"):
                float(cell)  # only numbers start with a minus


def test_free_text_stored_before_masking_is_masked_in_the_csv() -> None:
    rows = read(hostile_commune_report())
    shown = [row[6] for row in where(rows, section="missed")][len(FORMULAS) :]
    assert len(shown) == len(CORPUS)
    assert [(s.text, text) for s, text in zip(CORPUS, shown, strict=True) if s.leaks(text)] == []


def test_announcements_and_subscriptions() -> None:
    rows = read(commune_report())
    ba_dinh = ["commune", "00004", "Phường Ba Đình", "2026-10", "announcement"]
    assert where(rows, section="announcement", dimension="12") == [
        [*ba_dinh, metric, "12", value]
        for metric, value in (
            ("title", "Ngày hỗ trợ cài VNeID tại nhà văn hóa tổ 3"),
            ("category", "event"),
            ("sender", "Phường Ba Đình"),
            ("started", "2026-10-03"),
            ("targeted", "420"),
            ("sent", "371"),
            ("failed", "11"),
            ("unreachable", "38"),
            ("pending", "0"),
            ("unsubscribed", "6"),
            ("replies", "44"),
            ("handoffs", "7"),
            ("failed.blocked", "9"),
            ("failed.gave_up", "< 5"),
            ("unreachable.zalo_48h", "38"),
        )
    ]
    assert where(rows, section="announcement", dimension="15", metric="unsubscribed")[0][7] == (
        "< 5"
    )
    subscriptions = {(row[5], row[6]): row[7] for row in where(rows, section="subscription")}
    assert subscriptions == {
        ("subscribed", "zalo"): "61",
        ("unsubscribed", "zalo"): "8",
        ("subscribers", "zalo"): "240",
        ("subscribed", "telegram"): "33",
        ("unsubscribed", "telegram"): "5",
        ("subscribers", "telegram"): "180",
        ("subscribed", "web"): "< 5",
        ("unsubscribed", "web"): "0",
        ("subscribers", "web"): "13",
        ("unsubscribed_reason", "resident"): "7",
        ("unsubscribed_reason", "blocked"): "< 5",
        ("unsubscribed_reason", "unfollowed"): "< 5",
    }
