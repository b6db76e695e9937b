"""What a commune or province report holds: plain values the renderers (Excel, HTML, CSV) and
the admin page read. `reports/metrics.py` fills them from the `events` table; the definitions
of every number are in `reports/definitions.md`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
SMALL_COUNT = 5  # resident counts below this are shown as "< 5" outside the commune
SMALL_LABEL = "< 5"
_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")
# Months a report can be about, with the month before and after (comparisons, period ends).
FIRST_YEAR, LAST_YEAR = 2000, 9998


@dataclass(frozen=True, order=True)
class Period:
    """A calendar month in Vietnam's time (UTC+7): [start, end) as UTC instants."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Period:
        """ "2026-10" → Period(2026, 10); ValueError with a plain message otherwise (also for
        years before 2000 or after 9998)."""
        found = _MONTH.fullmatch(text.strip())
        if (
            not found
            or not FIRST_YEAR <= int(found[1]) <= LAST_YEAR
            or not 1 <= int(found[2]) <= 12
        ):
            raise ValueError(
                f"tháng phải có dạng YYYY-MM từ {FIRST_YEAR}-01, ví dụ 2026-10 (nhận được {text!r})"
            )
        return cls(int(found[1]), int(found[2]))

    @classmethod
    def containing(cls, moment: datetime) -> Period:
        local = moment.astimezone(LOCAL_TZ)
        return cls(local.year, local.month)

    @property
    def label(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def title(self) -> str:
        return f"tháng {self.month:02d}/{self.year}"

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first_day, time(), LOCAL_TZ).astimezone(UTC)

    @property
    def end(self) -> datetime:
        return self.next().start

    def next(self) -> Period:
        return Period(self.year + self.month // 12, self.month % 12 + 1)

    def previous(self) -> Period:
        return Period(self.year - (self.month == 1), (self.month - 2) % 12 + 1)


@dataclass(frozen=True)
class Metrics:
    """One commune (or a whole province) in one month. Times are seconds; None = no data."""

    residents: int = 0
    conversations: int = 0
    messages_in: int = 0
    messages_out: int = 0
    self_service_conversations: int = 0
    fallbacks: int = 0
    services_started: int = 0
    services_completed: int = 0
    screens_read: int = 0
    screens_recognised: int = 0
    lessons_started: int = 0
    lessons_completed: int = 0
    quizzes_taken: int = 0
    quizzes_passed: int = 0
    handoffs_requested: int = 0
    handoffs_claimed: int = 0
    handoffs_resolved: int = 0
    handoffs_expired: int = 0
    claim_p50: float | None = None
    claim_p90: float | None = None
    resolve_p50: float | None = None
    resolve_p90: float | None = None
    ratings: int = 0
    rating_average: float | None = None

    @property
    def self_service_rate(self) -> float | None:
        return _share(self.self_service_conversations, self.conversations)

    @property
    def fallback_rate(self) -> float | None:
        return _share(self.fallbacks, self.messages_in)

    @property
    def quiz_pass_rate(self) -> float | None:
        return _share(self.quizzes_passed, self.quizzes_taken)

    @property
    def active(self) -> bool:
        return self.messages_in > 0 or self.handoffs_requested > 0


@dataclass(frozen=True)
class WeekRow:
    """Activity in one week (Monday to Sunday, local time) that overlaps the month; only the
    days inside the month are counted."""

    week_start: date
    residents: int
    conversations: int
    messages_in: int


@dataclass(frozen=True)
class ServiceRow:
    """A public-service walkthrough; `stuck_step` is the step with the most service_stuck."""

    service: str
    name: str
    started: int
    completed: int
    stuck: int
    stuck_step: int | None
    stuck_at_step: int

    @property
    def completion_rate(self) -> float | None:
        return _share(self.completed, self.started)


@dataclass(frozen=True)
class LessonRow:
    lesson: str
    name: str
    started: int
    completed: int
    quizzes_passed: int  # completions with at least half the quiz answered right

    @property
    def completion_rate(self) -> float | None:
        return _share(self.completed, self.started)

    @property
    def quiz_pass_rate(self) -> float | None:
        return _share(self.quizzes_passed, self.completed)


@dataclass(frozen=True)
class ChannelRow:
    channel: str  # telegram | zalo | web | …
    residents: int
    messages_in: int


@dataclass(frozen=True)
class VolunteerRow:
    """Handoffs a volunteer took this month (commune reports only, for the team lead)."""

    name: str
    claimed: int
    resolved: int


@dataclass(frozen=True)
class MissedQuestion:
    """One of the top questions the bot did not understand: the masked words (residents who
    consented) or, without consent, the intent Rasa thought closest."""

    text: str
    kind: str  # "text" | "intent"
    count: int


@dataclass(frozen=True)
class AnnouncementRow:
    """An announcement that started sending in the month, and how far it reached the
    report's residents (`core.repositories.announcement_reach`). Delivery counts are one per
    resident and channel; the reasons map a reason key to deliveries."""

    id: int
    title: str
    category: str  # deadline | event | warning | policy
    sender: str  # the commune or province that sent it
    started: date  # local day it started sending
    targeted: int
    sent: int
    failed: dict[str, int]
    unreachable: dict[str, int]
    pending: int
    unsubscribed: int  # residents it reached who unsubscribed within a week
    replies: int  # residents who wrote back
    handoffs: int  # tickets opened about it


@dataclass(frozen=True)
class SubscriptionRow:
    """Announcement subscriptions on one channel: made and ended in the month, and how many
    are running at its end."""

    channel: str
    subscribed: int
    unsubscribed: int
    subscribers: int


@dataclass(frozen=True)
class Place:
    """The commune or province a report is about."""

    code: str
    name: str
    province_code: str
    province_name: str


@dataclass(frozen=True)
class CommuneRow:
    """One commune in a province roll-up."""

    code: str
    name: str
    current: Metrics
    previous: Metrics
    rank: int | None  # 1 = most residents served; None for a commune with no activity


@dataclass(frozen=True)
class Report:
    """A commune's monthly report, or a province's (then `communes` has one row per commune
    of the province and `volunteers` is empty)."""

    kind: str  # "commune" | "province"
    place: Place
    period: Period
    generated_at: datetime
    current: Metrics
    previous: Metrics
    weeks: list[WeekRow] = field(default_factory=list)
    services: list[ServiceRow] = field(default_factory=list)
    lessons: list[LessonRow] = field(default_factory=list)
    channels: list[ChannelRow] = field(default_factory=list)
    volunteers: list[VolunteerRow] = field(default_factory=list)
    missed: list[MissedQuestion] = field(default_factory=list)
    communes: list[CommuneRow] = field(default_factory=list)
    announcements: list[AnnouncementRow] = field(default_factory=list)
    subscriptions: list[SubscriptionRow] = field(default_factory=list)
    unsubscribed_by: dict[str, int] = field(default_factory=dict)  # why → unsubscriptions
    synthetic: bool = False  # built (partly) from `cns seed-demo` data

    @property
    def inactive_communes(self) -> list[CommuneRow]:
        return [row for row in self.communes if not row.current.active]


def residents_shown(count: int) -> int | str:
    """A count of residents as it may leave the commune: 1–4 become "< 5" (0 stays 0)."""
    return SMALL_LABEL if 0 < count < SMALL_COUNT else count


def change(current: float | None, previous: float | None) -> float | None:
    """Relative change from the previous month (0.25 = +25 %); None when not defined."""
    if current is None or previous is None or previous == 0:
        return None
    return (current - previous) / previous


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None
