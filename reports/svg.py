"""Bar charts drawn as inline SVG for the HTML report: no script, no external file, readable
when printed in black and white (a dark and a light outlined series, values written on the
bars)."""

from __future__ import annotations

from html import escape
from math import floor, log10

from reports import labels
from reports.labels import Kind
from reports.sections import Chart

FILLS = ("#1f3864", "#bdd7ee")
OUTLINE = "#1f3864"
TEXT = "#222"
GRID = "#d0d0d0"
WIDTH = 720
LABEL_CHARS = 46  # longer row names are cut (the full name is in the table and the tooltip)


def chart_svg(chart: Chart) -> str:
    """The chart as an <svg> element (empty string when the table has no rows)."""
    if not chart.table.rows:
        return ""
    return _horizontal(chart) if chart.horizontal else _vertical(chart)


def _values(chart: Chart) -> tuple[list[str], list[list[float | None]]]:
    """Row names, and per series the numbers (minutes for durations; None when missing)."""
    names = [str(row[0].raw) for row in chart.table.rows]
    series = []
    for column in chart.series:
        numbers: list[float | None] = []
        for row in chart.table.rows:
            raw = row[column].raw
            if raw is None or isinstance(raw, str):
                numbers.append(None)
            else:
                numbers.append(raw / 60 if chart.kind is Kind.SECONDS else float(raw))
        series.append(numbers)
    return names, series


def _value_text(chart: Chart, value: float | None) -> str:
    if value is None:
        return labels.NO_DATA
    return labels.show(value * 60 if chart.kind is Kind.SECONDS else value, chart.kind)


def _scale(top: float) -> tuple[float, float]:
    """A round axis maximum and tick step (1, 2 or 5 × 10^n) for values up to `top`."""
    if top <= 0:
        return 1.0, 1.0
    rough = top / 4
    magnitude = 10 ** floor(log10(rough))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= rough)
    return step * -(-top // step), step


def _ticks(maximum: float, step: float) -> list[float]:
    count = round(maximum / step)
    return [step * k for k in range(count + 1)]


def _cut(name: str) -> str:
    return name if len(name) <= LABEL_CHARS else name[: LABEL_CHARS - 1].rstrip() + "…"


def _legend(chart: Chart, x: float, y: float) -> str:
    parts = []
    for index, column in enumerate(chart.series):
        title = escape(chart.table.columns[column].title)
        left = x + index * 190
        parts.append(
            f'<rect x="{left}" y="{y - 10}" width="14" height="12" fill="{FILLS[index]}" '
            f'stroke="{OUTLINE}"/><text x="{left + 20}" y="{y}" font-size="12">{title}</text>'
        )
    return "".join(parts)


def _frame(chart: Chart, height: float, body: str) -> str:
    title = escape(chart.title)
    return (
        f'<svg class="chart" role="img" aria-label="{title}" viewBox="0 0 {WIDTH} {height:.0f}" '
        f'font-family="inherit" fill="{TEXT}">'
        f"<title>{title}</title>"
        f'<text x="0" y="16" font-size="14" font-weight="bold">{title}</text>{body}</svg>'
    )


def _vertical(chart: Chart) -> str:
    """Grouped columns, one group per row (e.g. per week)."""
    names, series = _values(chart)
    left, top, plot_w, plot_h = 56.0, 48.0, WIDTH - 70.0, 200.0
    maximum, step = _scale(max((v for s in series for v in s if v is not None), default=0))
    parts = [_legend(chart, left, 36)]
    for tick in _ticks(maximum, step):
        y = top + plot_h - tick / maximum * plot_h
        parts.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end">'
            f"{escape(labels.number(tick))}</text>"
        )
    group = plot_w / len(names)
    bar = min(42.0, group * 0.8 / len(series))
    for index, name in enumerate(names):
        start = left + index * group + (group - bar * len(series)) / 2
        for number, values in enumerate(series):
            value = values[index] or 0.0
            h = value / maximum * plot_h
            x, y = start + number * bar, top + plot_h - h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                f'fill="{FILLS[number]}" stroke="{OUTLINE}"/>'
                f'<text x="{x + bar / 2:.1f}" y="{y - 4:.1f}" font-size="10" '
                f'text-anchor="middle">{escape(_value_text(chart, values[index]))}</text>'
            )
        parts.append(
            f'<text x="{left + (index + 0.5) * group:.1f}" y="{top + plot_h + 18}" '
            f'font-size="12" text-anchor="middle">{escape(name)}</text>'
        )
    parts.append(
        f'<line x1="{left}" x2="{left + plot_w}" y1="{top + plot_h}" y2="{top + plot_h}" '
        f'stroke="{TEXT}"/>'
    )
    return _frame(chart, top + plot_h + 30, "".join(parts))


def _horizontal(chart: Chart) -> str:
    """Grouped bars, one group per row (e.g. per service), names on the left."""
    names, series = _values(chart)
    left, top, plot_w = 300.0, 48.0, WIDTH - 300.0 - 70.0
    bar = 13.0
    group = bar * len(series) + 12
    plot_h = group * len(names)
    maximum, step = _scale(max((v for s in series for v in s if v is not None), default=0))
    parts = [_legend(chart, 0, 36)]
    for tick in _ticks(maximum, step):
        x = left + tick / maximum * plot_w
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{top + plot_h}" stroke="{GRID}"/>'
            f'<text x="{x:.1f}" y="{top + plot_h + 16}" font-size="11" text-anchor="middle">'
            f"{escape(labels.number(tick))}</text>"
        )
    for index, name in enumerate(names):
        y0 = top + index * group + 6
        parts.append(
            f'<text x="{left - 8}" y="{y0 + group / 2:.1f}" font-size="12" text-anchor="end">'
            f"<title>{escape(name)}</title>{escape(_cut(name))}</text>"
        )
        for number, values in enumerate(series):
            value = values[index] or 0.0
            w, y = value / maximum * plot_w, y0 + number * bar
            parts.append(
                f'<rect x="{left}" y="{y:.1f}" width="{w:.1f}" height="{bar - 1}" '
                f'fill="{FILLS[number]}" stroke="{OUTLINE}"/>'
                f'<text x="{left + w + 4:.1f}" y="{y + bar - 3:.1f}" font-size="10">'
                f"{escape(_value_text(chart, values[index]))}</text>"
            )
    parts.append(f'<line x1="{left}" x2="{left}" y1="{top}" y2="{top + plot_h}" stroke="{TEXT}"/>')
    return _frame(chart, top + plot_h + 26, "".join(parts))
