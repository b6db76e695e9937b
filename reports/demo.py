"""Synthetic activity for demos and benchmarks (`cns seed-demo`): a believable few months of
residents in some communes — conversations, service walkthroughs, lessons, questions the bot
missed, handoffs to synthetic volunteers and ratings, subscriptions to announcements and a few
announcements of the province and the communes with their deliveries, replies and the
handoffs they caused — written in bulk to the tables the reports read, as the gateway, the
actions and the desk would have written them.

Everything made here is recognisable and removed by `clear_demo`: events and fallback texts
have `synthetic` set; tickets, and the profiles of residents who subscribed, belong to
residents whose id starts with "demo-" (tickets also to the channel account "demo");
volunteers' names and announcements' titles end with "(mô phỏng)"; announcements have no
author and the link `DEMO_LINK` (a reserved domain that never resolves), and their deliveries
go with them. The same seed, places and `now` always give the same rows (announcement ids
aside).
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, cast

from sqlalchemy import Table, delete, insert, select
from sqlalchemy.orm import Session

from core.content.lessons import lesson_keys, load_lesson
from core.content.services import SERVICES_DIR, load_service_guide
from core.db import rowcount
from core.models import (
    Announcement,
    AnnouncementCategory,
    AnnouncementStatus,
    Delivery,
    DeliveryStatus,
    Event,
    EventType,
    FallbackText,
    Resident,
    Ticket,
    TicketReason,
    TicketState,
    Volunteer,
    VolunteerCommune,
    VolunteerRole,
)
from core.places import Commune, commune_by_code, communes
from reports.metrics import HANDED_BACK
from reports.model import LOCAL_TZ, Period

DEMO_PREFIX = "demo-"
DEMO_ACCOUNT = "demo"  # tickets' channel_user_id: no real account behind them
VOLUNTEER_MARK = "(mô phỏng)"
DEMO_LINK = "https://du-lieu-mo-phong.invalid/"
DEFAULT_PROVINCE = "01"
DEFAULT_COMMUNE = "00004"  # Phường Ba Đình
FALLBACK_INTENT = "nlu_fallback"
BATCH = 5000
QUIET_END = timedelta(days=4)  # no visit starts this close to `now`: every handoff is closed

CHANNELS = ("zalo", "telegram", "web")
CHANNEL_WEIGHTS = (55, 32, 13)
# The services residents ask about most; every other guide in data/services weighs 2.
POPULAR_SERVICES = {
    "vneid_activation": 22,
    "health_insurance": 14,
    "birth_registration": 11,
    "vneid_recovery": 7,
    "id_card": 5,
    "permanent_residence": 5,
    "temporary_residence": 5,
    "public_portal_login": 4,
}
POPULAR_LESSONS = {"scam_awareness": 6, "smartphone_basics": 5, "zalo_basics": 4}
WEEKDAY_WEIGHTS = (1.0, 1.0, 0.95, 0.95, 0.9, 0.55, 0.4)  # Monday first
# Local hours: mornings and afternoons at the commune office, evenings at home.
HOUR_WEIGHTS = (
    (0, 0.1), (1, 0.05), (2, 0.05), (3, 0.05), (4, 0.1), (5, 0.4), (6, 1.2), (7, 2.5),
    (8, 4.5), (9, 5.0), (10, 4.8), (11, 3.5), (12, 2.0), (13, 2.5), (14, 4.2), (15, 4.5),
    (16, 4.0), (17, 2.8), (18, 2.2), (19, 3.0), (20, 3.2), (21, 2.4), (22, 1.0), (23, 0.3),
)  # fmt: skip
# Masked words of questions the bot missed, as residents type them (no diacritics, teencode);
# the first ones come up most often.
MISSED_WORDS = (
    "cho hoi lam the nao de doi sim chinh chu",
    "app bi loi ko vao dc",
    "sao vneid cua toi bao sai mat khau hoai",
    "lam lai the bhyt bi mat o dau",
    "cach doi anh dai dien tren vneid",
    "toi muon tach khau thi lam sao",
    "dang ky xe may o dau",
    "ko nhan dc ma otp",
    "sao tai khoan bi khoa vay",
    "con toi di hoc xa muon dang ky tam tru cho chau",
    "nop thue dat online dc ko",
    "lam sao in giay xac nhan cu tru",
    "dien thoai bao het bo nho",
    "quen mat khau zalo thi lam sao",
    "tien dien thang nay sao cao the",
    "cach chuyen tien cho con bang dien thoai",
    "ma qr o dau",
    "xin so dien thoai cong an phuong",
    "sao ko quet dc mat",
    "toi ko biet chu nhieu co ai giup dc ko",
)
GOALS = ("service", "lesson", "question", "human", "scam")  # what a visit is about
GOAL_WEIGHTS = (55, 17, 18, 7, 3)
SMALL_TALK = ("thank", "ask_capabilities", "bot_challenge")
FIRST_NAMES = (
    "Chị Lan", "Anh Hùng", "Chị Hương", "Anh Minh", "Cô Hạnh", "Chú Tuấn", "Chị Thảo",
    "Anh Dũng", "Chị Mai", "Anh Quang", "Chị Ngọc", "Anh Phong", "Cô Bình", "Anh Khoa",
)  # fmt: skip
# What Rasa thought closest when it did not understand.
MISSED_CANDIDATES = (
    *(f"service_{key}" for key in POPULAR_SERVICES),
    "out_of_scope",
    "stuck",
    "request_human",
)
# Announcements each month: (day of the month, category, title, sent by the province or by the
# commune at this index of the demo's communes).
NOTICES: tuple[tuple[int, AnnouncementCategory, str, int | None], ...] = (
    (6, AnnouncementCategory.WARNING, "Cảnh báo cuộc gọi giả danh công an yêu cầu cài ứng dụng",
     None),
    (13, AnnouncementCategory.EVENT, "Ngày hỗ trợ cài đặt VNeID tại nhà văn hóa", 0),
    (20, AnnouncementCategory.DEADLINE, "Hạn gia hạn bảo hiểm y tế hộ gia đình", 1),
)  # fmt: skip
SUBSCRIBE_SHARE = 0.4  # of residents who consented, at their first visit
ZALO_FREE_WINDOW = timedelta(hours=48)
RATINGS = (1, 2, 3, 4, 5)
RATING_WEIGHTS = (3, 4, 9, 30, 54)
# Core tables: an ORM bulk insert splits rows by which values are None, row by row here.
_EVENTS = cast(Table, Event.__table__)
_TEXTS = cast(Table, FallbackText.__table__)
_TICKETS = cast(Table, Ticket.__table__)
_DELIVERIES = cast(Table, Delivery.__table__)
_RESIDENTS = cast(Table, Resident.__table__)


@dataclass(frozen=True)
class SeedSummary:
    """What `seed_demo` made."""

    communes: tuple[str, ...]
    residents: int
    events: int
    fallback_texts: int
    tickets: int
    volunteers: int
    announcements: int
    deliveries: int
    start: datetime
    end: datetime

    @property
    def last_full_month(self) -> Period:
        return Period.containing(self.end).previous()


@dataclass(frozen=True)
class Cleared:
    """What `clear_demo` removed."""

    events: int
    fallback_texts: int
    tickets: int
    volunteers: int
    announcements: int


def demo_communes(province_code: str = DEFAULT_PROVINCE, count: int = 5) -> tuple[str, ...]:
    """`count` communes of the province in code order; Hà Nội's start with Phường Ba Đình."""
    members = [commune.code for commune in communes() if commune.province.code == province_code]
    if not members:
        raise LookupError(f"không có tỉnh/thành phố mã {province_code}")
    return tuple(members[: max(1, count)])


