"""The report as tables and charts, built once from a `Report` and drawn by the Excel and HTML
renderers (and readable by the admin page): same order, same words, same privacy rule.

Every count of residents goes through `residents_shown` here, so 1–4 is already "< 5" in any
table; a change from the previous month is "—" when either month's count is hidden. Words people
typed (missed questions, volunteer names) are masked again here, so rows stored before masking
caught a format never leak into a report.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from core.privacy import mask_pii
from reports import labels
from reports.labels import Kind
from reports.model import (
    AnnouncementRow,
    CommuneRow,
    Metrics,
    Report,
    change,
    residents_shown,
)

Cell = int | float | str | None
ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII")


@dataclass(frozen=True)
class Value:
    raw: Cell
    kind: Kind

    @property
    def text(self) -> str:
        return labels.show(self.raw, self.kind)


@dataclass(frozen=True)
class Column:
    title: str
    kind: Kind
    width: int = 14  # in Excel characters

    def value(self, raw: Cell) -> Value:
        return Value(raw, self.kind)


@dataclass(frozen=True)
class Table:
    columns: tuple[Column, ...]
    rows: tuple[tuple[Value, ...], ...]
    caption: str = ""
    empty: str = "Không có số liệu trong tháng."
    total: tuple[Value, ...] | None = None


@dataclass(frozen=True)
class Chart:
    """Bars of some columns of a table's rows (not its total), one group per row."""

    title: str
    table: Table
    series: tuple[int, ...]  # column indexes; column 0 names the rows
    horizontal: bool = False

    @property
    def kind(self) -> Kind:
        return self.table.columns[self.series[0]].kind


@dataclass(frozen=True)
class Section:
    key: str  # also the CSV section name where it has one
    sheet: str  # Excel sheet name (at most 31 characters)
    heading: str  # "II. Hoạt động theo tuần"
    tables: tuple[Table, ...]
    note: str = ""
    charts: tuple[Chart, ...] = ()


def _table(
    columns: tuple[Column, ...],
    rows: list[tuple[Cell, ...]],
    *,
    total: tuple[Cell, ...] | None = None,
    caption: str = "",
    empty: str = "Không có số liệu trong tháng.",
) -> Table:
    def typed(row: tuple[Cell, ...]) -> tuple[Value, ...]:
        return tuple(column.value(raw) for column, raw in zip(columns, row, strict=True))

    return Table(
        columns,
        tuple(typed(row) for row in rows),
        caption,
        empty,
        typed(total) if total is not None else None,
    )


def shown(metrics: Metrics, metric: str) -> Cell:
    """A metric's value as it may leave the commune."""
    raw = getattr(metrics, metric)
    return residents_shown(raw) if labels.kind(metric) is Kind.RESIDENTS else raw


def shown_change(current: Metrics, previous: Metrics, metric: str) -> Value:
    """The change from the previous month: relative for counts, in percentage points for
    shares (80 % → 85 % is "+5 điểm %"); no value when a hidden count would be revealed."""
    now, before = shown(current, metric), shown(previous, metric)
    if labels.kind(metric) is Kind.RATE:
        both = None if now is None or before is None else float(now) - float(before)
        return Value(both, Kind.POINTS)
    if isinstance(now, str) or isinstance(before, str):
        return Value(None, Kind.CHANGE)
    return Value(change(now, before), Kind.CHANGE)


def comparison(report: Report, metrics: tuple[str, ...], *, numbered: bool) -> Table:
    """Metric | this month | last month | change (optionally with a row number first)."""
    first = (Column("STT", Kind.COUNT, 6),) if numbered else ()
    columns = (
        *first,
        Column("Chỉ tiêu", Kind.TEXT, 56),
        Column(f"{labels.month(report.period)}", Kind.COUNT, 16),
        Column(f"{labels.month(report.period.previous())}", Kind.COUNT, 16),
        Column("Thay đổi", Kind.CHANGE, 12),
    )
    rows = []
    for number, metric in enumerate(metrics, start=1):
        kind = labels.kind(metric)
        cells = (
            Value(labels.label(metric), Kind.TEXT),
            Value(shown(report.current, metric), kind),
            Value(shown(report.previous, metric), kind),
            shown_change(report.current, report.previous, metric),
        )
        rows.append((Value(number, Kind.COUNT), *cells) if numbered else cells)
    return Table(columns, tuple(rows))


