"""The Excel workbook, opened again with openpyxl: sheets, the official heading, values and
their number formats, hidden small counts, charts and print setup; no formula from anyone's
words, and free text masked."""

from __future__ import annotations

from io import BytesIO

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.chart import BarChart
from openpyxl.worksheet.worksheet import Worksheet

from reports.excel import excel_bytes
from reports.labels import SUMMARY
from reports.model import Metrics, Report
from tests.pii_corpus import CORPUS
from tests.reports.factories import (
    FORMULA_NAMES,
    FORMULAS,
    PREVIOUS,
    commune_report,
    empty_commune_report,
    hostile_commune_report,
    province_report,
)

TABLE = 11  # the summary table's header row


def workbook(report: Report) -> Workbook:
    return load_workbook(BytesIO(excel_bytes(report)))


def rows(sheet: Worksheet, first: int, last: int) -> list[tuple[object, ...]]:
    return [tuple(row) for row in sheet.iter_rows(min_row=first, max_row=last, values_only=True)]


def charts_of(book: Workbook) -> list[BarChart]:
    """The charts of the "Biểu đồ" sheet, all bar charts."""
    sheet = book["Biểu đồ"]
    found: list[object] = list(getattr(sheet, "_charts"))  # noqa: B009 (private, untyped)
    bars = [chart for chart in found if isinstance(chart, BarChart)]
    assert len(bars) == len(found)
    return bars


def test_a_commune_workbook_has_a_sheet_per_topic() -> None:
    assert workbook(commune_report()).sheetnames == [
        "Tổng hợp",
        "Biểu đồ",
        "Theo tuần",
        "Dịch vụ công",
        "Bài học",
        "Hỗ trợ trực tiếp",
        "Kênh",
        "Câu hỏi chưa hiểu",
        "Thông báo",
        "Tình nguyện viên",
    ]


def test_the_summary_sheet_looks_like_an_official_report() -> None:
    book = workbook(commune_report())
    sheet = book["Tổng hợp"]
    assert book.active is not None
    assert book.active.title == "Tổng hợp"
    assert sheet["A1"].value == "UBND THÀNH PHỐ HÀ NỘI"
    assert sheet["C1"].value == "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
    assert sheet["A2"].value == "PHƯỜNG BA ĐÌNH"
    assert sheet["C2"].value == "Độc lập – Tự do – Hạnh phúc"
    assert sheet["A4"].value == "BÁO CÁO HOẠT ĐỘNG TỔ CÔNG NGHỆ SỐ CỘNG ĐỒNG"
    assert sheet["A4"].alignment.horizontal == "center"
    assert sheet["A4"].font.bold
    assert "A4:E4" in {str(merged) for merged in sheet.merged_cells.ranges}
    assert sheet["A5"].value == "Tháng 10/2026"
    assert sheet["A6"].value == "Phạm vi: Phường Ba Đình, Thành phố Hà Nội (mã 00004)"
    assert sheet["A7"].value == "Ngày lập: 02/11/2026"
    assert sheet["A8"].value is None  # no synthetic-data warning
    assert rows(sheet, TABLE, TABLE) == [
        ("STT", "Chỉ tiêu", "Tháng 10/2026", "Tháng 09/2026", "Thay đổi")
    ]
    assert sheet.cell(TABLE, 1).font.bold
    assert sheet.cell(TABLE, 1).border.bottom.style == "thin"
    assert sheet.freeze_panes == f"A{TABLE + 1}"
    assert sheet.column_dimensions["B"].width >= 50