def seed_demo(
    *,
    session: Session,
    commune_codes: Sequence[str],
    residents: int | None,
    events: int | None = None,
    months: int = 3,
    seed: int = 1,
    now: datetime,
) -> SeedSummary:
    """Make synthetic activity from the start of the month `months` before `now`'s until a few
    days before `now`: `residents` residents, or (with `events`) residents until at least that
    many events exist. The caller's session commits."""
    if residents is None and events is None:
        raise ValueError("give residents, events or both")
    places = [_commune(code) for code in commune_codes]
    rng = random.Random(seed)
    start = Period.containing(now)
    for _ in range(months):
        start = start.previous()
    world = _World(rng, places, start.start, now - QUIET_END)
    world.volunteers = _insert_volunteers(session, rng, places, world.start)
    world.notices = _insert_notices(session, places, world.start, world.end)
    made = 0
    while (residents is None or made < residents) and (
        events is None or len(world.log.events) < events
    ):
        _Resident(world).live()
        made += 1
    _write(session, world.log)
    return SeedSummary(
        communes=tuple(place.code for place in places),
        residents=made,
        events=len(world.log.events),
        fallback_texts=len(world.log.texts),
        tickets=len(world.log.tickets),
        volunteers=sum(len(ids) for ids in world.volunteers.values()),
        announcements=len(world.notices),
        deliveries=len(world.log.deliveries),
        start=world.start,
        end=now,
    )