def summary(report: Report) -> Table:
    """The summary sheet's table: STT | Chỉ tiêu | Tháng này | Tháng trước | Thay đổi."""
    return comparison(report, labels.SUMMARY, numbered=True)


def _weeks(report: Report) -> Section:
    table = _table(
        (
            Column("Tuần (thứ Hai – Chủ nhật)", Kind.TEXT, 26),
            Column("Người dân", Kind.RESIDENTS),
            Column("Cuộc trò chuyện", Kind.COUNT, 16),
            Column("Tin nhắn đến", Kind.COUNT),
        ),
        [
            (
                labels.week(row.week_start, report.period),
                residents_shown(row.residents),
                row.conversations,
                row.messages_in,
            )
            for row in report.weeks
        ],
        total=(
            "Cả tháng",
            shown(report.current, "residents"),
            report.current.conversations,
            report.current.messages_in,
        ),
    )
    return Section(
        "week",
        "Theo tuần",
        "Hoạt động theo tuần",
        (table,),
        "Tuần đầu và tuần cuối chỉ tính những ngày thuộc tháng báo cáo. Một người dân hoạt "
        "động nhiều tuần được tính một lần trong cả tháng.",
        (Chart("Cuộc trò chuyện và tin nhắn theo tuần", table, (2, 3)),),
    )


def _services(report: Report) -> Section:
    current = report.current
    table = _table(
        (
            Column("Dịch vụ công", Kind.TEXT, 60),
            Column("Bắt đầu", Kind.COUNT, 11),
            Column("Hoàn thành", Kind.COUNT, 12),
            Column("Tỷ lệ hoàn thành", Kind.RATE, 12),
            Column("Bước hay vướng nhất", Kind.STEP, 14),
            Column("Số lần vướng ở bước đó", Kind.COUNT, 14),
        ),
        [
            (
                row.name,
                row.started,
                row.completed,
                row.completion_rate,
                row.stuck_step,
                row.stuck_at_step or None,
            )
            for row in report.services
        ],
        total=(
            "Tổng cộng",
            current.services_started,
            current.services_completed,
            _share(current.services_completed, current.services_started),
            None,
            None,
        ),
        empty="Chưa có lượt hướng dẫn dịch vụ công nào trong tháng.",
    )
    return Section(
        "service",
        "Dịch vụ công",
        "Hướng dẫn dịch vụ công trực tuyến",
        (table,),
        "“Bước hay vướng nhất” là bước người dân báo vướng nhiều nhất, để Tổ công nghệ số "
        "hướng dẫn kỹ hơn.",
        (Chart("Lượt hướng dẫn theo dịch vụ", table, (1, 2), horizontal=True),),
    )


def _lessons(report: Report) -> Section:
    current = report.current
    table = _table(
        (
            Column("Bài học", Kind.TEXT, 60),
            Column("Bắt đầu", Kind.COUNT, 11),
            Column("Hoàn thành", Kind.COUNT, 12),
            Column("Tỷ lệ hoàn thành", Kind.RATE, 12),
            Column("Đạt bài kiểm tra", Kind.COUNT, 12),
            Column("Tỷ lệ đạt", Kind.RATE, 11),
        ),
        [
            (
                row.name,
                row.started,
                row.completed,
                row.completion_rate,
                row.quizzes_passed,
                row.quiz_pass_rate,
            )
            for row in report.lessons
        ],
        total=(
            "Tổng cộng",
            current.lessons_started,
            current.lessons_completed,
            _share(current.lessons_completed, current.lessons_started),
            current.quizzes_passed,
            current.quiz_pass_rate,
        ),
        empty="Chưa có lượt học kỹ năng số nào trong tháng.",
    )
    return Section(
        "lesson",
        "Bài học",
        "Học kỹ năng số",
        (table,),
        "Đạt bài kiểm tra: trả lời đúng ít nhất một nửa số câu hỏi cuối bài.",
        (Chart("Lượt học theo bài", table, (1, 2), horizontal=True),),
    )


