"""Vietnamese number, percentage, duration and change formats shared by every renderer."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.announcements import ZALO_REASONS
from bot.outbox import Blocked, Refused
from core.models import AnnouncementCategory
from core.repositories.subscriptions import Unsubscribed
from reports import labels
from reports.model import Metrics, Period


@pytest.mark.parametrize(
    ("value", "decimals", "text"),
    [(0, 0, "0"), (1234, 0, "1.234"), (1234567, 0, "1.234.567"), (12.5, 1, "12,5"), (-3, 0, "−3")],
)
def test_numbers(value: float, decimals: int, text: str) -> None:
    assert labels.number(value, decimals) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, "—"),
        (20, "dưới 1 phút"),
        (720, "12 phút"),
        (3900, "1 giờ 05 phút"),
        (93600, "1 ngày 02 giờ"),
    ],
)
def test_durations(seconds: float | None, text: str) -> None:
    assert labels.duration(seconds) == text


def test_percentages_changes_ratings_and_residents() -> None:
    assert labels.percent(0.452) == "45,2 %"
    assert labels.percent(None) == "—"
    assert (labels.change(0.25), labels.change(-0.1), labels.change(0.001)) == (
        "+25 %",
        "−10 %",
        "0 %",
    )
    assert labels.change(None) == "—"
    assert (labels.points(0.007), labels.points(-0.0222), labels.points(0.0001)) == (
        "+0,7 điểm %",
        "−2,2 điểm %",
        "0,0 điểm %",
    )
    assert labels.points(None) == "—"
    assert labels.rating(4.6) == "4,6 / 5"
    assert [labels.residents(n) for n in (0, 1, 4, 5, 1234)] == ["0", "< 5", "< 5", "5", "1.234"]


def test_names_dates_and_every_metric_labelled() -> None:
    assert [labels.channel_name(c) for c in ("telegram", "zalo", "web", "sms")] == [
        "Telegram",
        "Zalo OA",
        "Trang web",
        "sms",
    ]
    assert labels.day(datetime(2026, 10, 31, 18, tzinfo=UTC)) == "01/11/2026"  # Vietnam time
    assert labels.month(Period(2026, 3)) == "Tháng 03/2026"
    assert labels.week(date(2026, 9, 28), Period(2026, 10)) == "01/10 – 04/10"
    assert labels.week(date(2026, 10, 26), Period(2026, 10)) == "26/10 – 31/10"
    assert labels.authority("Tỉnh Tây Ninh") == "UBND TỈNH TÂY NINH"
    fields = set(Metrics.__dataclass_fields__) | {"self_service_rate", "fallback_rate"}
    assert fields | {"quiz_pass_rate"} == set(labels.METRICS)
    assert labels.intent_name("greet") == "Chào hỏi (greet)"
    assert labels.intent_name("") == "(không rõ)"


def test_announcement_words() -> None:
    assert labels.reasons({"blocked": 7, "gave_up": 2, "refused": 0, "new_reason": 5}) == (
        "chặn bot: 7; gửi lại nhiều lần không được: < 5; new_reason: 5"
    )
    assert labels.reasons({}) == ""
    # Every reason the announcement worker and the outbox write down has its words.
    written = {*ZALO_REASONS.values(), Blocked.outcome, Refused.outcome, "gave_up", "error"}
    written |= {"channel_off", "unsubscribed", "pending", "unknown"}
    assert written <= set(labels.DELIVERY_REASONS)
    assert {why.value for why in Unsubscribed} <= set(labels.UNSUBSCRIBE_REASONS)
    assert {category.value for category in AnnouncementCategory} == set(labels.CATEGORIES)
