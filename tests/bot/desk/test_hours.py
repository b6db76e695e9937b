"""DESK_HOURS in Vietnam time: open or not, the next opening, and how it is said."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.desk.hours import DeskHours

HOURS = DeskHours.parse("07:30-17:00")


def utc(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def test_open_between_the_hours_in_vietnam_time() -> None:
    assert not HOURS.is_open(utc(23, 0, 29))  # 07:29 in Vietnam
    assert HOURS.is_open(utc(23, 0, 30))
    assert HOURS.is_open(utc(23, 9, 59))  # 16:59
    assert not HOURS.is_open(utc(23, 10, 0))  # 17:00


def test_next_opening_and_how_it_is_said() -> None:
    evening = utc(23, 13)  # 20:00
    assert HOURS.next_opening(evening) == utc(24, 0, 30)
    assert HOURS.describe_opening(evening) == "7:30 ngày mai"
    early = utc(22, 22)  # 05:00 on the 23rd in Vietnam
    assert HOURS.next_opening(early) == utc(23, 0, 30)
    assert HOURS.describe_opening(early) == "7:30 hôm nay"
    assert HOURS.next_opening(utc(23, 3)) == utc(23, 3)  # open now


def test_overnight_and_round_the_clock_hours() -> None:
    night = DeskHours.parse("20:00-06:00")
    assert night.is_open(utc(23, 14))
    assert night.is_open(utc(23, 22))
    assert not night.is_open(utc(23, 5))  # 12:00
    always = DeskHours.parse("00:00-00:00")
    assert all(always.is_open(utc(23, hour)) for hour in range(24))
    with pytest.raises(ValueError, match="Invalid isoformat"):
        DeskHours.parse("8h-17h")