def test_summary_values_and_number_formats() -> None:
    sheet = workbook(commune_report())["Tổng hợp"]
    by_label = {row[1]: row for row in rows(sheet, TABLE + 1, TABLE + len(SUMMARY))}
    number, _, now, before, change = by_label["Số người dân được hỗ trợ"]
    assert (number, now, before) == (1, 1234, 987)
    assert change == pytest.approx(1234 / 987 - 1)
    assert by_label["Tỷ lệ trợ lý tự giải quyết (không cần chuyển người)"][2:4] == (
        pytest.approx(1581 / 1860),
        pytest.approx(1230 / 1500),
    )
    assert by_label["Thời gian chờ tiếp nhận (trung vị)"][2:4] == (12, 15)  # minutes
    assert by_label["Điểm hài lòng trung bình (thang 5)"][2] == pytest.approx(4.6)

    formats = {
        sheet.cell(row, 2).value: (sheet.cell(row, 3).number_format, sheet.cell(row, 5))
        for row in range(TABLE + 1, TABLE + len(SUMMARY) + 1)
    }
    assert formats["Số người dân được hỗ trợ"][0] == "#,##0"
    assert formats["Số người dân được hỗ trợ"][1].number_format == '+0%;"−"0%;0%'
    assert formats["Tỷ lệ câu hỏi trợ lý chưa hiểu"][0] == "0.0%"
    points = formats["Tỷ lệ câu hỏi trợ lý chưa hiểu"][1]  # a share changes in points
    assert points.value == pytest.approx((642 / 9876 - 700 / 8000) * 100)
    assert points.number_format == '+0.0" điểm %";"−"0.0" điểm %";0.0" điểm %"'
    assert formats["Thời gian hỗ trợ xong (trung vị)"][0] == '#,##0" phút"'
    assert formats["Điểm hài lòng trung bình (thang 5)"][0] == "0.0"


def test_print_setup_is_a4_fitted_to_the_width() -> None:
    book = workbook(province_report())
    summary, communes = book["Tổng hợp"], book["Các xã"]
    for sheet in (summary, communes):
        assert sheet.page_setup.paperSize == 9  # A4
        assert sheet.page_setup.fitToWidth == 1
        fit = sheet.sheet_properties.pageSetUpPr
        assert fit is not None
        assert fit.fitToPage
    assert summary.page_setup.orientation == "portrait"
    assert communes.page_setup.orientation == "landscape"
    assert communes.print_title_rows == "$4:$4"


def test_synthetic_data_is_flagged_in_red_on_every_sheet() -> None:
    book = workbook(commune_report(synthetic=True))
    warning = "Dữ liệu mô phỏng (cns seed-demo) – không dùng để báo cáo"
    assert book["Tổng hợp"]["A8"].value == warning
    assert book["Tổng hợp"]["A8"].font.color.rgb.endswith("C00000")
    assert all(book[name]["A3"].value == warning for name in book.sheetnames[1:])


def test_resident_counts_under_five_are_hidden_everywhere() -> None:
    few = Metrics(residents=3, conversations=3, messages_in=9)
    book = workbook(commune_report(current=few))
    summary = book["Tổng hợp"]
    assert rows(summary, TABLE + 1, TABLE + 1) == [
        (1, "Số người dân được hỗ trợ", "< 5", PREVIOUS.residents, "—")  # no change: it would tell
    ]
    weeks = rows(book["Theo tuần"], 5, 10)
    assert weeks[3] == ("19/10 – 25/10", "< 5", 4, 20)
    assert weeks[5] == ("Cả tháng", "< 5", 3, 9)
    channels = rows(book["Kênh"], 5, 7)
    assert channels[2][:2] == ("Trang web", "< 5")


