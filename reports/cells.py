"""Text written into report cells (Excel, CSV) is never run as a formula.

Spreadsheet programs run a cell whose text starts with "=", "+", "-", "@", a tab or a carriage
return as a formula (OWASP "CSV injection"), and resident words or volunteer names can start
that way. A CSV cell gets a leading apostrophe; an Excel cell is typed as text with a quote
prefix, so it shows exactly what was written. Numbers stay numbers.
"""

from __future__ import annotations

from openpyxl.workbook.workbook import Workbook

# The full-width forms too: some spreadsheet programs read them as the ASCII ones.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


def looks_like_formula(text: str) -> bool:
    return text.startswith(FORMULA_STARTS)


def csv_text(text: str) -> str:
    """A CSV cell's text: with a leading apostrophe when it would start a formula."""
    return "'" + text if looks_like_formula(text) else text


def text_stays_text(book: Workbook) -> None:
    """Type every text cell of the workbook that would be a formula (or an error value such as
    "#N/A") as plain text, with a quote prefix so editing it keeps it text."""
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                value = cell.value
                if isinstance(value, str) and (
                    cell.data_type in ("f", "e") or looks_like_formula(value)
                ):
                    cell.data_type = "s"
                    cell.quotePrefix = True
