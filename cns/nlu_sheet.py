"""The spreadsheet volunteers label: written by `cns nlu review`, read back by `cns nlu import`.

An Excel workbook (openpyxl) with three sheets — how to label (Vietnamese), the messages with
the model's two likeliest intents and an empty label column whose cells offer the intents as a
drop-down list, and the intents with their meaning — or a CSV of the messages sheet alone
(UTF-8 with a byte-order mark, so Excel shows the diacritics). Both are read back by their
column headers, so a volunteer may reorder or add columns.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from cns.nlu_loop import IntentInfo, LabelledRow, MissedMessage
from reports.model import Period

FORMATS = ("xlsx", "csv")
GUIDE_SHEET = "Hướng dẫn"
MESSAGES_SHEET = "Tin nhắn cần gán nhãn"
INTENTS_SHEET = "Danh sách ý định"
MESSAGE = "Tin nhắn của người dân"
TIMES = "Số lần"
GUESS_1 = "Trợ lý đoán"
CONFIDENCE_1 = "Độ tin cậy"
GUESS_2 = "Đoán thứ hai"
CONFIDENCE_2 = "Độ tin cậy (đoán thứ hai)"
LABEL = "Nhãn (label)"
COLUMNS = (MESSAGE, TIMES, GUESS_1, CONFIDENCE_1, GUESS_2, CONFIDENCE_2, LABEL)
WIDTHS = (60, 8, 28, 11, 28, 11, 30)
INTENT_COLUMNS = ("Ý định (label)", "Tên tiếng Việt", "Ý nghĩa", "Ví dụ")
INTENT_WIDTHS = (30, 30, 70, 50)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
LABEL_FILL = PatternFill("solid", fgColor="FFF2CC")


class UnreadableSheet(ValueError):
    """The file is not a sheet `cns nlu review` wrote (a polite Vietnamese message)."""


def guide_lines(period: Period, messages: int) -> list[str]:
    return [
        f"Tin nhắn trợ lý chưa hiểu, {period.title}",
        "",
        f"Trang “{MESSAGES_SHEET}” có {messages} tin nhắn người dân gửi mà trợ lý chưa hiểu. "
        "Chỉ có tin nhắn của người dân đã đồng ý cho lưu; số điện thoại, số định danh và mã "
        "bảo mật đã được che.",
        f"1. Đọc từng tin nhắn và chọn ở cột “{LABEL}” việc người dân muốn hỏi (bấm vào ô, "
        "chọn trong danh sách).",
        f"2. Cột “{GUESS_1}” và “{GUESS_2}” là hai ý định trợ lý thấy gần nhất. Nếu đúng, chọn "
        "lại đúng tên đó ở cột nhãn.",
        f"3. Ý nghĩa của từng ý định ở trang “{INTENTS_SHEET}”. Việc trợ lý không làm được "
        "(thời tiết, xổ số…): chọn out_of_scope.",
        "4. Không chắc thì để trống ô nhãn: dòng đó được bỏ qua.",
        "5. Không sửa chữ trong tin nhắn: trợ lý cần học đúng cách người dân gõ.",
        "6. Lưu tệp (giữ dạng .xlsx) và gửi lại cho cán bộ kỹ thuật để nhập bằng lệnh "
        "“cns nlu import”.",
    ]


def _header(sheet: Worksheet, titles: Sequence[str], widths: Sequence[int]) -> None:
    sheet.append(list(titles))
    for column, width in enumerate(widths, start=1):
        cell = sheet.cell(row=1, column=column)
        cell.font, cell.fill = Font(bold=True), HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        sheet.column_dimensions[get_column_letter(column)].width = width
    sheet.freeze_panes = "A2"


def _cells(message: MissedMessage) -> list[str | int | float | None]:
    guesses = [*message.guesses[:2], None, None][:2]
    cells: list[str | int | float | None] = [message.text, message.count]
    for guess in guesses:
        cells += [guess.intent, round(guess.confidence, 3)] if guess else [None, None]
    return [*cells, None]


def xlsx_bytes(
    messages: Sequence[MissedMessage], intents: Sequence[IntentInfo], period: Period
) -> bytes:
    book = Workbook()
    guide = book.active
    assert guide is not None
    guide.title = GUIDE_SHEET
    guide.column_dimensions["A"].width = 110
    for line in guide_lines(period, len(messages)):
        guide.append([line])
    guide["A1"].font = Font(bold=True, size=14)
    for row in guide.iter_rows(min_row=2):
        row[0].alignment = Alignment(wrap_text=True, vertical="top")

    sheet = book.create_sheet(MESSAGES_SHEET)
    _header(sheet, COLUMNS, WIDTHS)
    for message in messages:
        sheet.append(_cells(message))
    last = len(messages) + 1
    for row in sheet.iter_rows(min_row=2, max_row=last):
        row[0].alignment = Alignment(wrap_text=True, vertical="top")
        row[3].number_format = row[5].number_format = "0%"
        row[6].fill = LABEL_FILL

    listing = book.create_sheet(INTENTS_SHEET)
    _header(listing, INTENT_COLUMNS, INTENT_WIDTHS)
    for intent in intents:
        listing.append([intent.name, intent.label, intent.meaning, intent.examples])
    for row in listing.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")

    choice = DataValidation(
        type="list",
        formula1=f"'{INTENTS_SHEET}'!$A$2:$A${len(intents) + 1}",
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="Nhãn không có trong danh sách",
        error="Dạ, anh/chị chọn một ý định trong danh sách giúp em ạ.",
        showInputMessage=True,
        promptTitle="Chọn nhãn",
        prompt="Chọn việc người dân muốn hỏi; không chắc thì để trống.",
    )
    sheet.add_data_validation(choice)
    if messages:
        choice.add(f"G2:G{last}")
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def csv_bytes(messages: Sequence[MissedMessage]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    writer.writerows(["" if cell is None else cell for cell in _cells(m)] for m in messages)
    return buffer.getvalue().encode("utf-8-sig")


def render(
    messages: Sequence[MissedMessage], intents: Sequence[IntentInfo], period: Period, fmt: str
) -> bytes:
    return xlsx_bytes(messages, intents, period) if fmt == "xlsx" else csv_bytes(messages)


def _labelled(rows: list[list[object]]) -> list[LabelledRow]:
    """The (message, label) of every row under the header row (row numbers as in the file)."""
    header = [str(cell or "").strip() for cell in rows[0]] if rows else []
    if MESSAGE not in header or LABEL not in header:
        raise UnreadableSheet(
            f"Dạ, dòng đầu của tệp không có cột “{MESSAGE}” và cột “{LABEL}”. Anh/chị dùng "
            "đúng tệp do lệnh cns nlu review tạo ra giúp em ạ."
        )
    text_at, label_at = header.index(MESSAGE), header.index(LABEL)

    def cell(row: list[object], at: int) -> str:
        return str(row[at]).strip() if at < len(row) and row[at] is not None else ""

    return [
        LabelledRow(number, cell(row, text_at), cell(row, label_at))
        for number, row in enumerate(rows[1:], start=2)
    ]


def read_labelled(path: Path) -> list[LabelledRow]:
    """The rows of a labelled .xlsx (its messages sheet) or .csv file."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return _labelled([list(row) for row in csv.reader(handle)])
    if suffix != ".xlsx":
        raise UnreadableSheet("Dạ, em chỉ đọc được tệp .xlsx hoặc .csv ạ.")
    book = load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = book[MESSAGES_SHEET] if MESSAGES_SHEET in book.sheetnames else book.worksheets[0]
        return _labelled([list(row) for row in sheet.iter_rows(values_only=True)])
    finally:
        book.close()
