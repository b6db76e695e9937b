"""The report's numbers, aggregated in SQL from the `events` table (never chat text), and the
reach of the month's announcements (`core.repositories.announcement_reach`).

Every query is bounded by the communes in scope and the month (index `ix_events_commune_time`)
and grouped in the database, so a report costs the same whatever the table's total size.
Definitions: `reports/definitions.md`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from statistics import quantiles
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    and_,
    case,
    cast,
    distinct,
    exists,
    func,
    literal_column,
    or_,
    select,
    true,
)
from sqlalchemy.orm import Session, aliased

from core.content.lessons import PASS_SHARE, find_lesson
from core.content.services import find_service_guide
from core.db import aware
from core.models import (
    Announcement,
    AnnouncementCommune,
    Event,
    EventType,
    FallbackText,
    Ticket,
    Volunteer,
    utcnow,
)
from core.places import Commune, commune_by_code, communes, province_by_code
from core.repositories.announcement_reach import reach
from reports.model import (
    LOCAL_TZ,
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

# A conversation ends after this long without a message (Rasa's session_expiration_time).
CONVERSATION_GAP = timedelta(minutes=60)
MISSED_LIMIT = 20
HANDED_BACK = "bot"  # handoff_resolved key when the volunteer gave the resident back to the bot

_COUNTED = {
    EventType.MESSAGE_IN: "messages_in",
    EventType.MESSAGE_OUT: "messages_out",
    EventType.FALLBACK: "fallbacks",
    EventType.SERVICE_STARTED: "services_started",
    EventType.SERVICE_COMPLETED: "services_completed",
    EventType.SCREEN_READ: "screens_read",
    EventType.LESSON_STARTED: "lessons_started",
    EventType.LESSON_COMPLETED: "quizzes_taken",
    EventType.HANDOFF_REQUESTED: "handoffs_requested",
    EventType.HANDOFF_CLAIMED: "handoffs_claimed",
    EventType.HANDOFF_RESOLVED: "handoffs_resolved",
    EventType.HANDOFF_EXPIRED: "handoffs_expired",
    EventType.CSAT: "ratings",
}


class UnknownPlace(LookupError):
    """No commune or province has this code."""


def commune_report(
    *, session: Session, commune_code: str, period: Period, now: datetime | None = None
) -> Report:
    """One commune's report for a month, with the previous month for comparison."""
    commune = commune_by_code(commune_code)
    if commune is None:
        raise UnknownPlace(f"không có xã/phường mã {commune_code}")
    scope = _Scope(session, (commune.code,), period)
    previous = _Scope(session, (commune.code,), period.previous())
    return Report(
        kind="commune",
        place=Place(commune.code, commune.name, commune.province.code, commune.province.name),
        period=period,
        generated_at=now or utcnow(),
        current=scope.metrics()[commune.code],
        previous=previous.metrics()[commune.code],
        weeks=scope.weeks(),
        services=scope.services(),
        lessons=scope.lessons(),
        channels=scope.channels(),
        volunteers=scope.volunteers(),
        missed=scope.missed(),
        announcements=scope.announcements(),
        subscriptions=scope.subscriptions(),
        unsubscribed_by=scope.unsubscribed_by(),
        synthetic=scope.synthetic(),
    )


def province_report(
    *, session: Session, province_code: str, period: Period, now: datetime | None = None
) -> Report:
    """A province roll-up: one row per commune (ranked by residents served), the province's
    totals (a resident active in two communes counts once), and the commune-level sections."""
    province = province_by_code(province_code)
    if province is None:
        raise UnknownPlace(f"không có tỉnh/thành phố mã {province_code}")
    members = [commune for commune in communes() if commune.province.code == province.code]
    codes = tuple(commune.code for commune in members)
    scope = _Scope(session, codes, period)
    previous = _Scope(session, codes, period.previous())
    now_rows, before_rows = scope.metrics(), previous.metrics()
    return Report(
        kind="province",
        place=Place(province.code, province.name, province.code, province.name),
        period=period,
        generated_at=now or utcnow(),
        current=scope.total(now_rows),
        previous=previous.total(before_rows),
        weeks=scope.weeks(),
        services=scope.services(),
        lessons=scope.lessons(),
        channels=scope.channels(),
        missed=scope.missed(),
        communes=_ranked(members, now_rows, before_rows),
        announcements=scope.announcements(),
        subscriptions=scope.subscriptions(),
        unsubscribed_by=scope.unsubscribed_by(),
        synthetic=scope.synthetic(),
    )