def clear_demo(*, session: Session) -> Cleared:
    """Delete every synthetic row (and nothing else); the caller's session commits."""
    texts = rowcount(session, delete(FallbackText).where(FallbackText.synthetic.is_(True)))
    events = rowcount(session, delete(Event).where(Event.synthetic.is_(True)))
    tickets = rowcount(
        session,
        delete(Ticket).where(
            Ticket.channel_user_id == DEMO_ACCOUNT, Ticket.resident_id.startswith(DEMO_PREFIX)
        ),
    )
    made_here = select(Volunteer.id).where(
        Volunteer.display_name.endswith(f" {VOLUNTEER_MARK}"),
        Volunteer.telegram_user_id.is_(None),
        Volunteer.username.is_(None),
    )
    session.execute(delete(VolunteerCommune).where(VolunteerCommune.volunteer_id.in_(made_here)))
    volunteers = rowcount(session, delete(Volunteer).where(Volunteer.id.in_(made_here)))
    notices = select(Announcement.id).where(
        Announcement.title.endswith(f" {VOLUNTEER_MARK}"),
        Announcement.author_id.is_(None),
        Announcement.link == DEMO_LINK,
    )
    session.execute(delete(Delivery).where(Delivery.announcement_id.in_(notices)))
    announcements = rowcount(session, delete(Announcement).where(Announcement.id.in_(notices)))
    session.execute(delete(Resident).where(Resident.id.startswith(DEMO_PREFIX)))
    return Cleared(events, texts, tickets, volunteers, announcements)


def _commune(code: str) -> Commune:
    commune = commune_by_code(code)
    if commune is None:
        raise LookupError(f"không có xã/phường mã {code}")
    return commune


# -- the rows being made ------------------------------------------------------------------


@dataclass
class _Log:
    """Rows in the order they happen. An event's `ticket_id` is first an index into
    `tickets`; `texts` pair an index into `events` with the masked words."""

    events: list[dict[str, Any]] = field(default_factory=list)
    texts: list[tuple[int, str]] = field(default_factory=list)
    tickets: list[dict[str, Any]] = field(default_factory=list)
    deliveries: list[dict[str, Any]] = field(default_factory=list)
    residents: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class _Notice:
    """A synthetic announcement: to one commune, or (commune None) to the whole province."""

    id: int
    started: datetime
    commune: str | None

    def reaches(self, commune: str) -> bool:
        return self.commune is None or self.commune == commune