def test_topic_sheets_hold_the_sections() -> None:
    book = workbook(commune_report())
    weeks = book["Theo tuần"]
    assert weeks["A2"].value == "II. Hoạt động theo tuần"
    assert rows(weeks, 4, 5) == [
        ("Tuần (thứ Hai – Chủ nhật)", "Người dân", "Cuộc trò chuyện", "Tin nhắn đến"),
        ("01/10 – 04/10", 180, 210, 1100),
    ]
    assert weeks.freeze_panes == "A5"

    services = book["Dịch vụ công"]
    assert rows(services, 5, 5) == [
        ("Kích hoạt tài khoản định danh điện tử mức 2 (VNeID)", 200, 150, 0.75, 3, 25)
    ]
    assert services["D5"].number_format == "0.0%"
    assert services["E5"].number_format == '"Bước "0'
    assert rows(services, 7, 8) == [
        ("Đăng ký thường trú (nhập hộ khẩu)", 92, 57, pytest.approx(57 / 92), "—", "—"),
        ("Tổng cộng", 412, 287, pytest.approx(287 / 412), "—", "—"),
    ]
    assert services["A8"].font.bold

    lessons = rows(book["Bài học"], 5, 5)[0]
    assert lessons[:3] == ("Nhận biết và phòng tránh lừa đảo qua điện thoại, mạng xã hội", 90, 60)
    assert lessons[5] == pytest.approx(52 / 60)

    handoffs = book["Hỗ trợ trực tiếp"]
    assert [row[:4] for row in rows(handoffs, 5, 6)] == [
        ("Yêu cầu gặp Tổ công nghệ số", 279, 270, pytest.approx(279 / 270 - 1)),
        ("Yêu cầu đã được tiếp nhận", 262, 250, pytest.approx(262 / 250 - 1)),
    ]
    times = {row[0]: row for row in rows(handoffs, 13, 15) if row[0]}
    assert times["Chờ tiếp nhận"] == ("Chờ tiếp nhận", 12, 65, 15, 70)
    assert times["Đến khi hỗ trợ xong"][2] == 1560  # 26 hours, in minutes
    assert handoffs["C14"].number_format == '#,##0" phút"'

    missed = rows(book["Câu hỏi chưa hiểu"], 5, 6)
    assert missed[0] == (
        1,
        "cách đổi ảnh thẻ căn cước",
        "Lời người dân (đã che thông tin cá nhân)",
        31,
    )
    assert str(missed[1][1]).endswith("(service_vneid_recovery)")
    assert rows(book["Tình nguyện viên"], 5, 6) == [("Chị Lan", 140, 135), ("Anh Hùng", 122, 115)]


def test_the_chart_sheet_has_native_charts() -> None:
    charts = charts_of(workbook(commune_report()))
    assert len(charts) == 5  # weeks, services, lessons, handoff times, announcements
    assert [chart.type for chart in charts] == ["col", "bar", "bar", "bar", "bar"]
    assert [len(chart.series) for chart in charts] == [2, 2, 2, 2, 2]
    weeks = charts[0].series[0]
    assert weeks.val.numRef.f == "'Theo tuần'!$C$5:$C$9"  # conversations, without the total
    assert weeks.cat.numRef.f == "'Theo tuần'!$A$5:$A$9"
    assert weeks.tx.strRef.f == "'Theo tuần'!C4"


def test_a_commune_with_no_activity_still_gets_a_readable_workbook() -> None:
    book = workbook(empty_commune_report())
    assert (
        book["Dịch vụ công"]["A5"].value == "Chưa có lượt hướng dẫn dịch vụ công nào trong tháng."
    )
    assert book["Tình nguyện viên"]["A5"].value == (
        "Chưa thành viên nào tiếp nhận yêu cầu trong tháng."
    )
    assert rows(book["Tổng hợp"], TABLE + 1, TABLE + 1) == [
        (1, "Số người dân được hỗ trợ", 0, 0, "—")
    ]
    assert len(charts_of(book)) == 1  # the weeks, all zero


def test_a_province_workbook_ranks_its_communes() -> None:
    book = workbook(province_report())
    assert book.sheetnames[-2:] == ["Các xã", "Xã chưa hoạt động"]
    assert "Tình nguyện viên" not in book.sheetnames
    sheet = book["Các xã"]
    assert rows(sheet, 4, 4)[0][:4] == ("Hạng", "Mã", "Xã, phường, đặc khu", "Người dân")
    ranked = rows(sheet, 5, 8)
    assert [row[:4] for row in ranked] == [
        (1, "00004", "Phường Ba Đình", 1234),
        (2, "00008", "Phường Ngọc Hà", 40),
        (3, "00025", "Phường Giảng Võ", "< 5"),
        ("—", None, "Toàn tỉnh (3 xã hoạt động)", 1270),
    ]
    assert ranked[2][-2:] == (0, "—")  # no residents last month; change undefined
    assert ranked[1][-1] == pytest.approx(40 / 30 - 1)
    idle = book["Xã chưa hoạt động"]
    assert idle["A2"].value == "X. Xã, phường chưa có hoạt động (1)"
    assert rows(idle, 5, 5) == [(1, "00070", "Phường Hoàn Kiếm", 20)]
    assert book["Tổng hợp"]["A2"].value == "TỔ CÔNG NGHỆ SỐ CỘNG ĐỒNG"
    assert book["Tổng hợp"]["A6"].value == (
        "Phạm vi: Thành phố Hà Nội (mã 01), 4 xã, phường, đặc khu"
    )


