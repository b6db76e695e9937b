"""The HTML report, parsed with html.parser: one self-contained page (no script, no external
file), every section with its table and SVG chart, escaped text, hidden small counts, the
synthetic-data banner, A4 printing."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

from core.privacy import mask_pii
from reports.html import render_html
from reports.model import MissedQuestion, Report
from tests.pii_corpus import CORPUS
from tests.reports.factories import (
    MISSED,
    commune_report,
    empty_commune_report,
    hostile_commune_report,
    province_report,
)


@dataclass
class Page(HTMLParser):
    """What a test needs to know about the page."""

    tags: list[str] = field(default_factory=list)
    attrs: list[tuple[str, str, str | None]] = field(default_factory=list)
    sections: list[str] = field(default_factory=list)
    headings: list[str] = field(default_factory=list)
    cells: list[str] = field(default_factory=list)
    text: list[str] = field(default_factory=list)
    _open: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.extend((tag, name, value) for name, value in attrs)
        if tag == "section":
            self.sections.append(dict(attrs).get("id") or "")
        self._open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self._open and self._open[-1] == tag:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._open and self._open[-1] == "h2":
            self.headings.append(data)
        if self._open and self._open[-1] in ("td", "th"):
            self.cells.append(data)


def parse(report: Report) -> tuple[str, Page]:
    html = render_html(report)
    page = Page()
    page.feed(html)
    page.close()
    return html, page


def test_a_self_contained_page_for_phones_and_a4() -> None:
    html, page = parse(commune_report())
    assert html.startswith('<!DOCTYPE html>\n<html lang="vi">')
    assert ("meta", "charset", "utf-8") in page.attrs
    assert ("meta", "content", "width=device-width, initial-scale=1") in page.attrs
    assert not {"script", "link", "img", "iframe", "object"} & set(page.tags)
    assert not [a for a in page.attrs if a[1] in ("src", "href")]
    assert "http" not in html
    assert "url(" not in html
    assert "@import" not in html
    assert "@page{size:A4" in html
    assert "section.topic{break-before:page}" in html


def test_the_official_heading_and_every_section() -> None:
    _, page = parse(commune_report())
    text = "".join(page.text)
    for line in (
        "UBND THÀNH PHỐ HÀ NỘI",
        "PHƯỜNG BA ĐÌNH",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "BÁO CÁO HOẠT ĐỘNG TỔ CÔNG NGHỆ SỐ CỘNG ĐỒNG",
        "Tháng 10/2026",
        "Ngày lập: 02/11/2026",
        "NGƯỜI LẬP BÁO CÁO",
    ):
        assert line in text
    assert page.sections == [
        "summary",
        "week",
        "service",
        "lesson",
        "handoff",
        "channel",
        "missed",
        "announcement",
        "volunteer",
    ]
    assert page.headings == [
        "I. Tổng hợp các chỉ tiêu",
        "II. Hoạt động theo tuần",
        "III. Hướng dẫn dịch vụ công trực tuyến",
        "IV. Học kỹ năng số",
        "V. Hỗ trợ trực tiếp của Tổ công nghệ số",
        "VI. Kênh liên lạc người dân sử dụng",
        "VII. Những câu hỏi trợ lý chưa hiểu nhiều nhất",
        "VIII. Thông báo của xã/phường",
        "IX. Hoạt động của thành viên",
    ]
    assert "Dữ liệu mô phỏng" not in text


def test_numbers_are_written_the_vietnamese_way() -> None:
    _, page = parse(commune_report())
    cells = page.cells
    row = cells.index("Số người dân được hỗ trợ")
    assert cells[row - 1 : row + 4] == ["1", "Số người dân được hỗ trợ", "1.234", "987", "+25 %"]
    row = cells.index("Tỷ lệ câu hỏi trợ lý chưa hiểu")
    assert cells[row + 1 : row + 4] == ["6,5 %", "8,8 %", "−2,2 điểm %"]  # 642/9876 − 700/8000
    row = cells.index("Chờ tiếp nhận")
    assert cells[row + 1 : row + 5] == ["12 phút", "1 giờ 05 phút", "15 phút", "1 giờ 10 phút"]
    row = cells.index("Điểm hài lòng trung bình (thang 5)")
    assert cells[row + 1 : row + 3] == ["4,6 / 5", "4,4 / 5"]
    assert "Bước 3" in cells


def test_small_counts_are_hidden_and_their_change_too() -> None:
    html, page = parse(commune_report())
    row = page.cells.index("19/10 – 25/10")
    assert page.cells[row + 1] == "< 5"
    assert '<td class="num">&lt; 5</td>' in html
    _, page = parse(province_report())
    row = page.cells.index("Phường Giảng Võ")
    assert page.cells[row + 1] == "< 5"
    assert page.cells[row + 8 : row + 10] == ["0", "—"]


def test_five_svg_charts_drawn_inline() -> None:
    _html, page = parse(commune_report())
    assert page.tags.count("svg") == 5
    titles = [value for tag, name, value in page.attrs if tag == "svg" and name == "aria-label"]
    assert titles == [
        "Cuộc trò chuyện và tin nhắn theo tuần",
        "Lượt hướng dẫn theo dịch vụ",
        "Lượt học theo bài",
        "Thời gian phản hồi (phút)",
        "Cần gửi và đã gửi theo thông báo",
    ]
    assert page.tags.count("rect") >= 2 * 5 + 2 * 3 + 2 * 2 + 2 * 2
    assert "1 ngày 02 giờ" in "".join(page.text)  # the longest bar's label


def test_a_quiet_commune_gets_messages_instead_of_empty_tables() -> None:
    _, page = parse(empty_commune_report())
    text = "".join(page.text)
    assert "Chưa có lượt hướng dẫn dịch vụ công nào trong tháng." in text
    assert "Không có câu hỏi nào trợ lý chưa hiểu trong tháng." in text
    assert page.tags.count("svg") == 1  # the (empty) weeks only


def test_every_string_is_escaped() -> None:
    nasty = '<script>alert("x")</script> & <b>'
    report = commune_report(
        missed=[MissedQuestion(nasty, "text", 3), *MISSED],
        services=[],
        synthetic=True,
    )
    html, page = parse(report)
    assert "script" not in page.tags
    assert "b" not in page.tags
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;" in html
    assert nasty in page.cells


def test_the_synthetic_banner() -> None:
    html, _page = parse(commune_report(synthetic=True))
    assert (
        '<p class="synthetic" role="alert">'
        "Dữ liệu mô phỏng (cns seed-demo) – không dùng để báo cáo</p>"
    ) in html


def test_a_province_page_lists_its_communes_and_the_idle_ones() -> None:
    _, page = parse(province_report())
    assert page.sections[-4:] == ["missed", "announcement", "commune", "inactive"]
    assert "volunteer" not in page.sections
    text = "".join(page.text)
    assert "TỔ CÔNG NGHỆ SỐ CỘNG ĐỒNG" in text
    assert "Toàn tỉnh (3 xã hoạt động)" in page.cells
    row = page.cells.index("Phường Hoàn Kiếm")
    assert page.cells[row - 2 : row + 2] == ["1", "00070", "Phường Hoàn Kiếm", "20"]


def test_free_text_stored_before_masking_is_masked_on_the_page() -> None:
    html, page = parse(hostile_commune_report())
    assert [s.text for s in CORPUS if s.text in page.cells] == []
    masked = [mask_pii(s.text) for s in CORPUS]
    assert all(text in page.cells for text in masked)
    assert [(s.text, text) for s, text in zip(CORPUS, masked, strict=True) if s.leaks(text)] == []
    assert "0912.345.678" not in html


def test_the_announcements_section() -> None:
    _, page = parse(commune_report())
    cells = page.cells
    row = cells.index("Ngày hỗ trợ cài VNeID tại nhà văn hóa tổ 3")
    assert cells[row : row + 12] == [
        "Ngày hỗ trợ cài VNeID tại nhà văn hóa tổ 3",
        "Sự kiện",
        "Phường Ba Đình",
        "03/10/2026",
        "420",
        "371",
        "11",
        "38",
        "chặn bot: 9; gửi lại nhiều lần không được: < 5; "
        "Zalo quá 48 giờ từ tin cuối của người dân: 38",
        "6",
        "44",
        "7",
    ]
    row = cells.index("Cảnh báo cuộc gọi giả danh công an yêu cầu cài ứng dụng")
    assert cells[row + 1 : row + 3] == ["Cảnh báo", "Thành phố Hà Nội"]
    assert cells[row + 6 : row + 10] == [
        "0",
        "< 5",
        "Zalo quá 48 giờ từ tin cuối của người dân: < 5",
        "< 5",
    ]
    row = cells.index("Đang đăng ký cuối tháng")
    assert cells[row + 1 : row + 13] == [
        *("Zalo OA", "61", "8", "240"),
        *("Telegram", "33", "5", "180"),
        *("Trang web", "< 5", "0", "13"),
    ]
    assert cells[row + 13 : row + 17] == ["Tổng cộng", "98", "13", "433"]
    row = cells.index("Lý do hủy đăng ký")
    assert cells[row + 2 : row + 8] == [
        *("Người dân tự hủy", "7"),
        *("Chặn bot Telegram", "< 5"),
        *("Bỏ quan tâm Zalo OA", "< 5"),
    ]


def test_a_month_without_announcements_says_so() -> None:
    _, page = parse(empty_commune_report())
    text = "".join(page.text)
    assert "VIII. Thông báo của xã/phường" in page.headings
    assert "Không có thông báo nào được gửi trong tháng." in text
    assert "Chưa có người dân nào đăng ký nhận thông báo." in text
    assert "Không có lượt hủy đăng ký nào trong tháng." in text
    assert "Ngày gửi" in page.cells  # the table's header is still there


def test_tables_of_many_columns_scroll_sideways_on_a_phone() -> None:
    html, _page = parse(commune_report())
    assert html.count('<table class="wide">') == 1  # the announcements, 12 columns
    assert "table.wide{min-width:880px}" in html
    assert "table.wide{min-width:0;font-size:10pt}" in html  # fits A4 when printed
    _, page = parse(province_report())
    assert ("table", "class", "wide") in page.attrs  # the ranked communes too
