"""One entry point for every report format: `render(report, "xlsx" | "html" | "csv")`, the
media type to serve it with and the file name to save it under."""

from __future__ import annotations

from reports.excel import excel_bytes
from reports.html import render_html
from reports.model import Report
from reports.tidy import csv_bytes

FORMATS = ("xlsx", "html", "csv")
MEDIA_TYPES: dict[str, str] = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "html": "text/html; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
}
_SCOPES = {"commune": "xa", "province": "tinh"}


def render(report: Report, fmt: str) -> bytes:
    """The report as a file of format `fmt` (ValueError for an unknown format)."""
    if fmt == "xlsx":
        return excel_bytes(report)
    if fmt == "html":
        return render_html(report).encode("utf-8")
    if fmt == "csv":
        return csv_bytes(report)
    raise ValueError(f"unknown report format {fmt!r}; use one of {', '.join(FORMATS)}")


def filename(report: Report, fmt: str) -> str:
    """An ASCII file name: bao-cao-xa-00004-2026-10.xlsx, bao-cao-tinh-01-2026-10.csv."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown report format {fmt!r}; use one of {', '.join(FORMATS)}")
    return f"bao-cao-{_SCOPES[report.kind]}-{report.place.code}-{report.period.label}.{fmt}"
