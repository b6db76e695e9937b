"""The report as one self-contained HTML page: inline CSS and SVG charts, no script, no external
file. Laid out like the Excel workbook (official heading, summary, one section per topic),
readable on a phone and printable on A4 in black and white, one topic per page."""

from __future__ import annotations

from html import escape

from reports import labels
from reports.model import Report
from reports.sections import (
    SUMMARY_HEADING,
    Section,
    Table,
    Value,
    heading,
    sections,
    shown,
    shown_change,
    summary,
)
from reports.svg import chart_svg

WIDE_COLUMNS = 8
# The key figures shown as cards above the summary table.
KEY_FIGURES = ("residents", "conversations", "self_service_rate", "handoffs_resolved")

CSS = """
*{box-sizing:border-box}
html{background:#e9ecf1;color:#1a1a1a;-webkit-text-size-adjust:100%}
body{margin:0;font:15px/1.5 "Segoe UI",Roboto,"Noto Sans",Arial,sans-serif}
.page{max-width:960px;margin:24px auto;background:#fff;padding:40px 48px;
 box-shadow:0 2px 12px rgba(0,0,0,.12)}
.official{display:flex;justify-content:space-between;gap:24px;text-align:center}
.official p{margin:0;font-size:14px}
.official .strong{font-weight:700}
.official hr{width:40%;margin:4px auto 0;border:0;border-top:1px solid #1a1a1a}
.synthetic{margin:20px 0 0;padding:10px 14px;border:2px solid #c00000;color:#c00000;
 font-weight:700;text-align:center}
h1{margin:28px 0 4px;text-align:center;font-size:22px;letter-spacing:.02em}
.month{margin:0;text-align:center;font-weight:700;font-size:17px}
.meta{margin:2px 0;text-align:center;font-style:italic;color:#333}
h2{margin:36px 0 12px;font-size:18px;border-bottom:2px solid #1f3864;padding-bottom:4px}
.cards{display:grid;grid-template-columns:repeat(4,1fr);gap:12px;margin:0 0 18px}
.card{border:1px solid #9aa5b8;border-left:5px solid #1f3864;padding:10px 12px}
.card .figure{font-size:24px;font-weight:700;line-height:1.2}
.card .what{font-size:13px;color:#333}
.card .delta{font-size:13px;color:#333}
.scroll{overflow-x:auto}
table.wide{min-width:880px}
table{border-collapse:collapse;width:100%;margin:0 0 8px;font-size:14px}
caption{text-align:left;font-style:italic;padding:4px 0}
th,td{border:1px solid #777;padding:5px 8px;vertical-align:top}
thead th{background:#dde4ee;text-align:center;font-weight:700}
td.num{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
tfoot td{font-weight:700;background:#f2f2f2}
td.empty{text-align:center;font-style:italic;color:#444}
.note{font-size:13px;font-style:italic;color:#333;margin:6px 0 0}
.chart{display:block;width:100%;height:auto;margin:8px 0 16px}
footer{margin-top:32px;font-size:13px}
.signers{display:flex;justify-content:space-around;margin-top:24px;text-align:center}
.signers p{margin:0}.signers .hint{font-style:italic;margin-bottom:72px}
@media (max-width:640px){
 .page{margin:0;padding:18px 14px;box-shadow:none}
 .official{flex-direction:column;gap:10px}
 .cards{grid-template-columns:repeat(2,1fr)}
 h1{font-size:18px}
}
@page{size:A4;margin:15mm 14mm}
@media print{
 html,body{background:#fff}
 body{font-family:"Times New Roman",Times,serif;font-size:12.5pt}
 .page{margin:0;padding:0;max-width:none;box-shadow:none}
 section.topic{break-before:page}
 table,svg,.cards,.signers{break-inside:avoid}
 tr{break-inside:avoid}
 thead{display:table-header-group}
 table.wide{min-width:0;font-size:10pt}
}
"""


