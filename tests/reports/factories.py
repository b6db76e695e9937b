"""Realistic `Report` objects built by hand, for renderer and page tests that need no database:
Phường Ba Đình (00004, Hà Nội) in October 2026, and a Hà Nội roll-up of four communes."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

from reports.model import (
    AnnouncementRow,
    ChannelRow,
    CommuneRow,
    LessonRow,
    Metrics,
    MissedQuestion,
    Period,
    Place,
    Report,
    ServiceRow,
    SubscriptionRow,
    VolunteerRow,
    WeekRow,
)
from tests.pii_corpus import CORPUS

OCTOBER = Period(2026, 10)
GENERATED = datetime(2026, 11, 2, 1, 30, tzinfo=UTC)  # 02/11/2026 08:30 in Vietnam
BA_DINH = Place("00004", "Phường Ba Đình", "01", "Thành phố Hà Nội")
HA_NOI = Place("01", "Thành phố Hà Nội", "01", "Thành phố Hà Nội")

CURRENT = Metrics(
    residents=1234,
    conversations=1860,
    messages_in=9876,
    messages_out=10420,
    self_service_conversations=1581,
    fallbacks=642,
    services_started=412,
    services_completed=287,
    screens_read=64,
    screens_recognised=51,
    lessons_started=150,
    lessons_completed=96,
    quizzes_taken=96,
    quizzes_passed=80,
    handoffs_requested=279,
    handoffs_claimed=262,
    handoffs_resolved=250,
    handoffs_expired=9,
    claim_p50=720.0,  # 12 minutes
    claim_p90=3900.0,  # 1 hour 5 minutes
    resolve_p50=1800.0,
    resolve_p90=93600.0,  # 1 day 2 hours
    ratings=118,
    rating_average=4.6,
)
PREVIOUS = Metrics(
    residents=987,
    conversations=1500,
    messages_in=8000,
    messages_out=8500,
    self_service_conversations=1230,
    fallbacks=700,
    services_started=330,
    services_completed=210,
    screens_read=40,
    screens_recognised=29,
    lessons_started=160,
    lessons_completed=90,
    quizzes_taken=90,
    quizzes_passed=70,
    handoffs_requested=270,
    handoffs_claimed=250,
    handoffs_resolved=240,
    handoffs_expired=12,
    claim_p50=900.0,
    claim_p90=4200.0,
    resolve_p50=2100.0,
    resolve_p90=90000.0,
    ratings=100,
    rating_average=4.4,
)
WEEKS = [
    WeekRow(date(2026, 9, 28), 180, 210, 1100),
    WeekRow(date(2026, 10, 5), 420, 460, 2400),
    WeekRow(date(2026, 10, 12), 455, 470, 2500),
    WeekRow(date(2026, 10, 19), 3, 4, 20),  # a quiet week: 3 residents are shown as "< 5"
    WeekRow(date(2026, 10, 26), 500, 716, 3856),
]
SERVICES = [
    ServiceRow(
        "vneid_activation",
        "Kích hoạt tài khoản định danh điện tử mức 2 (VNeID)",
        200,
        150,
        40,
        3,
        25,
    ),
    ServiceRow(
        "health_insurance",
        "Gia hạn bảo hiểm y tế hộ gia đình, xem thẻ BHYT trên VssID và VNeID",
        120,
        80,
        12,
        2,
        7,
    ),
    ServiceRow("permanent_residence", "Đăng ký thường trú (nhập hộ khẩu)", 92, 57, 0, None, 0),
]
LESSONS = [
    LessonRow(
        "scam_awareness", "Nhận biết và phòng tránh lừa đảo qua điện thoại, mạng xã hội", 90, 60, 52
    ),
    LessonRow("smartphone_basics", "Làm quen với điện thoại thông minh", 60, 36, 28),
]
CHANNELS = [
    ChannelRow("zalo", 700, 5400),
    ChannelRow("telegram", 400, 3300),
    ChannelRow("web", 2, 1176),  # 2 residents: "< 5"
]
VOLUNTEERS = [VolunteerRow("Chị Lan", 140, 135), VolunteerRow("Anh Hùng", 122, 115)]
MISSED = [
    MissedQuestion("cách đổi ảnh thẻ căn cước", "text", 31),
    MissedQuestion("service_vneid_recovery", "intent", 17),
    MissedQuestion("đăng ký xe máy ở đâu", "text", 9),
]

ANNOUNCEMENTS = [
    AnnouncementRow(
        id=12,
        title="Ngày hỗ trợ cài VNeID tại nhà văn hóa tổ 3",
        category="event",
        sender="Phường Ba Đình",
        started=date(2026, 10, 3),
        targeted=420,
        sent=371,
        failed={"blocked": 9, "gave_up": 2},
        unreachable={"zalo_48h": 38},
        pending=0,
        unsubscribed=6,
        replies=44,
        handoffs=7,
    ),
    AnnouncementRow(
        id=15,
        title="Cảnh báo cuộc gọi giả danh công an yêu cầu cài ứng dụng",
        category="warning",
        sender="Thành phố Hà Nội",
        started=date(2026, 10, 20),
        targeted=433,
        sent=430,
        failed={},
        unreachable={"zalo_48h": 3},
        pending=0,
        unsubscribed=1,  # "< 5"
        replies=12,
        handoffs=2,
    ),
]
SUBSCRIPTIONS = [
    SubscriptionRow("zalo", 61, 8, 240),
    SubscriptionRow("telegram", 33, 5, 180),
    SubscriptionRow("web", 4, 0, 13),  # 4 new: "< 5"
]
UNSUBSCRIBED_BY = {"resident": 7, "blocked": 4, "unfollowed": 2}


def commune_report(**changes: object) -> Report:
    """Phường Ba Đình's October 2026 report; keyword arguments replace fields."""
    report = Report(
        kind="commune",
        place=BA_DINH,
        period=OCTOBER,
        generated_at=GENERATED,
        current=CURRENT,
        previous=PREVIOUS,
        weeks=list(WEEKS),
        services=list(SERVICES),
        lessons=list(LESSONS),
        channels=list(CHANNELS),
        volunteers=list(VOLUNTEERS),
        missed=list(MISSED),
        announcements=list(ANNOUNCEMENTS),
        subscriptions=list(SUBSCRIPTIONS),
        unsubscribed_by=dict(UNSUBSCRIBED_BY),
    )
    return replace(report, **changes)  # type: ignore[arg-type]


