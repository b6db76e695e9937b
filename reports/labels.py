"""The report's Vietnamese words and number formats, in one place so that the Excel file, the
HTML page, the CSV and the admin page say the same thing.

Numbers are written the Vietnamese way: "1.234" (thousands), "12,5" (decimals), "45,2 %",
"12 phút", "1 giờ 05 phút", "+25 %" / "−10 %" / "—" for the change from the previous month.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum

from core.content.lessons import find_lesson
from core.content.services import find_service_guide
from reports.model import LOCAL_TZ, Period, residents_shown

NO_DATA = "—"
MINUS = "−"  # U+2212, the typographic minus

TITLE = "BÁO CÁO HOẠT ĐỘNG TỔ CÔNG NGHỆ SỐ CỘNG ĐỒNG"
NATION = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO = "Độc lập – Tự do – Hạnh phúc"
SYNTHETIC = "Dữ liệu mô phỏng (cns seed-demo) – không dùng để báo cáo"
SOURCE = (
    "Số liệu do Trợ lý Tổ Công nghệ số tự động tổng hợp từ nhật ký hoạt động; "
    "không đọc nội dung trò chuyện của người dân."
)
PRIVACY = "Để bảo vệ người dân, số người từ 1 đến 4 được ghi là “< 5”."
SIGNERS = (
    ("NGƯỜI LẬP BÁO CÁO", "(Ký, ghi rõ họ tên)"),
    ("THỦ TRƯỞNG ĐƠN VỊ", "(Ký tên, đóng dấu)"),
)


class Kind(StrEnum):
    """How a value is shown: the Excel number format and the text format follow from it."""

    TEXT = "text"
    COUNT = "count"
    RESIDENTS = "residents"  # a count of residents: 1–4 leave the commune as "< 5"
    RATE = "rate"  # a share, 0.25 = 25 %
    SECONDS = "seconds"  # a duration (Excel shows it in minutes)
    RATING = "rating"  # an average of 1–5 stars
    CHANGE = "change"  # relative change from the previous month
    POINTS = "points"  # change of a share from the previous month, 0.007 = +0,7 points
    STEP = "step"  # a walkthrough step number


# Every metric of reports.model.Metrics (and its rates), with its label and kind.
METRICS: dict[str, tuple[str, Kind]] = {
    "residents": ("Số người dân được hỗ trợ", Kind.RESIDENTS),
    "conversations": ("Số cuộc trò chuyện", Kind.COUNT),
    "messages_in": ("Tin nhắn người dân gửi đến", Kind.COUNT),
    "messages_out": ("Tin nhắn trả lời (trợ lý và Tổ công nghệ số)", Kind.COUNT),
    "self_service_conversations": ("Cuộc trò chuyện trợ lý tự giải quyết", Kind.COUNT),
    "self_service_rate": ("Tỷ lệ trợ lý tự giải quyết (không cần chuyển người)", Kind.RATE),
    "fallbacks": ("Câu hỏi trợ lý chưa hiểu", Kind.COUNT),
    "fallback_rate": ("Tỷ lệ câu hỏi trợ lý chưa hiểu", Kind.RATE),
    "services_started": ("Lượt hướng dẫn dịch vụ công bắt đầu", Kind.COUNT),
    "services_completed": ("Lượt hướng dẫn dịch vụ công hoàn thành", Kind.COUNT),
    "screens_read": ("Ảnh chụp màn hình người dân gửi, trợ lý đã đọc", Kind.COUNT),
    "screens_recognised": ("Ảnh trợ lý nhận ra lỗi và gửi cách khắc phục", Kind.COUNT),
    "lessons_started": ("Lượt học kỹ năng số bắt đầu", Kind.COUNT),
    "lessons_completed": ("Bài học kỹ năng số hoàn thành", Kind.COUNT),
    "quizzes_taken": ("Lượt làm bài kiểm tra", Kind.COUNT),
    "quizzes_passed": ("Lượt đạt bài kiểm tra", Kind.COUNT),
    "quiz_pass_rate": ("Tỷ lệ đạt bài kiểm tra", Kind.RATE),
    "handoffs_requested": ("Yêu cầu gặp Tổ công nghệ số", Kind.COUNT),
    "handoffs_claimed": ("Yêu cầu đã được tiếp nhận", Kind.COUNT),
    "handoffs_resolved": ("Yêu cầu đã hỗ trợ xong", Kind.COUNT),
    "handoffs_expired": ("Yêu cầu quá hạn, chưa ai tiếp nhận", Kind.COUNT),
    "claim_p50": ("Thời gian chờ tiếp nhận (trung vị)", Kind.SECONDS),
    "claim_p90": ("Thời gian chờ tiếp nhận (90 % yêu cầu không quá)", Kind.SECONDS),
    "resolve_p50": ("Thời gian hỗ trợ xong (trung vị)", Kind.SECONDS),
    "resolve_p90": ("Thời gian hỗ trợ xong (90 % yêu cầu không quá)", Kind.SECONDS),
    "ratings": ("Lượt đánh giá sau hỗ trợ", Kind.COUNT),
    "rating_average": ("Điểm hài lòng trung bình (thang 5)", Kind.RATING),
}

# The summary table's rows, in order (the other metrics are in the topic sections).
SUMMARY = (
    "residents",
    "conversations",
    "messages_in",
    "messages_out",
    "self_service_rate",
    "fallback_rate",
    "services_started",
    "services_completed",
    "screens_read",
    "screens_recognised",
    "lessons_started",
    "lessons_completed",
    "quiz_pass_rate",
    "handoffs_requested",
    "handoffs_resolved",
    "claim_p50",
    "resolve_p50",
    "rating_average",
)

CHANNELS = {"telegram": "Telegram", "zalo": "Zalo OA", "web": "Trang web"}
INTENTS = {
    "greet": "Chào hỏi",
    "goodbye": "Chào tạm biệt",
    "thank": "Cảm ơn",
    "affirm": "Đồng ý",
    "deny": "Không đồng ý",
    "bot_challenge": "Hỏi có phải người máy không",
    "ask_capabilities": "Hỏi trợ lý giúp được gì",
    "request_human": "Muốn gặp người hỗ trợ",
    "provide_commune": "Cho biết xã, phường",
    "start_lessons": "Muốn học kỹ năng số",
    "report_scam": "Báo lừa đảo",
    "stuck": "Báo bị vướng",
    "delete_my_data": "Xóa dữ liệu cá nhân",
    "out_of_scope": "Ngoài phạm vi hỗ trợ",
}
CATEGORIES = {
    "deadline": "Hạn chót",
    "event": "Sự kiện",
    "warning": "Cảnh báo",
    "policy": "Chính sách",
}
# Why an announcement did not reach a resident (a delivery's reason; definitions.md).
DELIVERY_REASONS = {
    "blocked": "chặn bot",
    "refused": "nền tảng từ chối",
    "gave_up": "gửi lại nhiều lần không được",
    "error": "lỗi khi gửi",
    "channel_off": "kênh chưa bật",
    "unsubscribed": "đã hủy nhận trước khi gửi",
    "cancelled": "thông báo bị hủy trước khi gửi",
    "zalo_48h": "Zalo quá 48 giờ từ tin cuối của người dân",
    "zalo_replies": "Zalo hết lượt nhắn miễn phí",
    "zalo": "Zalo ngoài khung nhắn miễn phí",
    "pending": "đang chờ gửi",
    "unknown": "không rõ",
}
UNSUBSCRIBE_REASONS = {
    "resident": "Người dân tự hủy",
    "blocked": "Chặn bot Telegram",
    "unfollowed": "Bỏ quan tâm Zalo OA",
    "unknown": "Không rõ",
}
MISSED_KINDS = {"text": "Lời người dân (đã che thông tin cá nhân)", "intent": "Ý định gần nhất"}


def label(metric: str) -> str:
    return METRICS[metric][0]


def kind(metric: str) -> Kind:
    return METRICS[metric][1]


def channel_name(channel: str) -> str:
    """ "zalo" → "Zalo OA"; an unknown channel keeps its own name."""
    return CHANNELS.get(channel, channel)


def reasons(counts: dict[str, int]) -> str:
    """Deliveries by reason in words, resident counts hidden as everywhere:
    {"blocked": 7, "zalo_48h": 2} → "chặn bot: 7; Zalo quá 48 giờ …: < 5"; "" for none."""
    return "; ".join(
        f"{DELIVERY_REASONS.get(reason, reason)}: {residents(count)}"
        for reason, count in counts.items()
        if count
    )


def intent_name(intent: str) -> str:
    """What an intent is about, with its name for the team that trains the bot:
    "service_vneid_recovery" → "Khôi phục tài khoản VNeID … (service_vneid_recovery)"."""
    if not intent:
        return "(không rõ)"
    kind, _, key = intent.partition("_")
    content = (
        find_service_guide(key)
        if kind == "service"
        else find_lesson(key)
        if kind == "lesson"
        else None
    )
    name = content.name if content is not None else INTENTS.get(intent)
    return f"{name} ({intent})" if name else intent


def number(value: float, decimals: int = 0) -> str:
    """1234 → "1.234"; 12.5 with one decimal → "12,5"; negative numbers take "−"."""
    text = f"{abs(value):,.{decimals}f}".replace(",", " ").replace(".", ",").replace(" ", ".")
    return f"{MINUS}{text}" if round(value, decimals) < 0 else text


def percent(share: float | None) -> str:
    """0.452 → "45,2 %"."""
    return NO_DATA if share is None else f"{number(share * 100, 1)} %"


def residents(count: int) -> str:
    """A count of residents as it may leave the commune: 3 → "< 5", 1234 → "1.234"."""
    shown = residents_shown(count)
    return shown if isinstance(shown, str) else number(shown)


def duration(seconds: float | None) -> str:
    """720 → "12 phút", 3900 → "1 giờ 05 phút", 93600 → "1 ngày 02 giờ"."""
    if seconds is None:
        return NO_DATA
    minutes = round(seconds / 60)
    if minutes < 1:
        return "dưới 1 phút"
    hours, minutes = divmod(minutes, 60)
    if hours == 0:
        return f"{minutes} phút"
    days, hours = divmod(hours, 24)
    if days == 0:
        return f"{hours} giờ {minutes:02d} phút"
    return f"{days} ngày {hours:02d} giờ"


def change(ratio: float | None) -> str:
    """0.25 → "+25 %", −0.1 → "−10 %", None (no previous month) → "—"."""
    if ratio is None:
        return NO_DATA
    points = round(ratio * 100)
    sign = "+" if points > 0 else MINUS if points < 0 else ""
    return f"{sign}{number(abs(points))} %"


def points(difference: float | None) -> str:
    """The change of a share in percentage points: 0.007 → "+0,7 điểm %"."""
    if difference is None:
        return NO_DATA
    tenths = round(difference * 1000)
    sign = "+" if tenths > 0 else MINUS if tenths < 0 else ""
    return f"{sign}{number(abs(tenths) / 10, 1)} điểm %"


def rating(average: float | None) -> str:
    """4.25 → "4,3 / 5"."""
    return NO_DATA if average is None else f"{number(average, 1)} / 5"


def show(value: int | float | str | None, kind: Kind) -> str:
    """Any report value as text."""
    if isinstance(value, str):
        return value
    if value is None:
        return NO_DATA
    if kind is Kind.RESIDENTS:
        return residents(int(value))
    if kind is Kind.RATE:
        return percent(value)
    if kind is Kind.SECONDS:
        return duration(value)
    if kind is Kind.RATING:
        return rating(value)
    if kind is Kind.CHANGE:
        return change(value)
    if kind is Kind.POINTS:
        return points(value)
    if kind is Kind.STEP:
        return f"Bước {value}"
    return number(value)


def day(moment: date | datetime) -> str:
    """A date (or an instant, in Vietnam's time) as "02/12/2026"."""
    if isinstance(moment, datetime):
        moment = moment.astimezone(LOCAL_TZ).date()
    return f"{moment.day:02d}/{moment.month:02d}/{moment.year}"


def month(period: Period) -> str:
    """ "Tháng 10/2026"."""
    return f"Tháng {period.month:02d}/{period.year}"


def week(start: date, period: Period) -> str:
    """The days of a Monday-to-Sunday week inside the month: "01/10 – 04/10"."""
    first = max(start, period.first_day)
    last = min(start + timedelta(days=6), period.next().first_day - timedelta(days=1))
    return f"{first.day:02d}/{first.month:02d} – {last.day:02d}/{last.month:02d}"


def authority(name: str) -> str:
    """The people's committee of a place: "Thành phố Hà Nội" → "UBND THÀNH PHỐ HÀ NỘI"."""
    return f"UBND {name.upper()}"