def render_html(report: Report) -> str:
    """The whole page."""
    top = heading(report)
    title = f"{top.title} – {top.place} – {top.month}"
    body = [
        _official(report),
        _banner(report),
        f"<h1>{escape(top.title)}</h1>",
        f'<p class="month">{escape(top.month)}</p>',
        f'<p class="meta">{escape(top.scope)}</p>',
        f'<p class="meta">{escape(top.created)}</p>',
        _summary(report),
        *(_section(section) for section in sections(report)),
        _footer(),
    ]
    return (
        '<!DOCTYPE html>\n<html lang="vi">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{CSS}</style>\n</head>\n"
        f'<body>\n<main class="page">\n{"".join(body)}\n</main>\n</body>\n</html>\n'
    )


def _official(report: Report) -> str:
    top = heading(report)
    return (
        '<header class="official">'
        f'<div><p>{escape(top.authority)}</p><p class="strong">{escape(top.unit)}</p><hr></div>'
        f'<div><p class="strong">{escape(labels.NATION)}</p>'
        f'<p class="strong">{escape(labels.MOTTO)}</p><hr></div>'
        "</header>"
    )


def _banner(report: Report) -> str:
    if not report.synthetic:
        return ""
    return f'<p class="synthetic" role="alert">{escape(labels.SYNTHETIC)}</p>'


def _cards(report: Report) -> str:
    cards = []
    for metric in KEY_FIGURES:
        kind = labels.kind(metric)
        figure = Value(shown(report.current, metric), kind).text
        delta = shown_change(report.current, report.previous, metric).text
        cards.append(
            f'<div class="card"><div class="figure">{escape(figure)}</div>'
            f'<div class="what">{escape(labels.label(metric))}</div>'
            f'<div class="delta">So với tháng trước: {escape(delta)}</div></div>'
        )
    return f'<div class="cards">{"".join(cards)}</div>'


def _summary(report: Report) -> str:
    return (
        f'<section id="summary"><h2>{escape(SUMMARY_HEADING)}</h2>'
        f"{_cards(report)}{_table(summary(report))}</section>"
    )


def _section(section: Section) -> str:
    charts = "".join(chart_svg(chart) for chart in section.charts)
    tables = "".join(_table(table) for table in section.tables)
    note = f'<p class="note">{escape(section.note)}</p>' if section.note else ""
    return (
        f'<section class="topic" id="{escape(section.key)}">'
        f"<h2>{escape(section.heading)}</h2>{charts}{tables}{note}</section>"
    )


def _cell(value: Value, tag: str = "td") -> str:
    css = "" if value.kind is labels.Kind.TEXT else ' class="num"'
    return f"<{tag}{css}>{escape(value.text)}</{tag}>"


def _table(table: Table) -> str:
    caption = f"<caption>{escape(table.caption)}</caption>" if table.caption else ""
    head = "".join(f'<th scope="col">{escape(column.title)}</th>' for column in table.columns)
    if table.rows:
        body = "".join(f"<tr>{''.join(_cell(v) for v in row)}</tr>" for row in table.rows)
    else:
        span = len(table.columns)
        body = f'<tr><td class="empty" colspan="{span}">{escape(table.empty)}</td></tr>'
    # Many columns: the table keeps readable widths and scrolls sideways on a phone.
    wide = ' class="wide"' if len(table.columns) > WIDE_COLUMNS else ""
    foot = ""
    if table.total is not None and table.rows:
        foot = f"<tfoot><tr>{''.join(_cell(v) for v in table.total)}</tr></tfoot>"
    return (
        f'<div class="scroll"><table{wide}>{caption}<thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody>{foot}</table></div>"
    )


def _footer() -> str:
    signers = "".join(
        f'<div><p><strong>{escape(role)}</strong></p><p class="hint">{escape(hint)}</p></div>'
        for role, hint in labels.SIGNERS
    )
    return (
        f'<footer><p class="note">{escape(labels.SOURCE)}</p>'
        f'<p class="note">{escape(labels.PRIVACY)}</p>'
        f'<div class="signers">{signers}</div></footer>'
    )