def _ranked(
    members: Sequence[Commune], now: dict[str, Metrics], before: dict[str, Metrics]
) -> list[CommuneRow]:
    """Active communes by residents served then conversations (ties share a rank), then the
    inactive ones by name."""

    def order(commune: Commune) -> tuple[int, int, str]:
        metrics = now[commune.code]
        return (-metrics.residents, -metrics.conversations, commune.code)

    rows: list[CommuneRow] = []
    rank, last_key = 0, None
    for position, commune in enumerate(sorted(members, key=order), start=1):
        metrics = now[commune.code]
        key = (metrics.residents, metrics.conversations)
        if key != last_key:
            rank, last_key = position, key
        shown = rank if metrics.active else None
        rows.append(CommuneRow(commune.code, commune.name, metrics, before[commune.code], shown))
    active = [row for row in rows if row.rank is not None]
    idle = sorted((row for row in rows if row.rank is None), key=lambda row: row.name)
    return active + idle


@dataclass(frozen=True)
class _Scope:
    """The events of some communes in one month."""

    session: Session
    codes: tuple[str, ...]
    period: Period

    def _where(self, *types: EventType) -> ColumnElement[bool]:
        return and_(
            Event.commune_code.in_(self.codes),
            Event.occurred_at >= self.period.start,
            Event.occurred_at < self.period.end,
            Event.type.in_([type_.value for type_ in types]) if types else true(),
        )

    def _rows(self, query: Any) -> Sequence[Any]:
        return self.session.execute(query).all()

    # -- headline metrics ------------------------------------------------------------------

    def metrics(self) -> dict[str, Metrics]:
        """Metrics per commune code (every commune in scope, zeros when idle)."""
        values: dict[str, dict[str, Any]] = {code: {} for code in self.codes}
        passed = func.sum(case((Event.value >= PASS_SHARE, 1), else_=0))
        keyed = func.sum(case((Event.key.is_not(None), 1), else_=0))
        for code, type_, count, total, passes, with_key in self._rows(
            select(
                Event.commune_code, Event.type, func.count(), func.sum(Event.value), passed, keyed
            )
            .where(self._where(*_COUNTED))
            .group_by(Event.commune_code, Event.type)
        ):
            field = _COUNTED[EventType(type_)]
            values[code][field] = count
            if type_ == EventType.SCREEN_READ:  # the key names the problem it recognised
                values[code]["screens_recognised"] = int(with_key or 0)
            if type_ == EventType.LESSON_COMPLETED:
                values[code]["lessons_completed"] = count
                values[code]["quizzes_passed"] = int(passes or 0)
            if type_ == EventType.CSAT and count:
                values[code]["rating_average"] = float(total) / count
        for code, residents in self._rows(
            select(Event.commune_code, func.count(distinct(Event.resident_id)))
            .where(self._where(EventType.MESSAGE_IN))
            .group_by(Event.commune_code)
        ):
            values[code]["residents"] = residents
        for code, conversations, self_served in self._rows(self._conversations_by_commune()):
            values[code]["conversations"] = conversations
            values[code]["self_service_conversations"] = int(self_served or 0)
        for code, durations in self._durations().items():
            values[code].update(_percentiles(durations))
        return {code: Metrics(**fields) for code, fields in values.items()}

    def total(self, rows: dict[str, Metrics]) -> Metrics:
        """The scope's totals: sums, except residents (distinct across communes) and the
        times and rating (pooled, not averaged per commune)."""
        sums = {
            name: sum(getattr(metrics, name) for metrics in rows.values())
            for name in Metrics.__dataclass_fields__
            if isinstance(getattr(Metrics(), name), int)
        }
        residents = self.session.scalar(
            select(func.count(distinct(Event.resident_id))).where(self._where(EventType.MESSAGE_IN))
        )
        rated = self.session.scalar(
            select(func.avg(Event.value)).where(self._where(EventType.CSAT))
        )
        pooled: dict[str, list[float]] = defaultdict(list)
        for durations in self._durations().values():
            for name, seconds in durations.items():
                pooled[name].extend(seconds)
        fields: dict[str, Any] = {**sums, **_percentiles(pooled)}
        fields["residents"] = int(residents or 0)
        fields["rating_average"] = float(rated) if rated is not None else None
        return Metrics(**fields)

    def _conversations(self) -> Any:
        """One row per conversation that starts in the month: (commune, resident, at = its
        first message, handed = 1 when a handoff was requested before the resident's next
        conversation). One pass over the scope's messages and handoff requests, sorted per
        resident: a message more than CONVERSATION_GAP after the row before starts a
        conversation, and a running count of starts numbers every row. Rows up to
        CONVERSATION_GAP before the month are read so that a conversation running over
        midnight of the 1st is not counted twice."""
        handoff = EventType.HANDOFF_REQUESTED.value
        resident = (Event.commune_code, Event.resident_id)
        in_order = (Event.occurred_at, Event.id)
        rows = (
            select(
                Event.commune_code.label("commune"),
                Event.resident_id.label("resident"),
                Event.occurred_at.label("at"),
                Event.id.label("id"),
                Event.type.label("type"),
                func.lag(Event.occurred_at)
                .over(partition_by=resident, order_by=in_order)
                .label("previous"),
            )
            .where(
                Event.commune_code.in_(self.codes),
                Event.type.in_([EventType.MESSAGE_IN.value, handoff]),
                Event.occurred_at >= self.period.start - CONVERSATION_GAP,
                Event.occurred_at < self.period.end,
            )
            .subquery()
        )
        gap = _seconds_between(self.session, rows.c.previous, rows.c.at)
        starts = case(
            (
                and_(
                    rows.c.type == EventType.MESSAGE_IN.value,
                    or_(rows.c.previous.is_(None), gap > CONVERSATION_GAP.total_seconds()),
                ),
                1,
            ),
            else_=0,
        )
        numbered = select(
            rows.c.commune,
            rows.c.resident,
            rows.c.at,
            rows.c.type,
            func.sum(starts)
            .over(
                partition_by=(rows.c.commune, rows.c.resident),
                order_by=(rows.c.at, rows.c.id),
                rows=(None, 0),
            )
            .label("talk"),
        ).subquery()
        first = func.min(numbered.c.at)
        return (
            select(
                numbered.c.commune,
                first.label("at"),
                func.max(case((numbered.c.type == handoff, 1), else_=0)).label("handed"),
            )
            .where(numbered.c.talk > 0)
            .group_by(numbered.c.commune, numbered.c.resident, numbered.c.talk)
            .having(first >= self.period.start)
            .subquery()
        )

    def _conversations_by_commune(self) -> Any:
        talks = self._conversations()
        return select(talks.c.commune, func.count(), func.sum(1 - talks.c.handed)).group_by(
            talks.c.commune
        )

    def _durations(self) -> dict[str, dict[str, list[float]]]:
        """Seconds to claim and to resolve, per commune (handoffs claimed / resolved in the
        month, whenever they were requested)."""
        found: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
        names = {EventType.HANDOFF_CLAIMED: "claim", EventType.HANDOFF_RESOLVED: "resolve"}
        for code, type_, seconds in self._rows(
            select(Event.commune_code, Event.type, Event.value).where(
                self._where(*names), Event.value.is_not(None)
            )
        ):
            found[code][names[EventType(type_)]].append(float(seconds))
        return found

    # -- sections --------------------------------------------------------------------------

    def weeks(self) -> list[WeekRow]:
        """Residents, conversations and messages per local week (Monday first)."""
        week = _local_week(self.session, Event.occurred_at)
        counted = {
            start: (residents, messages)
            for start, residents, messages in self._rows(
                select(week, func.count(distinct(Event.resident_id)), func.count())
                .where(self._where(EventType.MESSAGE_IN))
                .group_by(week)
            )
        }
        talks = self._conversations()
        talk_week = _local_week(self.session, talks.c.at)
        conversations = {
            _as_date(start): count
            for start, count in self._rows(select(talk_week, func.count()).group_by(talk_week))
        }
        counted = {_as_date(start): found for start, found in counted.items()}
        rows = []
        for start in _week_starts(self.period):
            residents, messages = counted.get(start, (0, 0))
            rows.append(WeekRow(start, residents, conversations.get(start, 0), messages))
        return rows

    def services(self) -> list[ServiceRow]:
        counts = self._per_key(
            EventType.SERVICE_STARTED, EventType.SERVICE_COMPLETED, EventType.SERVICE_STUCK
        )
        steps: dict[str, tuple[int, int]] = {}
        for key, step, count in self._rows(
            select(Event.key, Event.value, func.count())
            .where(self._where(EventType.SERVICE_STUCK), Event.value.is_not(None))
            .group_by(Event.key, Event.value)
        ):
            best = steps.get(key)
            if best is None or (count, -step) > (best[1], -best[0]):
                steps[key] = (int(step), count)
        rows = [
            ServiceRow(
                service=key,
                name=_name(find_service_guide(key), key),
                started=found.get(EventType.SERVICE_STARTED, 0),
                completed=found.get(EventType.SERVICE_COMPLETED, 0),
                stuck=found.get(EventType.SERVICE_STUCK, 0),
                stuck_step=steps[key][0] if key in steps else None,
                stuck_at_step=steps[key][1] if key in steps else 0,
            )
            for key, found in counts.items()
        ]
        return sorted(rows, key=lambda row: (-row.started, -row.stuck, row.service))

    def lessons(self) -> list[LessonRow]:
        counts = self._per_key(EventType.LESSON_STARTED, EventType.LESSON_COMPLETED)
        passed = dict(
            self._rows(
                select(Event.key, func.count())
                .where(self._where(EventType.LESSON_COMPLETED), Event.value >= PASS_SHARE)
                .group_by(Event.key)
            )
        )
        rows = [
            LessonRow(
                lesson=key,
                name=_name(find_lesson(key), key),
                started=found.get(EventType.LESSON_STARTED, 0),
                completed=found.get(EventType.LESSON_COMPLETED, 0),
                quizzes_passed=passed.get(key, 0),
            )
            for key, found in counts.items()
        ]
        return sorted(rows, key=lambda row: (-row.started, row.lesson))

    def _per_key(self, *types: EventType) -> dict[str, dict[EventType, int]]:
        found: dict[str, dict[EventType, int]] = defaultdict(dict)
        for key, type_, count in self._rows(
            select(Event.key, Event.type, func.count())
            .where(self._where(*types), Event.key.is_not(None))
            .group_by(Event.key, Event.type)
        ):
            found[key][EventType(type_)] = count
        return found

    def channels(self) -> list[ChannelRow]:
        rows = [
            ChannelRow(channel, residents, messages)
            for channel, residents, messages in self._rows(
                select(Event.channel, func.count(distinct(Event.resident_id)), func.count())
                .where(self._where(EventType.MESSAGE_IN))
                .group_by(Event.channel)
            )
        ]
        return sorted(rows, key=lambda row: (-row.messages_in, row.channel))

    def volunteers(self) -> list[VolunteerRow]:
        """Handoffs each volunteer claimed and closed in the month (by display name)."""
        claimed = func.sum(case((Event.type == EventType.HANDOFF_CLAIMED.value, 1), else_=0))
        resolved = func.sum(case((Event.type == EventType.HANDOFF_RESOLVED.value, 1), else_=0))
        rows = [
            VolunteerRow(name, int(claims or 0), int(closes or 0))
            for name, claims, closes in self._rows(
                select(Volunteer.display_name, claimed, resolved)
                .select_from(Event)
                .join(Ticket, Ticket.id == Event.ticket_id)
                .join(Volunteer, Volunteer.id == Ticket.claimed_by)
                .where(self._where(EventType.HANDOFF_CLAIMED, EventType.HANDOFF_RESOLVED))
                .group_by(Volunteer.id, Volunteer.display_name)
            )
        ]
        return sorted(rows, key=lambda row: (-row.resolved, -row.claimed, row.name))

    def missed(self) -> list[MissedQuestion]:
        """The most frequent messages the bot did not understand: the masked words when the
        resident consented (a text was kept), else the intent Rasa thought closest."""
        words = func.lower(func.trim(FallbackText.text))
        label = func.coalesce(words, Event.key, literal_column("''"))
        kind = case((FallbackText.id.is_(None), "intent"), else_="text")
        rows = self._rows(
            select(label, kind, func.count())
            .select_from(Event)
            .outerjoin(FallbackText, FallbackText.event_id == Event.id)
            .where(self._where(EventType.FALLBACK))
            .group_by(label, kind)
            .order_by(func.count().desc(), label)
            .limit(MISSED_LIMIT)
        )
        return [MissedQuestion(text, kind, count) for text, kind, count in rows]

    # -- announcements ---------------------------------------------------------------------

    def announcements(self) -> list[AnnouncementRow]:
        """Announcements addressed to the scope's communes (their own, or their province's
        for all its communes or chosen ones among them) that started sending in the month,
        with their reach among the scope's residents."""
        provinces = {place.province.code for place in map(commune_by_code, self.codes) if place}
        chosen = exists().where(AnnouncementCommune.announcement_id == Announcement.id)
        chosen_here = exists().where(
            AnnouncementCommune.announcement_id == Announcement.id,
            AnnouncementCommune.commune_code.in_(self.codes),
        )
        found = self._rows(
            select(
                Announcement.id,
                Announcement.title,
                Announcement.category,
                Announcement.commune_code,
                Announcement.province_code,
                Announcement.started_at,
            )
            .where(
                Announcement.started_at >= self.period.start,
                Announcement.started_at < self.period.end,
                or_(
                    Announcement.commune_code.in_(self.codes),
                    and_(
                        Announcement.province_code.in_(sorted(provinces)),
                        or_(~chosen, chosen_here),
                    ),
                ),
            )
            .order_by(Announcement.started_at, Announcement.id)
        )
        reached = reach(
            session=self.session, announcement_ids=[row[0] for row in found], communes=self.codes
        )
        rows = []
        for id_, title, category, commune, province, started in found:
            one = reached[id_]
            rows.append(
                AnnouncementRow(
                    id=id_,
                    title=title,
                    category=category,
                    sender=_sender(commune, province),
                    started=aware(started).astimezone(LOCAL_TZ).date(),
                    targeted=one.targeted,
                    sent=one.sent,
                    failed=dict(sorted(one.failed.items())),
                    unreachable=dict(sorted(one.unreachable.items())),
                    pending=one.pending,
                    unsubscribed=one.unsubscribed,
                    replies=one.replies,
                    handoffs=one.handoffs,
                )
            )
        return rows

    def subscriptions(self) -> list[SubscriptionRow]:
        """Per channel: subscriptions made (`subscribed`, key = channel) and ended
        (`unsubscribed`) in the month, and running at its end."""
        made = dict(self._per(Event.key, EventType.SUBSCRIBED))
        ended = dict(self._per(Event.channel, EventType.UNSUBSCRIBED))
        running = self._subscribers()
        rows = [
            SubscriptionRow(
                channel, made.get(channel, 0), ended.get(channel, 0), running.get(channel, 0)
            )
            for channel in {*made, *ended, *running}
            if channel is not None
        ]
        return sorted(rows, key=lambda row: (-row.subscribers, -row.subscribed, row.channel))

    def unsubscribed_by(self) -> dict[str, int]:
        """Subscriptions ended in the month, by why (`unsubscribed` key)."""
        found = self._per(Event.key, EventType.UNSUBSCRIBED)
        return {why or "unknown": count for why, count in sorted(found, key=lambda r: -r[1])}

    def _per(self, column: Any, type_: EventType) -> Sequence[Any]:
        return self._rows(select(column, func.count()).where(self._where(type_)).group_by(column))

    def _subscribers(self) -> dict[str, int]:
        """Subscriptions running at the end of the month, per channel: (resident, channel)
        whose last `subscribed` / `unsubscribed` event before the end is `subscribed`, stamped
        with a commune of the scope, and not erased with the resident since."""
        end = self.period.end
        subscribed = EventType.SUBSCRIBED.value
        theirs = select(Event.resident_id).where(
            Event.type == subscribed, Event.commune_code.in_(self.codes), Event.occurred_at < end
        )
        latest = (
            select(
                Event.resident_id,
                Event.channel,
                Event.type,
                Event.commune_code,
                Event.occurred_at,
                func.row_number()
                .over(
                    partition_by=(Event.resident_id, Event.channel),
                    order_by=(Event.occurred_at.desc(), Event.id.desc()),
                )
                .label("n"),
            )
            .where(
                Event.type.in_([subscribed, EventType.UNSUBSCRIBED.value]),
                Event.occurred_at < end,
                Event.resident_id.in_(theirs),
            )
            .subquery()
        )
        erasure = aliased(Event)
        erased = exists().where(
            erasure.type == EventType.DATA_ERASED.value,
            erasure.resident_id == latest.c.resident_id,
            erasure.occurred_at >= latest.c.occurred_at,
            erasure.occurred_at < end,
        )
        return dict(
            self._rows(
                select(latest.c.channel, func.count())
                .where(
                    latest.c.n == 1,
                    latest.c.type == subscribed,
                    latest.c.commune_code.in_(self.codes),
                    ~erased,
                )
                .group_by(latest.c.channel)
            )
        )

    def synthetic(self) -> bool:
        return bool(
            self.session.scalar(select(exists().where(self._where(), Event.synthetic.is_(True))))
        )


