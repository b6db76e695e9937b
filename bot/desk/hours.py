"""Desk hours (`DESK_HOURS`, e.g. "07:30-17:00", Vietnam time, every day; the same time twice,
e.g. "00:00-00:00", means always open)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")


@dataclass(frozen=True)
class DeskHours:
    opens: time
    closes: time

    @classmethod
    def parse(cls, spec: str) -> DeskHours:
        start, end = spec.split("-")
        return cls(time.fromisoformat(start), time.fromisoformat(end))

    def is_open(self, moment: datetime) -> bool:
        local = moment.astimezone(VIETNAM).time()
        if self.opens == self.closes:
            return True
        if self.opens < self.closes:
            return self.opens <= local < self.closes
        return local >= self.opens or local < self.closes  # e.g. 20:00-06:00

    def next_opening(self, moment: datetime) -> datetime:
        """`moment` itself when the desk is open, else when it opens next (in UTC, as stored)."""
        if self.is_open(moment):
            return moment
        local = moment.astimezone(VIETNAM)
        opening = local.replace(
            hour=self.opens.hour, minute=self.opens.minute, second=0, microsecond=0
        )
        if opening <= local:
            opening += timedelta(days=1)
        return opening.astimezone(UTC)

    def describe_opening(self, moment: datetime) -> str:
        """Vietnamese for when the desk opens next, seen from `moment`: "7:30 sáng mai"."""
        opening = self.next_opening(moment).astimezone(VIETNAM)
        day = "hôm nay" if opening.date() == moment.astimezone(VIETNAM).date() else "ngày mai"
        return f"{opening.hour}:{opening.minute:02d} {day}"
