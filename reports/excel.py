"""The report as an Excel workbook (pandas' ExcelWriter with openpyxl), laid out like an official
Vietnamese report: a "Tổng hợp" summary sheet with the national heading, a "Biểu đồ" sheet of
native charts, then one sheet per topic (`reports/sections.py`). A4, fit to the page width.

Durations are stored in minutes, rates as fractions with a "0.0%" format, hidden resident
counts as the text "< 5" and missing values as "—". Text is never a formula (`reports/cells.py`).
"""

from __future__ import annotations

from io import BytesIO
from math import ceil

import pandas as pd
from openpyxl.chart import BarChart, Reference
from openpyxl.chart.label import DataLabelList
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from reports import labels
from reports.cells import text_stays_text
from reports.labels import Kind
from reports.model import Report
from reports.sections import (
    SUMMARY_HEADING,
    Cell,
    Chart,
    Section,
    Table,
    Value,
    heading,
    sections,
    summary,
)

SUMMARY_SHEET = "Tổng hợp"
CHART_SHEET = "Biểu đồ"
FORMATS = {
    Kind.COUNT: "#,##0",
    Kind.RESIDENTS: "#,##0",
    Kind.RATE: "0.0%",
    Kind.SECONDS: '#,##0" phút"',
    Kind.RATING: "0.0",
    Kind.CHANGE: '+0%;"−"0%;0%',
    Kind.POINTS: '+0.0" điểm %";"−"0.0" điểm %";0.0" điểm %"',
    Kind.STEP: '"Bước "0',
}
LANDSCAPE_WIDTH = 100  # sheets wider than this many characters print landscape
RED = "C00000"
THIN = Side(style="thin", color="808080")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEADER_FILL = PatternFill("solid", fgColor="DDE4EE")
TOTAL_FILL = PatternFill("solid", fgColor="F2F2F2")
SERIES_COLORS = ("1F3864", "BDD7EE")  # dark and light: still two series in black and white
ROW_CM = 0.53  # a default Excel row is 15 points high
FONT = "Times New Roman"  # what Vietnamese administrative documents use


def excel_bytes(report: Report) -> bytes:
    """The whole workbook."""
    buffer = BytesIO()
    topics = sections(report)
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        first = _summary_sheet(writer, report)
        charts = writer.book.create_sheet(CHART_SHEET)
        placed: dict[int, tuple[Worksheet, int]] = {}
        for section in topics:
            placed.update(_topic_sheet(writer, report, section))
        _chart_sheet(charts, report, [c for s in topics for c in s.charts], placed)
        text_stays_text(writer.book)
        writer.book.active = writer.book.index(first)
    return buffer.getvalue()


# --- cells -----------------------------------------------------------------------------------


def _excel(value: Value) -> Cell:
    if value.raw is None:
        return labels.NO_DATA
    if value.kind is Kind.SECONDS and not isinstance(value.raw, str):
        return value.raw / 60
    if value.kind is Kind.POINTS and not isinstance(value.raw, str):
        return value.raw * 100
    return value.raw


def _font(
    *, size: float = 12, bold: bool = False, italic: bool = False, color: str | None = None
) -> Font:
    return Font(name=FONT, size=size, bold=bold, italic=italic, color=color)


def _line(
    sheet: Worksheet,
    row: int,
    text: str,
    *,
    first: int = 1,
    last: int,
    font: Font | None = None,
    horizontal: str = "center",
) -> None:
    """One line of text merged across columns `first`..`last`."""
    cell = sheet.cell(row=row, column=first, value=text)
    cell.font = font or _font(size=12)
    cell.alignment = Alignment(horizontal=horizontal, vertical="center", wrap_text=True)
    if last > first:
        sheet.merge_cells(start_row=row, start_column=first, end_row=row, end_column=last)