def _handoffs(report: Report) -> Section:
    counts = comparison(
        report,
        (
            "handoffs_requested",
            "handoffs_claimed",
            "handoffs_resolved",
            "handoffs_expired",
            "ratings",
            "rating_average",
        ),
        numbered=False,
    )
    now, before = report.current, report.previous
    times = _table(
        (
            Column("Thời gian", Kind.TEXT, 30),
            Column("Trung vị", Kind.SECONDS, 14),
            Column("90 % yêu cầu không quá", Kind.SECONDS, 16),
            Column("Trung vị tháng trước", Kind.SECONDS, 16),
            Column("90 % tháng trước", Kind.SECONDS, 16),
        ),
        [
            ("Chờ tiếp nhận", now.claim_p50, now.claim_p90, before.claim_p50, before.claim_p90),
            (
                "Đến khi hỗ trợ xong",
                now.resolve_p50,
                now.resolve_p90,
                before.resolve_p50,
                before.resolve_p90,
            ),
        ],
        caption="Thời gian tính từ lúc người dân yêu cầu gặp Tổ công nghệ số",
    )
    charts = (
        (Chart("Thời gian phản hồi (phút)", times, (1, 2), horizontal=True),)
        if now.claim_p50 is not None or now.resolve_p50 is not None
        else ()
    )
    return Section(
        "handoff",
        "Hỗ trợ trực tiếp",
        "Hỗ trợ trực tiếp của Tổ công nghệ số",
        (counts, times),
        "Trung vị: một nửa số yêu cầu được xử lý nhanh hơn mức này. Điểm hài lòng do người "
        "dân chấm sau khi được hỗ trợ (1 đến 5 sao).",
        charts,
    )


def _channels(report: Report) -> Section:
    total = report.current.messages_in
    table = _table(
        (
            Column("Kênh", Kind.TEXT, 20),
            Column("Người dân", Kind.RESIDENTS),
            Column("Tin nhắn đến", Kind.COUNT),
            Column("Tỷ lệ tin nhắn", Kind.RATE),
        ),
        [
            (
                labels.channel_name(row.channel),
                residents_shown(row.residents),
                row.messages_in,
                _share(row.messages_in, total),
            )
            for row in report.channels
        ],
        empty="Chưa có tin nhắn nào trong tháng.",
    )
    return Section("channel", "Kênh", "Kênh liên lạc người dân sử dụng", (table,))


def _missed(report: Report) -> Section:
    table = _table(
        (
            Column("STT", Kind.COUNT, 6),
            Column("Câu hỏi (hoặc ý định gần nhất)", Kind.TEXT, 60),
            Column("Loại", Kind.TEXT, 36),
            Column("Số lần", Kind.COUNT, 10),
        ),
        [
            (
                number,
                labels.intent_name(row.text) if row.kind == "intent" else mask_pii(row.text),
                labels.MISSED_KINDS.get(row.kind, row.kind),
                row.count,
            )
            for number, row in enumerate(report.missed, start=1)
        ],
        empty="Không có câu hỏi nào trợ lý chưa hiểu trong tháng.",
    )
    return Section(
        "missed",
        "Câu hỏi chưa hiểu",
        "Những câu hỏi trợ lý chưa hiểu nhiều nhất",
        (table,),
        "Lời người dân chỉ được giữ khi họ đồng ý, đã che số giấy tờ, số điện thoại, mã OTP. "
        "Dùng để bổ sung dữ liệu huấn luyện cho trợ lý.",
    )


def _volunteers(report: Report) -> Section:
    table = _table(
        (
            Column("Thành viên Tổ công nghệ số", Kind.TEXT, 36),
            Column("Yêu cầu tiếp nhận", Kind.COUNT, 16),
            Column("Yêu cầu hỗ trợ xong", Kind.COUNT, 16),
        ),
        [(mask_pii(row.name), row.claimed, row.resolved) for row in report.volunteers],
        empty="Chưa thành viên nào tiếp nhận yêu cầu trong tháng.",
    )
    return Section("volunteer", "Tình nguyện viên", "Hoạt động của thành viên", (table,))


def _not_delivered(row: AnnouncementRow) -> dict[str, int]:
    """Deliveries that did not reach the resident, by reason: failed, unreachable, pending."""
    found = Counter(row.failed)
    found.update(row.unreachable)
    found["pending"] += row.pending
    return dict(found)