class _World:
    """The places, calendar, content and volunteers every resident draws from."""

    def __init__(
        self, rng: random.Random, places: list[Commune], start: datetime, end: datetime
    ) -> None:
        self.rng, self.places, self.start, self.end = rng, places, start, end
        self.log = _Log()
        self.volunteers: dict[str, list[int]] = {}
        self.notices: list[_Notice] = []
        # Communes are not equally busy: the first (e.g. Ba Đình) the most.
        self.place_weights = [1.0 / (1 + 0.6 * n) for n in range(len(places))]
        self.services = sorted(path.stem for path in SERVICES_DIR.glob("*.yml"))
        self.service_weights = [POPULAR_SERVICES.get(key, 2) for key in self.services]
        self.steps = {key: len(load_service_guide(key).steps) for key in self.services}
        # The step each service's residents most often get stuck at.
        self.hard_step = {key: rng.randint(2, steps) for key, steps in self.steps.items()}
        self.lessons = lesson_keys()
        self.lesson_weights = [POPULAR_LESSONS.get(key, 2) for key in self.lessons]
        self.days, self.day_weights = self._calendar()

    def _calendar(self) -> tuple[list[date], list[float]]:
        """Local days of the window, weighted by weekday and a slow month-on-month growth."""
        first = self.start.astimezone(LOCAL_TZ).date()
        last = self.end.astimezone(LOCAL_TZ).date()
        days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
        weights = [WEEKDAY_WEIGHTS[day.weekday()] * (1 + (day - first).days / 120) for day in days]
        return days, weights

    def moment(self, day: date | None = None) -> datetime:
        """A UTC instant at a believable local hour (of `day`, or of a weighted random day)."""
        rng = self.rng
        while True:
            when = day or rng.choices(self.days, self.day_weights)[0]
            hour = rng.choices([h for h, _ in HOUR_WEIGHTS], [w for _, w in HOUR_WEIGHTS])[0]
            local = datetime.combine(when, time(hour, rng.randrange(60), rng.randrange(60)))
            moment = local.replace(tzinfo=LOCAL_TZ).astimezone(UTC)
            if self.start <= moment < self.end:
                return moment
            day = None

    def place(self) -> Commune:
        return self.rng.choices(self.places, self.place_weights)[0]

    def volunteer(self, commune: str) -> int:
        team = self.volunteers[commune]
        return self.rng.choices(team, [3] + [2] * (len(team) - 1))[0]  # the lead takes most