def _write_table(
    writer: pd.ExcelWriter, sheet_name: str, table: Table, start: int
) -> tuple[Worksheet, int]:
    """Write `table` with its header on row `start` (1-based); the row after it."""
    titles = [column.title for column in table.columns]
    rows = [[_excel(value) for value in row] for row in table.rows]
    if table.total is not None and table.rows:
        rows.append([_excel(value) for value in table.total])
    frame = pd.DataFrame(rows, columns=titles, dtype=object)
    frame.to_excel(writer, sheet_name=sheet_name, startrow=start - 1, index=False)
    sheet: Worksheet = writer.sheets[sheet_name]
    _style_table(sheet, table, start)
    if not table.rows:
        _line(
            sheet,
            start + 1,
            table.empty,
            last=len(table.columns),
            font=_font(italic=True, size=11),
        )
        sheet.cell(row=start + 1, column=1).border = BOX
        return sheet, start + 2
    return sheet, start + 1 + len(rows)


def _style_table(sheet: Worksheet, table: Table, start: int) -> None:
    for index, column in enumerate(table.columns, start=1):
        letter = get_column_letter(index)
        width = sheet.column_dimensions[letter].width or 0
        sheet.column_dimensions[letter].width = max(width, column.width)
        header = sheet.cell(row=start, column=index)
        header.font = _font(bold=True, size=11)
        header.fill = HEADER_FILL
        header.border = BOX
        header.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    sheet.row_dimensions[start].height = 32
    total = [table.total] if table.total is not None and table.rows else []
    for offset, row in enumerate([*table.rows, *total], start=1):
        is_total = offset > len(table.rows)
        for index, value in enumerate(row, start=1):
            cell = sheet.cell(row=start + offset, column=index)
            cell.border = BOX
            cell.font = _font(size=11, bold=is_total)
            if is_total:
                cell.fill = TOTAL_FILL
            if value.kind is Kind.TEXT:
                cell.alignment = Alignment(vertical="center", wrap_text=True)
            else:
                cell.alignment = Alignment(horizontal="right", vertical="center")
                if value.kind in FORMATS:
                    cell.number_format = FORMATS[value.kind]


def _print_setup(sheet: Worksheet, *, landscape: bool, title_row: int | None) -> None:
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.orientation = "landscape" if landscape else "portrait"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    sheet.print_options.horizontalCentered = True
    sheet.page_margins.left = sheet.page_margins.right = 0.5
    sheet.page_margins.top = sheet.page_margins.bottom = 0.6
    if title_row is not None:
        sheet.print_title_rows = f"{title_row}:{title_row}"


# --- sheets ----------------------------------------------------------------------------------


def _summary_sheet(writer: pd.ExcelWriter, report: Report) -> Worksheet:
    table = summary(report)
    width = len(table.columns)
    top = heading(report)
    table_row = 11
    sheet, end = _write_table(writer, SUMMARY_SHEET, table, table_row)
    bold = _font(bold=True, size=12)
    _line(sheet, 1, top.authority, last=2, font=_font(size=12))
    _line(sheet, 1, labels.NATION, first=3, last=width, font=bold)
    _line(sheet, 2, top.unit, last=2, font=bold)
    _line(sheet, 2, labels.MOTTO, first=3, last=width, font=bold)
    _line(sheet, 4, top.title, last=width, font=_font(bold=True, size=14))
    _line(sheet, 5, top.month, last=width, font=bold)
    _line(sheet, 6, top.scope, last=width, font=_font(italic=True, size=12))
    _line(sheet, 7, top.created, last=width, font=_font(italic=True, size=12))
    if report.synthetic:
        _line(sheet, 8, labels.SYNTHETIC, last=width, font=_font(bold=True, size=13, color=RED))
    _line(sheet, 10, SUMMARY_HEADING, last=width, font=bold, horizontal="left")
    for offset, text in enumerate((labels.SOURCE, labels.PRIVACY), start=1):
        _line(
            sheet,
            end + offset,
            text,
            last=width,
            font=_font(italic=True, size=10),
            horizontal="left",
        )
        sheet.row_dimensions[end + offset].height = 28
    signed = end + 4
    for (role, hint), (first, last) in zip(labels.SIGNERS, ((1, 2), (3, width)), strict=True):
        _line(sheet, signed, role, first=first, last=last, font=bold)
        _line(sheet, signed + 1, hint, first=first, last=last, font=_font(italic=True, size=11))
    sheet.sheet_view.showGridLines = False
    sheet.freeze_panes = f"A{table_row + 1}"
    _print_setup(sheet, landscape=False, title_row=table_row)
    return sheet