def _announcements(report: Report) -> Section:
    whose = (
        "người dân toàn tỉnh (thông báo của tỉnh và của các xã, phường)"
        if report.kind == "province"
        else "người dân của xã, phường (thông báo của xã và của tỉnh gửi tới xã)"
    )
    reach = _table(
        (
            Column("Thông báo", Kind.TEXT, 34),
            Column("Loại", Kind.TEXT, 11),
            Column("Nơi gửi", Kind.TEXT, 16),
            Column("Ngày gửi", Kind.TEXT, 11),
            Column("Cần gửi", Kind.RESIDENTS, 9),
            Column("Đã gửi", Kind.RESIDENTS, 9),
            Column("Gửi lỗi", Kind.RESIDENTS, 9),
            Column("Zalo chưa nhắn được", Kind.RESIDENTS, 10),
            Column("Lý do chưa gửi được", Kind.TEXT, 28),
            Column("Hủy nhận trong 7 ngày", Kind.RESIDENTS, 10),
            Column("Người trả lời", Kind.RESIDENTS, 9),
            Column("Yêu cầu gặp Tổ", Kind.COUNT, 9),
        ),
        [
            (
                row.title,
                labels.CATEGORIES.get(row.category, row.category),
                row.sender,
                labels.day(row.started),
                residents_shown(row.targeted),
                residents_shown(row.sent),
                residents_shown(sum(row.failed.values())),
                residents_shown(sum(row.unreachable.values())),
                labels.reasons(_not_delivered(row)),
                residents_shown(row.unsubscribed),
                residents_shown(row.replies),
                row.handoffs,
            )
            for row in report.announcements
        ],
        caption=f"Từng thông báo bắt đầu gửi trong tháng, tính trên {whose}",
        empty="Không có thông báo nào được gửi trong tháng.",
    )
    channels = report.subscriptions
    subscriptions = _table(
        (
            Column("Kênh", Kind.TEXT, 34),
            Column("Đăng ký mới", Kind.RESIDENTS, 11),
            Column("Hủy đăng ký", Kind.RESIDENTS, 11),
            Column("Đang đăng ký cuối tháng", Kind.RESIDENTS, 16),
        ),
        [
            (
                labels.channel_name(row.channel),
                residents_shown(row.subscribed),
                residents_shown(row.unsubscribed),
                residents_shown(row.subscribers),
            )
            for row in channels
        ],
        total=(
            "Tổng cộng",
            residents_shown(sum(row.subscribed for row in channels)),
            residents_shown(sum(row.unsubscribed for row in channels)),
            residents_shown(sum(row.subscribers for row in channels)),
        ),
        caption="Đăng ký nhận thông báo trong tháng (mỗi kênh tính riêng)",
        empty="Chưa có người dân nào đăng ký nhận thông báo.",
    )
    why = _table(
        (Column("Lý do hủy đăng ký", Kind.TEXT, 34), Column("Số lượt", Kind.RESIDENTS, 11)),
        [
            (labels.UNSUBSCRIBE_REASONS.get(reason, reason), residents_shown(count))
            for reason, count in report.unsubscribed_by.items()
        ],
        caption="Lý do hủy đăng ký trong tháng",
        empty="Không có lượt hủy đăng ký nào trong tháng.",
    )
    return Section(
        "announcement",
        "Thông báo",
        "Thông báo của xã/phường",
        (reach, subscriptions, why),
        "Cần gửi: mỗi người dân đăng ký nhận, mỗi kênh một lượt. Zalo chưa nhắn được: Zalo chỉ "
        "cho nhắn miễn phí trong 48 giờ sau tin cuối của người dân. Hủy nhận trong 7 ngày: "
        "người đã nhận rồi hủy đăng ký trong 7 ngày kể từ lúc bắt đầu gửi. Người trả lời: "
        "người dân nhắn lại ngay sau khi nhận. Yêu cầu gặp Tổ: yêu cầu hỗ trợ mở từ thông báo.",
        (Chart("Cần gửi và đã gửi theo thông báo", reach, (4, 5), horizontal=True),),
    )


def _commune_cells(row: CommuneRow) -> tuple[Cell, ...]:
    now = row.current
    return (
        shown(now, "residents"),
        now.conversations,
        now.messages_in,
        now.services_completed,
        now.lessons_completed,
        now.handoffs_requested,
        now.self_service_rate,
        shown(row.previous, "residents"),
        shown_change(now, row.previous, "residents").raw,
    )