class _Resident:
    """One resident's visits: each a conversation with the bot, maybe a handoff."""

    def __init__(self, world: _World) -> None:
        rng = world.rng
        self.world, self.rng, self.log = world, rng, world.log
        self.id = f"{DEMO_PREFIX}{rng.getrandbits(108):027x}"
        self.channel = rng.choices(CHANNELS, CHANNEL_WEIGHTS)[0]
        self.commune = world.place()
        self.consented: bool | None = None
        self.clock = world.moment()
        self.subscribed: datetime | None = None  # since when, on their channel
        self.first_subscribed: datetime | None = None
        self.last_message: datetime | None = None  # Zalo's free window runs from it
        self.heard = self.clock  # announcements before this were dealt with

    def live(self) -> None:
        """Their visits; a profile (commune, consent) for those who subscribed, as the bot
        keeps one to send them announcements."""
        self.visits()
        if self.first_subscribed is not None:
            self.log.residents.append(
                {
                    "id": self.id,
                    "commune_code": self.commune.code,
                    "consent": True,
                    "consent_at": self.first_subscribed,
                    "created_at": self.first_subscribed,
                    "updated_at": self.clock,
                }
            )

    def visits(self) -> None:
        visits = 1 + min(int(self.rng.expovariate(1 / 1.8)), 9)
        for visit in range(visits):
            if visit and len(self.world.places) > 1 and self.rng.random() < 0.03:
                self.commune = self.world.place()  # moved house (or said another commune)
            self.visit(first=visit == 0)
            following = self._next_visit()
            self.hear(until=following or self.world.end)
            if following is None:
                break
            self.clock = max(following, self.clock + timedelta(hours=2))
        self.hear(until=self.world.end)  # still subscribed after their last visit

    def _next_visit(self) -> datetime | None:
        day = (self.clock + timedelta(days=self.rng.uniform(1, 25))).astimezone(LOCAL_TZ).date()
        if day > self.world.days[-1]:
            return None
        return max(self.world.moment(day), self.clock + timedelta(hours=2))

    # -- one visit -------------------------------------------------------------------------

    def visit(self, *, first: bool) -> None:
        rng = self.rng
        if first or rng.random() < 0.4:
            self.turn("greet")
        if first:
            self.consented = rng.random() < 0.85
            kind = EventType.CONSENT_GIVEN if self.consented else EventType.CONSENT_REFUSED
            self.event(kind, gap=(5, 40))
        chance = SUBSCRIBE_SHARE if first else 0.05
        if self.consented and self.subscribed is None and rng.random() < chance:
            self.event(EventType.SUBSCRIBED, key=self.channel, gap=(5, 60))
            self.subscribed = self.clock
            self.first_subscribed = self.first_subscribed or self.clock
        goal = rng.choices(GOALS, GOAL_WEIGHTS)[0]
        if goal == "service":
            self.walkthrough()
        elif goal == "lesson":
            self.lesson()
        elif goal == "question":
            self.questions()
        elif goal == "human":
            self.turn("request_human")
            self.handoff(TicketReason.REQUEST_HUMAN)
        else:
            self.turn("report_scam", replies=3)
            self.handoff(TicketReason.SCAM)
        if rng.random() < 0.5:
            self.turn(rng.choice(("thank", "goodbye")), replies=1)
        if self.subscribed and self.channel == "zalo" and rng.random() < 0.02:
            self.unsubscribe("unfollowed")

    def walkthrough(self) -> None:
        rng, world = self.rng, self.world
        if rng.random() < 0.15:
            self.missed()
        key = rng.choices(world.services, world.service_weights)[0]
        self.turn(f"service_{key}", replies=3)
        self.event(EventType.SERVICE_STARTED, key=key)
        last, hard = world.steps[key], world.hard_step[key]
        for step in range(1, last + 1):
            if step > 1:
                self.turn("affirm")  # "Xong rồi" on the previous step
                self.event(EventType.SERVICE_STEP, key=key, value=step)
            if rng.random() < (0.22 if step == hard else 0.025):
                self.turn("stuck", replies=2)
                self.event(EventType.SERVICE_STUCK, key=key, value=step)
                if rng.random() < 0.5:
                    self.handoff(TicketReason.STUCK, service=key, step=step)
                return
            if rng.random() < 0.015:
                return  # left without a word
        self.turn("affirm")
        self.event(EventType.SERVICE_COMPLETED, key=key)

    def lesson(self) -> None:
        rng, world = self.rng, self.world
        self.turn("start_lessons", replies=2)
        key = rng.choices(world.lessons, world.lesson_weights)[0]
        content = load_lesson(key)
        self.turn(f"lesson_{key}")
        self.event(EventType.LESSON_STARTED, key=key)
        for _ in content.cards:
            if rng.random() < 0.06:
                return
            self.turn("affirm", wait=(20, 120))
        right = 0
        for _ in content.quiz:
            correct = rng.random() < 0.75
            right += correct
            self.turn("affirm", wait=(10, 60))
            self.event(EventType.QUIZ_ANSWERED, key=key, value=int(correct))
        self.event(EventType.LESSON_COMPLETED, key=key, value=right / len(content.quiz))

    def questions(self) -> None:
        rng = self.rng
        missed = 0
        for _ in range(rng.randint(1, 3)):
            if rng.random() < 0.45:
                self.missed()
                missed += 1
            else:
                self.turn(rng.choice(SMALL_TALK))
        if missed >= 2 and rng.random() < 0.4:
            self.handoff(TicketReason.FALLBACK)

    # -- announcements ---------------------------------------------------------------------

    def hear(self, *, until: datetime) -> None:
        """The announcements that started since the last look, up to `until`."""
        for notice in self.world.notices:
            if not self.heard <= notice.started < until or self.subscribed is None:
                continue
            if self.subscribed <= notice.started and notice.reaches(self.commune.code):
                self.receive(notice)
        self.heard = until

    def receive(self, notice: _Notice) -> None:
        """One delivery as the gateway's worker settles it; a reply, a question to a volunteer
        ("Hỏi thêm") or an unsubscription for some."""
        rng = self.rng
        self.clock = max(self.clock, notice.started) + timedelta(seconds=rng.uniform(5, 900))
        status, reason = self._outcome()
        self.log.deliveries.append(
            {
                "announcement_id": notice.id,
                "resident_id": self.id,
                "channel": self.channel,
                "status": status.value,
                "reason": reason,
                "created_at": notice.started,
                "updated_at": self.clock,
            }
        )
        key = str(notice.id)
        if status == DeliveryStatus.FAILED:
            self.event(EventType.ANNOUNCEMENT_FAILED, key=key, gap=(0, 0))
            if reason == "blocked":
                self.unsubscribe("blocked")
        if status != DeliveryStatus.SENT:
            return
        self.event(EventType.ANNOUNCEMENT_SENT, key=key, gap=(0, 0))
        roll = rng.random()
        if roll < 0.03:
            self.unsubscribe("resident", gap=(60, 7200))
        elif roll < 0.15:
            self.event(EventType.MESSAGE_IN, gap=(60, 5400))
            self.event(EventType.ANNOUNCEMENT_REPLY, key=key, gap=(0, 0))
            self.replies(1)
            if rng.random() < 0.3:
                self.handoff(TicketReason.ANNOUNCEMENT, announcement=notice.id)

    def _outcome(self) -> tuple[DeliveryStatus, str | None]:
        """Web: in the mailbox; Zalo: only within 48 hours of the resident's last message;
        Telegram: now and then blocked, or given up after retries."""
        if self.channel == "zalo":
            last = self.last_message
            if last is None or self.clock - last >= ZALO_FREE_WINDOW:
                return DeliveryStatus.UNREACHABLE, "zalo_48h"
        elif self.channel == "telegram":
            roll = self.rng.random()
            if roll < 0.02:
                return DeliveryStatus.FAILED, "blocked"
            if roll < 0.03:
                return DeliveryStatus.FAILED, "gave_up"
        return DeliveryStatus.SENT, None

    def unsubscribe(self, why: str, gap: tuple[float, float] = (0, 0)) -> None:
        self.event(EventType.UNSUBSCRIBED, key=why, gap=gap)
        self.subscribed = None

    # -- what the gateway records --------------------------------------------------------

    def event(
        self,
        type_: EventType,
        *,
        key: str | None = None,
        value: float | None = None,
        gap: tuple[float, float] = (1, 3),
        ticket: int | None = None,
    ) -> int:
        """Append one event `gap` seconds (a range) after the previous one; its index."""
        self.clock += timedelta(seconds=self.rng.uniform(*gap))
        if type_ == EventType.MESSAGE_IN:
            self.last_message = self.clock
        self.log.events.append(
            {
                "occurred_at": self.clock,
                "commune_code": self.commune.code,
                "channel": self.channel,
                "resident_id": self.id,
                "type": type_.value,
                "key": key,
                "value": value,
                "ticket_id": ticket,
                "synthetic": True,
            }
        )
        return len(self.log.events) - 1

    def turn(
        self, intent: str, *, replies: int | None = None, wait: tuple[int, int] = (20, 240)
    ) -> None:
        """A message the bot understood (sometimes after one it did not): message_in, intent,
        the bot's replies."""
        if self.rng.random() < 0.05:
            self.missed()
        self.event(EventType.MESSAGE_IN, gap=wait)
        self.event(EventType.INTENT, key=intent, value=round(self.rng.uniform(0.62, 0.995), 3))
        self.replies(replies)

    def missed(self) -> None:
        """A message the bot did not understand; its words are kept only with consent."""
        rng = self.rng
        self.event(EventType.MESSAGE_IN, gap=(20, 240))
        confidence = round(rng.uniform(0.2, 0.5), 3)
        candidate = rng.choice(MISSED_CANDIDATES)
        self.event(EventType.INTENT, key=FALLBACK_INTENT, value=confidence)
        fallback = self.event(EventType.FALLBACK, key=candidate, value=confidence, gap=(0, 0))
        if self.consented:
            words = MISSED_WORDS[min(int(rng.expovariate(0.25)), len(MISSED_WORDS) - 1)]
            self.log.texts.append((fallback, words))
        self.replies(1)

    def replies(self, count: int | None = None) -> None:
        for _ in range(count or self.rng.randint(1, 3)):
            self.event(EventType.MESSAGE_OUT)

    # -- the desk --------------------------------------------------------------------------

    def handoff(
        self,
        reason: TicketReason,
        service: str | None = None,
        step: int | None = None,
        announcement: int | None = None,
    ) -> None:
        """A ticket from request to close: claimed (minutes to hours, scams fast) and resolved,
        or expired after a day unclaimed; a rating for most resolved ones."""
        rng, world = self.rng, self.world
        ticket = len(self.log.tickets)
        self.event(EventType.HANDOFF_REQUESTED, key=reason.value, ticket=ticket)
        requested = self.clock
        record: dict[str, Any] = {
            "resident_id": self.id,
            "channel": self.channel,
            "channel_user_id": DEMO_ACCOUNT,
            "commune_code": self.commune.code,
            "reason": reason.value,
            "urgent": reason == TicketReason.SCAM,
            "service": service,
            "step": step,
            "summary": "",
            "created_at": requested,
            "sla_from": requested,
            "claimed_at": None,
            "claimed_by": None,
            "rating": None,
            "announcement_id": announcement,
        }
        self.log.tickets.append(record)
        self.replies(1)
        wait = self._claim_wait(reason)
        if wait is None:
            self.clock = requested + timedelta(hours=24, seconds=rng.uniform(0, 600))
            waited = (self.clock - requested).total_seconds()
            self.event(
                EventType.HANDOFF_EXPIRED, key=reason.value, value=waited, ticket=ticket, gap=(0, 0)
            )
            record.update(state=TicketState.EXPIRED.value, closed_at=self.clock)
            return
        self.clock = requested + wait
        volunteer = world.volunteer(self.commune.code)
        record.update(claimed_at=self.clock, claimed_by=volunteer)
        self.event(
            EventType.HANDOFF_CLAIMED,
            key=reason.value,
            value=wait.total_seconds(),
            ticket=ticket,
            gap=(0, 0),
        )
        for _ in range(rng.randint(2, 6)):  # the volunteer and the resident talk
            self.event(EventType.MESSAGE_OUT, gap=(30, 300))
            self.event(EventType.MESSAGE_IN, gap=(30, 400))
        self.event(EventType.MESSAGE_OUT, gap=(30, 300))
        self.clock += timedelta(seconds=rng.uniform(10, 120))
        took = (self.clock - requested).total_seconds()
        closed_by = HANDED_BACK if rng.random() < 0.25 else reason.value
        self.event(EventType.HANDOFF_RESOLVED, key=closed_by, value=took, ticket=ticket, gap=(0, 0))
        record.update(state=TicketState.RESOLVED.value, closed_at=self.clock)
        if rng.random() < 0.65:
            rating = rng.choices(RATINGS, RATING_WEIGHTS)[0]
            self.event(EventType.CSAT, key=reason.value, value=rating, ticket=ticket, gap=(15, 90))
            record["rating"] = rating

    def _claim_wait(self, reason: TicketReason) -> timedelta | None:
        """How long until a volunteer claims the ticket; None when nobody does within a day."""
        rng = self.rng
        local = self.clock.astimezone(LOCAL_TZ)
        office = local.weekday() < 5 and 7 <= local.hour < 17
        if reason == TicketReason.SCAM:
            return timedelta(minutes=rng.uniform(1, 12))
        if rng.random() < (0.04 if office else 0.12):
            return None
        if office or rng.random() < 0.4:
            return timedelta(minutes=min(rng.lognormvariate(2.4, 0.9), 600))
        morning = datetime.combine(local.date() + timedelta(days=1), time(7, 30), LOCAL_TZ)
        while morning.weekday() >= 5 and rng.random() < 0.7:
            morning += timedelta(days=1)  # some only look again on Monday
        return morning - self.clock + timedelta(minutes=min(rng.lognormvariate(2.8, 0.8), 240))