def _sheet_top(sheet: Worksheet, report: Report, title: str, width: int) -> None:
    """The report and place in small print, the sheet's title, the synthetic-data warning."""
    top = heading(report)
    small = _font(italic=True, size=10)
    about = f"{top.title} – {top.place} – {top.month}"
    _line(sheet, 1, about, last=width, font=small, horizontal="left")
    _line(sheet, 2, title, last=width, font=_font(bold=True, size=13), horizontal="left")
    if report.synthetic:
        red = _font(bold=True, size=12, color=RED)
        _line(sheet, 3, labels.SYNTHETIC, last=width, font=red, horizontal="left")


def _topic_sheet(
    writer: pd.ExcelWriter, report: Report, section: Section
) -> dict[int, tuple[Worksheet, int]]:
    """One topic on its own sheet; where each table's header row is (for the charts)."""
    width = max(len(table.columns) for table in section.tables)
    placed: dict[int, tuple[Worksheet, int]] = {}
    captions: list[tuple[int, str]] = []
    row = 4
    for table in section.tables:
        if table.caption:
            captions.append((row, table.caption))
            row += 1
        sheet, end = _write_table(writer, section.sheet, table, row)
        placed[id(table)] = (sheet, row)
        row = end + 1
    sheet, first_header = placed[id(section.tables[0])]
    _sheet_top(sheet, report, section.heading, width)
    small = _font(italic=True, size=10)
    for caption_row, caption in captions:
        _line(sheet, caption_row, caption, last=width, font=_font(italic=True), horizontal="left")
    if section.note:
        _line(sheet, row, section.note, last=width, font=small, horizontal="left")
        sheet.row_dimensions[row].height = 30
    sheet.freeze_panes = f"A{first_header + 1}"
    total = sum(column.width for column in section.tables[0].columns)
    _print_setup(sheet, landscape=total > LANDSCAPE_WIDTH, title_row=first_header)
    return placed


def _chart_sheet(
    sheet: Worksheet,
    report: Report,
    charts: list[Chart],
    placed: dict[int, tuple[Worksheet, int]],
) -> None:
    """Native Excel charts of the topic sheets' tables."""
    _sheet_top(sheet, report, CHART_SHEET, 12)
    drawn = [chart for chart in charts if chart.table.rows]
    if not drawn:
        _line(
            sheet,
            5,
            "Chưa có số liệu để vẽ biểu đồ.",
            last=12,
            font=_font(italic=True),
            horizontal="left",
        )
    row = 5
    for chart in drawn:
        bars = _bar_chart(chart, *placed[id(chart.table)])
        sheet.add_chart(bars, f"A{row}")
        row += ceil(bars.height / ROW_CM) + 2
    _print_setup(sheet, landscape=True, title_row=None)


def _bar_chart(chart: Chart, source: Worksheet, header: int) -> BarChart:
    count = len(chart.table.rows)
    bars = BarChart()
    bars.type = "bar" if chart.horizontal else "col"
    bars.title = chart.title
    bars.width = 25
    bars.height = max(7.5, 2.5 + 0.8 * count) if chart.horizontal else 7.5
    for column, color in zip(chart.series, SERIES_COLORS, strict=False):
        data = Reference(source, min_col=column + 1, min_row=header, max_row=header + count)
        bars.add_data(data, titles_from_data=True)
        bars.series[-1].graphicalProperties.solidFill = color
        bars.series[-1].graphicalProperties.line.solidFill = SERIES_COLORS[0]
    bars.set_categories(Reference(source, min_col=1, min_row=header + 1, max_row=header + count))
    bars.x_axis.delete = False  # openpyxl hides axes by default since 3.1
    bars.y_axis.delete = False
    if chart.horizontal:
        bars.x_axis.scaling.orientation = "maxMin"  # first row on top, as in the table
    bars.dataLabels = DataLabelList()
    bars.dataLabels.showVal = True
    bars.legend.position = "b"
    return bars