def _percentiles(durations: dict[str, list[float]]) -> dict[str, float | None]:
    """Median and 90th percentile (inclusive method) of each list of seconds."""
    found: dict[str, float | None] = {}
    for name in ("claim", "resolve"):
        seconds = sorted(durations.get(name, []))
        if not seconds:
            continue
        if len(seconds) == 1:
            p50 = p90 = seconds[0]
        else:
            cuts = quantiles(seconds, n=10, method="inclusive")
            p50, p90 = cuts[4], cuts[8]
        found[f"{name}_p50"], found[f"{name}_p90"] = p50, p90
    return found


def _sender(commune: str | None, province: str | None) -> str:
    """The name of the commune or province an announcement came from (its code when the
    place no longer exists)."""
    place = commune_by_code(commune) if commune else province_by_code(province or "")
    return place.name if place is not None else commune or province or ""


def _name(content: Any, key: str) -> str:
    """A guide's or lesson's Vietnamese name; the key for content that no longer exists."""
    return str(content.name) if content is not None else key


def _seconds_between(session: Session, earlier: Any, later: Any) -> ColumnElement[Any]:
    if session.get_bind().dialect.name == "sqlite":
        return (func.julianday(later) - func.julianday(earlier)) * 86400.0
    return func.extract("epoch", later - earlier)


def _local_week(session: Session, moment: Any) -> ColumnElement[Any]:
    """The Monday (a date, Vietnam's time, UTC+7 all year) of the week holding `moment`."""
    if session.get_bind().dialect.name == "sqlite":
        return func.date(moment, "+7 hours", "weekday 0", "-6 days")
    local = func.timezone("Asia/Ho_Chi_Minh", moment)
    return cast(func.date_trunc("week", local), Date)


def _week_starts(period: Period) -> list[date]:
    """The Mondays of the weeks that overlap the month."""
    monday = period.first_day - timedelta(days=period.first_day.weekday())
    end = period.next().first_day
    starts = []
    while monday < end:
        starts.append(monday)
        monday += timedelta(weeks=1)
    return starts


def _as_date(value: date | str) -> date:
    """SQLite gives dates as ISO text."""
    return date.fromisoformat(value) if isinstance(value, str) else value