def test_resident_words_and_names_are_never_formulas() -> None:
    book = workbook(hostile_commune_report())
    cells = [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]
    formulas = [(cell.coordinate, cell.value) for cell in cells if cell.data_type in ("f", "e")]
    assert formulas == []
    missed = [row[1] for row in rows(book["Câu hỏi chưa hiểu"], 5, 5 + len(FORMULAS) - 1)]
    # Shown exactly as typed (XML stores a carriage return as a line feed).
    assert missed == [text.replace("\r", "\n") for text in FORMULAS]
    names = [cell for cell in book["Tình nguyện viên"]["A"][4:7]]
    assert [cell.value for cell in names] == list(FORMULA_NAMES)
    assert all(cell.quotePrefix for cell in names)


def test_a_negative_change_stays_a_number() -> None:
    handoffs = workbook(commune_report())["Hỗ trợ trực tiếp"]
    expired = handoffs["D8"]
    assert handoffs["A8"].value == "Yêu cầu quá hạn, chưa ai tiếp nhận"
    assert expired.data_type == "n"
    assert expired.value == pytest.approx(-0.25)


def test_free_text_stored_before_masking_is_masked_in_the_workbook() -> None:
    book = workbook(hostile_commune_report())
    missed = [str(row[1]) for row in rows(book["Câu hỏi chưa hiểu"], 5, 200) if row[1]]
    shown = missed[len(FORMULAS) :]
    assert len(shown) == len(CORPUS)
    assert [(s.text, text) for s, text in zip(CORPUS, shown, strict=True) if s.leaks(text)] == []
    assert book["Tình nguyện viên"]["A8"].value == "Lan [số điện thoại]"


def test_the_announcements_sheet() -> None:
    sheet = workbook(commune_report())["Thông báo"]
    assert sheet["A2"].value == "VIII. Thông báo của xã/phường"
    assert str(sheet["A4"].value).startswith("Từng thông báo bắt đầu gửi trong tháng")
    found = rows(sheet, 5, sheet.max_row)
    assert found[0][:5] == ("Thông báo", "Loại", "Nơi gửi", "Ngày gửi", "Cần gửi")
    assert found[1] == (
        "Ngày hỗ trợ cài VNeID tại nhà văn hóa tổ 3",
        "Sự kiện",
        "Phường Ba Đình",
        "03/10/2026",
        420,
        371,
        11,
        38,
        "chặn bot: 9; gửi lại nhiều lần không được: < 5; "
        "Zalo quá 48 giờ từ tin cuối của người dân: 38",
        6,
        44,
        7,
    )
    assert found[2][5:8] == (430, 0, "< 5")
    assert ("Trang web", "< 5", 0, 13) in [row[:4] for row in found]
    assert ("Tổng cộng", 98, 13, 433) in [row[:4] for row in found]
    assert ("Chặn bot Telegram", "< 5") in [row[:2] for row in found]
    assert sheet.page_setup.orientation == "landscape"


def test_a_month_without_announcements_says_so() -> None:
    sheet = workbook(empty_commune_report())["Thông báo"]
    texts = [cell for row in rows(sheet, 1, sheet.max_row) for cell in row if cell]
    assert "Không có thông báo nào được gửi trong tháng." in texts
    assert "Chưa có người dân nào đăng ký nhận thông báo." in texts