def empty_commune_report() -> Report:
    """A commune with no activity at all in the month or the month before."""
    return commune_report(
        current=Metrics(),
        previous=Metrics(),
        weeks=[replace(week, residents=0, conversations=0, messages_in=0) for week in WEEKS],
        services=[],
        lessons=[],
        channels=[],
        volunteers=[],
        missed=[],
        announcements=[],
        subscriptions=[],
        unsubscribed_by={},
    )


def _small(residents: int, messages: int) -> Metrics:
    return Metrics(residents=residents, conversations=residents, messages_in=messages)


COMMUNES = [
    CommuneRow("00004", "Phường Ba Đình", CURRENT, PREVIOUS, 1),
    CommuneRow("00008", "Phường Ngọc Hà", _small(40, 300), _small(30, 200), 2),
    CommuneRow("00025", "Phường Giảng Võ", _small(3, 12), _small(0, 0), 3),  # "< 5"
    CommuneRow("00070", "Phường Hoàn Kiếm", Metrics(), _small(6, 20), None),
]


def province_report(**changes: object) -> Report:
    """Hà Nội's October 2026 roll-up of four communes (one with no activity)."""
    total = replace(CURRENT, residents=1270, conversations=1903, messages_in=10188)
    report = commune_report(
        kind="province",
        place=HA_NOI,
        current=total,
        previous=replace(PREVIOUS, residents=1010),
        volunteers=[],
        communes=list(COMMUNES),
    )
    return replace(report, **changes)  # type: ignore[arg-type]


# Resident words and volunteer names a spreadsheet would run as formulas (OWASP CSV injection).
FORMULAS = (
    '=HYPERLINK("http://x","bấm")',
    "+thêm 1 câu hỏi",
    "@SUM(1)",
    "-2+3",
    "=1+1",
    "\t=1+1",
    "\r=1+1",
    "#N/A",
)
FORMULA_NAMES = ("=cmd|' /C calc'!A0", "@Lan", "-Hùng")


def hostile_commune_report() -> Report:
    """Free text the way it could be stored before masking caught every format (the PII
    corpus as missed questions, a volunteer named with their phone), and words and names
    that start like formulas."""
    missed = [MissedQuestion(text, "text", 2) for text in FORMULAS]
    missed += [MissedQuestion(sample.text, "text", 1) for sample in CORPUS]
    names = [*FORMULA_NAMES, "Lan 0912.345.678"]
    return commune_report(missed=missed, volunteers=[VolunteerRow(name, 3, 2) for name in names])