def _communes(report: Report) -> tuple[Section, Section]:
    active = [row for row in report.communes if row.current.active]
    idle = report.inactive_communes
    metrics = (
        Column("Người dân", Kind.RESIDENTS, 11),
        Column("Cuộc trò chuyện", Kind.COUNT, 13),
        Column("Tin nhắn đến", Kind.COUNT, 12),
        Column("Dịch vụ công hoàn thành", Kind.COUNT, 13),
        Column("Bài học hoàn thành", Kind.COUNT, 12),
        Column("Yêu cầu gặp Tổ", Kind.COUNT, 11),
        Column("Tỷ lệ tự giải quyết", Kind.RATE, 12),
        Column("Người dân tháng trước", Kind.RESIDENTS, 12),
        Column("Thay đổi người dân", Kind.CHANGE, 11),
    )
    total = CommuneRow(report.place.code, "", report.current, report.previous, None)
    ranked = _table(
        (
            Column("Hạng", Kind.COUNT, 7),
            Column("Mã", Kind.TEXT, 8),
            Column("Xã, phường, đặc khu", Kind.TEXT, 28),
            *metrics,
        ),
        [(row.rank, row.code, row.name, *_commune_cells(row)) for row in active],
        total=(None, "", f"Toàn tỉnh ({len(active)} xã hoạt động)", *_commune_cells(total)),
        empty="Chưa xã, phường nào có hoạt động trong tháng.",
    )
    idle_table = _table(
        (
            Column("STT", Kind.COUNT, 6),
            Column("Mã", Kind.TEXT, 8),
            Column("Xã, phường, đặc khu", Kind.TEXT, 32),
            Column("Tin nhắn đến tháng trước", Kind.COUNT, 16),
        ),
        [
            (number, row.code, row.name, row.previous.messages_in)
            for number, row in enumerate(idle, start=1)
        ],
        empty="Tất cả xã, phường đều có hoạt động trong tháng.",
    )
    return (
        Section(
            "commune",
            "Các xã",
            "Kết quả theo xã, phường",
            (ranked,),
            "Xếp hạng theo số người dân được hỗ trợ. Người dân toàn tỉnh tính mỗi người một "
            "lần, nên có thể nhỏ hơn tổng các xã.",
        ),
        Section(
            "inactive",
            "Xã chưa hoạt động",
            f"Xã, phường chưa có hoạt động ({len(idle)})",
            (idle_table,),
            "Không có tin nhắn hay yêu cầu hỗ trợ nào trong tháng: đề nghị Tổ công nghệ số các "
            "xã này giới thiệu trợ lý tới người dân.",
        ),
    )


def sections(report: Report) -> list[Section]:
    """The topic sections after the summary, numbered II, III… (I is the summary)."""
    found = [_weeks(report), _services(report), _lessons(report), _handoffs(report)]
    found += [_channels(report), _missed(report), _announcements(report)]
    if report.kind == "province":
        found.extend(_communes(report))
    else:
        found.append(_volunteers(report))
    return [
        Section(s.key, s.sheet, f"{ROMAN[n]}. {s.heading}", s.tables, s.note, s.charts)
        for n, s in enumerate(found, start=1)
    ]


SUMMARY_HEADING = f"{ROMAN[0]}. Tổng hợp các chỉ tiêu"


@dataclass(frozen=True)
class Heading:
    """The lines above the tables, as on an official report."""

    authority: str  # "UBND THÀNH PHỐ HÀ NỘI"
    unit: str  # "PHƯỜNG BA ĐÌNH" (a province report: "TỔ CÔNG NGHỆ SỐ CỘNG ĐỒNG")
    title: str
    month: str  # "Tháng 10/2026"
    place: str  # "Phường Ba Đình, Thành phố Hà Nội"
    scope: str  # "Phường Ba Đình, Thành phố Hà Nội (mã 00004)"
    created: str  # "Ngày lập: 02/12/2026"


def heading(report: Report) -> Heading:
    place = report.place
    if report.kind == "province":
        unit = "TỔ CÔNG NGHỆ SỐ CỘNG ĐỒNG"
        name = place.name
        scope = f"{name} (mã {place.code}), {len(report.communes)} xã, phường, đặc khu"
    else:
        unit = place.name.upper()
        name = f"{place.name}, {place.province_name}"
        scope = f"{name} (mã {place.code})"
    return Heading(
        labels.authority(place.province_name),
        unit,
        labels.TITLE,
        labels.month(report.period),
        name,
        f"Phạm vi: {scope}",
        f"Ngày lập: {labels.day(report.generated_at)}",
    )


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None