# -- writing ------------------------------------------------------------------------------


def _insert_volunteers(
    session: Session, rng: random.Random, places: list[Commune], start: datetime
) -> dict[str, list[int]]:
    """Two to four synthetic volunteers per commune, the first one the team lead."""
    teams: dict[str, list[int]] = {}
    for place in places:
        names = rng.sample(FIRST_NAMES, rng.randint(2, 4))
        rows = [
            {
                "display_name": f"{name} {VOLUNTEER_MARK}",
                "role": (VolunteerRole.LEAD if n == 0 else VolunteerRole.VOLUNTEER).value,
                "created_at": start,
            }
            for n, name in enumerate(names)
        ]
        ids = list(
            session.scalars(
                insert(Volunteer).returning(Volunteer.id, sort_by_parameter_order=True), rows
            )
        )
        session.execute(
            insert(VolunteerCommune),
            [{"volunteer_id": id_, "commune_code": place.code} for id_ in ids],
        )
        teams[place.code] = ids
    return teams


def _insert_notices(
    session: Session, places: list[Commune], start: datetime, end: datetime
) -> list[_Notice]:
    """The month's announcements (`NOTICES`) of every month from `start` that started before
    `end`, at 08:30 local time, already sent."""
    rows: list[dict[str, Any]] = []
    period = Period.containing(start)
    while period.start < end:
        for day, category, title, sender in NOTICES:
            started = datetime.combine(
                date(period.year, period.month, day), time(8, 30), LOCAL_TZ
            ).astimezone(UTC)
            if not start <= started < end or (sender is not None and sender >= len(places)):
                continue
            rows.append(
                {
                    "commune_code": None if sender is None else places[sender].code,
                    "province_code": places[0].province.code if sender is None else None,
                    "title": f"{title} {VOLUNTEER_MARK}",
                    "text": f"{title}. Dữ liệu mô phỏng.",
                    "link": DEMO_LINK,
                    "category": category.value,
                    "send_at": started,
                    "expires_at": started + timedelta(days=7),
                    "status": AnnouncementStatus.SENT.value,
                    "created_at": started - timedelta(days=1),
                    "approved_at": started - timedelta(hours=20),
                    "started_at": started,
                    "finished_at": started + timedelta(hours=1),
                }
            )
        period = period.next()
    if not rows:
        return []
    ids = session.scalars(
        insert(Announcement).returning(Announcement.id, sort_by_parameter_order=True), rows
    )
    return [
        _Notice(id_, row["started_at"], row["commune_code"])
        for id_, row in zip(ids, rows, strict=True)
    ]


