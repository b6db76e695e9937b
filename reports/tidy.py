"""The report as a tidy CSV (one number per row) for spreadsheets and scripts:

    scope,code,name,period,section,metric,dimension,value

- `section=summary`: every metric of `Metrics` and its rates (`dimension` empty), for the
  month and for the month before (`period` = that month, "2026-09"); a province report has
  this block for the province (`scope=province`) and then for each commune (`scope=commune`,
  with `metric=rank` for the active ones).
- this month only: `week` (dimension = the Monday, ISO date), `service` and `lesson` (the
  key), `channel`, `missed` (metric = "text" or "intent", dimension = the words or the intent,
  value = how many times) and, in a commune report, `volunteer` (the display name).
- `announcement` (dimension = the announcement's id): `title`, `category`, `sender`,
  `started` (ISO date) as text, then `targeted`, `sent`, `failed`, `unreachable`, `pending`,
  `unsubscribed`, `replies`, `handoffs`, and per reason `failed.<reason>` /
  `unreachable.<reason>` (e.g. `failed.blocked`, `unreachable.zalo_48h`).
- `subscription`: `subscribed`, `unsubscribed` and `subscribers` (at the month's end) with
  dimension = the channel, and `unsubscribed_reason` with dimension = why.

Numbers are plain (dot decimals, rates as fractions, durations in seconds); an undefined value
is empty. Counts of residents from 1 to 4 are "< 5". UTF-8 with a BOM, so Excel reads the
Vietnamese names right. Text that would start a formula gets a leading apostrophe, and the
words people typed (missed questions, volunteer names) are masked again.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from io import StringIO

from core.privacy import mask_pii
from reports import labels
from reports.cells import csv_text
from reports.model import AnnouncementRow, Metrics, Period, Report, residents_shown
from reports.sections import Cell, shown

HEADER = ("scope", "code", "name", "period", "section", "metric", "dimension", "value")
SERVICE_METRICS = (
    "started",
    "completed",
    "completion_rate",
    "stuck",
    "stuck_step",
    "stuck_at_step",
)
LESSON_METRICS = ("started", "completed", "completion_rate", "quizzes_passed", "quiz_pass_rate")
Row = tuple[str, str, str, str, str, str, str, str]


def csv_bytes(report: Report) -> bytes:
    """The CSV file, UTF-8 with a byte order mark."""
    out = StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    writer.writerows(rows(report))
    return out.getvalue().encode("utf-8-sig")


def rows(report: Report) -> Iterator[Row]:
    place = report.place
    yield from _summary(report.kind, place.code, place.name, report.period, report.current)
    yield from _summary(
        report.kind, place.code, place.name, report.period.previous(), report.previous
    )
    yield from _sections(report)
    for commune in report.communes:
        yield from _summary("commune", commune.code, commune.name, report.period, commune.current)
        if commune.rank is not None:
            yield _row(
                "commune",
                commune.code,
                commune.name,
                report.period,
                "summary",
                "rank",
                "",
                commune.rank,
            )
        yield from _summary(
            "commune", commune.code, commune.name, report.period.previous(), commune.previous
        )


def _text(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return csv_text(value)
    if isinstance(value, int):
        return str(value)
    return f"{round(value, 6):f}".rstrip("0").rstrip(".")


def _row(
    scope: str,
    code: str,
    name: str,
    period: Period,
    section: str,
    metric: str,
    dimension: str,
    value: Cell,
) -> Row:
    safe = csv_text
    return (
        scope,
        safe(code),
        safe(name),
        period.label,
        section,
        metric,
        safe(dimension),
        _text(value),
    )


def _summary(scope: str, code: str, name: str, period: Period, metrics: Metrics) -> Iterator[Row]:
    for metric in labels.METRICS:
        yield _row(scope, code, name, period, "summary", metric, "", shown(metrics, metric))


def _sections(report: Report) -> Iterator[Row]:
    place, period = report.place, report.period

    def row(section: str, metric: str, dimension: str, value: Cell) -> Row:
        return _row(report.kind, place.code, place.name, period, section, metric, dimension, value)

    for week in report.weeks:
        day = week.week_start.isoformat()
        yield row("week", "residents", day, residents_shown(week.residents))
        yield row("week", "conversations", day, week.conversations)
        yield row("week", "messages_in", day, week.messages_in)
    for service in report.services:
        for metric in SERVICE_METRICS:
            yield row("service", metric, service.service, getattr(service, metric))
    for lesson in report.lessons:
        for metric in LESSON_METRICS:
            yield row("lesson", metric, lesson.lesson, getattr(lesson, metric))
    for channel in report.channels:
        yield row("channel", "residents", channel.channel, residents_shown(channel.residents))
        yield row("channel", "messages_in", channel.channel, channel.messages_in)
    for missed in report.missed:
        yield row("missed", missed.kind, mask_pii(missed.text), missed.count)
    for volunteer in report.volunteers:
        name = mask_pii(volunteer.name)
        yield row("volunteer", "claimed", name, volunteer.claimed)
        yield row("volunteer", "resolved", name, volunteer.resolved)
    for announcement in report.announcements:
        for metric, value in _announcement(announcement):
            yield row("announcement", metric, str(announcement.id), value)
    for subscription in report.subscriptions:
        for metric in ("subscribed", "unsubscribed", "subscribers"):
            count = residents_shown(getattr(subscription, metric))
            yield row("subscription", metric, subscription.channel, count)
    for why, count in report.unsubscribed_by.items():
        yield row("subscription", "unsubscribed_reason", why, residents_shown(count))


def _announcement(row: AnnouncementRow) -> Iterator[tuple[str, Cell]]:
    """One announcement's rows: what it is, then its counts (resident counts hidden)."""
    yield from (("title", row.title), ("category", row.category), ("sender", row.sender))
    yield "started", row.started.isoformat()
    counts = {
        "targeted": row.targeted,
        "sent": row.sent,
        "failed": sum(row.failed.values()),
        "unreachable": sum(row.unreachable.values()),
        "pending": row.pending,
        "unsubscribed": row.unsubscribed,
        "replies": row.replies,
    }
    for metric, count in counts.items():
        yield metric, residents_shown(count)
    yield "handoffs", row.handoffs
    for kind, reasons in (("failed", row.failed), ("unreachable", row.unreachable)):
        for reason, count in reasons.items():
            yield f"{kind}.{reason}", residents_shown(count)