def _write(session: Session, log: _Log) -> None:
    """Tickets, then events (pointing at the tickets' ids), then the kept words (pointing at
    their fallback events' ids), then announcement deliveries, in batches."""
    ticket_ids: list[int] = []
    for batch in _batches(log.tickets):
        ticket_ids += session.scalars(
            insert(_TICKETS).returning(_TICKETS.c.id, sort_by_parameter_order=True), batch
        )
    for row in log.events:
        if row["ticket_id"] is not None:
            row["ticket_id"] = ticket_ids[row["ticket_id"]]
    kept = {index for index, _ in log.texts}
    plain = [row for index, row in enumerate(log.events) if index not in kept]
    for batch in _batches(plain):
        session.execute(insert(_EVENTS), batch)
    fallbacks = [log.events[index] for index, _ in log.texts]
    event_ids: list[int] = []
    for batch in _batches(fallbacks):
        event_ids += session.scalars(
            insert(_EVENTS).returning(_EVENTS.c.id, sort_by_parameter_order=True), batch
        )
    texts = [
        {
            "event_id": event_id,
            "occurred_at": row["occurred_at"],
            "commune_code": row["commune_code"],
            "resident_id": row["resident_id"],
            "text": words,
            "synthetic": True,
        }
        for event_id, row, (_, words) in zip(event_ids, fallbacks, log.texts, strict=True)
    ]
    for batch in _batches(texts):
        session.execute(insert(_TEXTS), batch)
    for batch in _batches(log.residents):
        session.execute(insert(_RESIDENTS), batch)
    for batch in _batches(log.deliveries):
        session.execute(insert(_DELIVERIES), batch)


def _batches(rows: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for offset in range(0, len(rows), BATCH):
        yield rows[offset : offset + BATCH]
