"""Every report metric against hand-built events with known answers (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from core.models import (
    Announcement,
    AnnouncementCommune,
    AnnouncementStatus,
    Delivery,
    DeliveryStatus,
    Event,
    EventType,
    FallbackText,
    Resident,
    Ticket,
    TicketState,
    Volunteer,
)
from core.places import commune_by_code, communes
from reports.metrics import UnknownPlace, commune_report, province_report
from reports.model import LOCAL_TZ, AnnouncementRow, Metrics, Period, SubscriptionRow

OCT = Period(2026, 10)
NOV = Period(2026, 11)
HANOI = [commune.code for commune in communes() if commune.province.code == "01"]
X, Y, Z = HANOI[0], HANOI[1], HANOI[2]
ELSEWHERE = next(commune.code for commune in communes() if commune.province.code != "01")
NOW = datetime(2026, 12, 2, tzinfo=UTC)


def local(text: str) -> datetime:
    """A Vietnam wall-clock time ("2026-10-05 09:00") as a UTC instant."""
    return datetime.fromisoformat(text).replace(tzinfo=LOCAL_TZ).astimezone(UTC)


class Log:
    """Builds a commune's events in order."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(
        self,
        when: str,
        type_: EventType,
        resident: str = "a",
        *,
        commune: str | None = X,
        channel: str = "telegram",
        key: str | None = None,
        value: float | None = None,
        ticket: int | None = None,
        synthetic: bool = False,
    ) -> Event:
        event = Event(
            occurred_at=local(when),
            type=type_.value,
            resident_id=resident,
            commune_code=commune,
            channel=channel,
            key=key,
            value=value,
            ticket_id=ticket,
            synthetic=synthetic,
        )
        self.session.add(event)
        self.session.flush()
        return event

    def ticket(self, resident: str, volunteer: Volunteer | None, commune: str = X) -> int:
        ticket = Ticket(
            resident_id=resident,
            channel="telegram",
            channel_user_id="1",
            commune_code=commune,
            reason="request_human",
            state=TicketState.RESOLVED,
            claimed_by=volunteer.id if volunteer else None,
        )
        self.session.add(ticket)
        self.session.flush()
        return ticket.id

    def volunteer(self, name: str) -> Volunteer:
        volunteer = Volunteer(display_name=name)
        self.session.add(volunteer)
        self.session.flush()
        return volunteer


@pytest.fixture
def log(session: Session) -> Log:
    return Log(session)


def test_a_commune_with_no_activity_has_zeros_and_every_week(session: Session) -> None:
    found = commune_report(session=session, commune_code=X, period=OCT, now=NOW)
    assert found.current == Metrics()
    assert found.previous == Metrics()
    assert [week.week_start.isoformat() for week in found.weeks] == [
        "2026-09-28",
        "2026-10-05",
        "2026-10-12",
        "2026-10-19",
        "2026-10-26",
    ]
    assert all(week.messages_in == 0 for week in found.weeks)
    assert (found.services, found.lessons, found.channels, found.missed) == ([], [], [], [])
    assert found.place.province_code == "01"
    assert not found.current.active
    assert found.current.self_service_rate is None


def test_residents_conversations_messages_and_rates(session: Session, log: Log) -> None:
    # a: two conversations (90 minutes apart), one fallback; b: one conversation, handed off.
    log.add("2026-10-05 09:00", EventType.MESSAGE_IN, "a")
    log.add("2026-10-05 09:00", EventType.MESSAGE_OUT, "a")
    log.add("2026-10-05 09:30", EventType.MESSAGE_IN, "a")
    log.add("2026-10-05 09:30", EventType.FALLBACK, "a", key="service_vneid_activation")
    log.add("2026-10-05 09:30", EventType.MESSAGE_OUT, "a")
    log.add("2026-10-05 11:00", EventType.MESSAGE_IN, "a")
    log.add("2026-10-05 11:00", EventType.MESSAGE_OUT, "a")
    log.add("2026-10-06 10:00", EventType.MESSAGE_IN, "b", channel="zalo")
    log.add("2026-10-06 10:01", EventType.HANDOFF_REQUESTED, "b", channel="zalo", ticket=1)
    log.add("2026-10-06 10:30", EventType.MESSAGE_IN, "b", channel="zalo")
    log.add("2026-10-07 08:00", EventType.MESSAGE_IN, "c", commune=Y)  # another commune

    current = commune_report(session=session, commune_code=X, period=OCT, now=NOW).current

    assert current.residents == 2
    assert current.messages_in == 5
    assert current.messages_out == 3
    assert current.conversations == 3
    assert current.self_service_conversations == 2
    assert current.self_service_rate == pytest.approx(2 / 3)
    assert current.fallbacks == 1
    assert current.fallback_rate == pytest.approx(1 / 5)
    assert current.handoffs_requested == 1


def test_month_boundaries_follow_vietnam_time(session: Session, log: Log) -> None:
    log.add("2026-10-01 00:30", EventType.MESSAGE_IN, "a")  # 30 Sep 17:30 UTC: October
    log.add("2026-10-31 23:30", EventType.MESSAGE_IN, "a")  # October, a new conversation
    log.add("2026-11-01 00:10", EventType.MESSAGE_IN, "a")  # November, same conversation
    log.add("2026-11-01 01:30", EventType.MESSAGE_IN, "a")  # November, a new one

    october = commune_report(session=session, commune_code=X, period=OCT, now=NOW)
    november = commune_report(session=session, commune_code=X, period=NOV, now=NOW)

    assert (october.current.messages_in, october.current.conversations) == (2, 2)
    assert (november.current.messages_in, november.current.conversations) == (2, 1)
    assert november.current.residents == 1
    assert november.previous == october.current
    assert october.weeks[0].messages_in == 1  # 1 October is in the week of 28 September
    assert october.weeks[-1].messages_in == 1
    assert sum(week.conversations for week in november.weeks) == 1


def test_a_resident_who_moves_counts_in_both_communes_and_once_in_the_province(
    session: Session, log: Log
) -> None:
    log.add("2026-10-03 09:00", EventType.MESSAGE_IN, "mover", commune=X)
    log.add("2026-10-20 09:00", EventType.MESSAGE_IN, "mover", commune=Y)
    log.add("2026-10-20 09:05", EventType.MESSAGE_IN, "stayer", commune=Y)
    log.add("2026-10-20 09:05", EventType.MESSAGE_IN, "visitor", commune=ELSEWHERE)

    province = province_report(session=session, province_code="01", period=OCT, now=NOW)
    rows = {row.code: row for row in province.communes}

    assert rows[X].current.residents == 1
    assert rows[Y].current.residents == 2
    assert province.current.residents == 2  # the mover once; the visitor is elsewhere
    assert province.current.messages_in == 3
    assert province.current.conversations == 3
    assert [row.code for row in province.communes[:2]] == [Y, X]
    assert (rows[Y].rank, rows[X].rank, rows[Z].rank) == (1, 2, None)
    assert len(province.communes) == len(HANOI)
    assert {row.code for row in province.inactive_communes} == set(HANOI) - {X, Y}


def test_a_ticket_spanning_two_months(session: Session, log: Log) -> None:
    volunteer = log.volunteer("Chị Lan")
    ticket = log.ticket("a", volunteer)
    log.add("2026-10-31 23:00", EventType.HANDOFF_REQUESTED, ticket=ticket)
    log.add("2026-11-01 08:00", EventType.HANDOFF_CLAIMED, value=9 * 3600, ticket=ticket)
    log.add("2026-11-01 09:00", EventType.HANDOFF_RESOLVED, value=10 * 3600, ticket=ticket)
    log.add("2026-11-01 09:01", EventType.CSAT, value=5, ticket=ticket)

    october = commune_report(session=session, commune_code=X, period=OCT, now=NOW).current
    november = commune_report(session=session, commune_code=X, period=NOV, now=NOW)

    assert (october.handoffs_requested, october.handoffs_claimed) == (1, 0)
    assert october.claim_p50 is None
    current = november.current
    assert (current.handoffs_requested, current.handoffs_claimed) == (0, 1)
    assert current.handoffs_resolved == 1
    assert (current.claim_p50, current.claim_p90) == (9 * 3600, 9 * 3600)
    assert current.resolve_p50 == 10 * 3600
    assert (current.ratings, current.rating_average) == (1, 5.0)
    assert [(row.name, row.claimed, row.resolved) for row in november.volunteers] == [
        ("Chị Lan", 1, 1)
    ]


def test_claim_and_resolve_percentiles_ratings_and_expiry(session: Session, log: Log) -> None:
    for minutes in range(1, 11):
        log.add("2026-10-10 10:00", EventType.HANDOFF_CLAIMED, value=minutes * 60.0)
    log.add("2026-10-10 10:00", EventType.HANDOFF_RESOLVED, value=100.0)
    log.add("2026-10-10 10:00", EventType.HANDOFF_RESOLVED, value=300.0, key="bot")
    log.add("2026-10-10 10:00", EventType.HANDOFF_EXPIRED, value=86400.0)
    for score in (5, 4, 2):
        log.add("2026-10-10 11:00", EventType.CSAT, value=score)

    current = commune_report(session=session, commune_code=X, period=OCT, now=NOW).current

    assert current.handoffs_claimed == 10
    assert current.claim_p50 == pytest.approx(330.0)  # inclusive method: between 5 and 6 min
    assert current.claim_p90 == pytest.approx(546.0)
    assert current.handoffs_resolved == 2
    assert current.resolve_p50 == pytest.approx(200.0)
    assert current.handoffs_expired == 1
    assert current.ratings == 3
    assert current.rating_average == pytest.approx(11 / 3)


def test_walkthroughs_and_where_residents_get_stuck(session: Session, log: Log) -> None:
    for resident in ("a", "b", "c"):
        log.add("2026-10-12 09:00", EventType.SERVICE_STARTED, resident, key="vneid_activation")
    log.add("2026-10-12 09:10", EventType.SERVICE_COMPLETED, "a", key="vneid_activation")
    log.add("2026-10-12 09:10", EventType.SERVICE_STUCK, "b", key="vneid_activation", value=3)
    log.add("2026-10-12 09:10", EventType.SERVICE_STUCK, "c", key="vneid_activation", value=2)
    log.add("2026-10-12 09:20", EventType.SERVICE_STUCK, "c", key="vneid_activation", value=2)
    log.add("2026-10-12 09:00", EventType.SERVICE_STARTED, "d", key="birth_registration")

    found = commune_report(session=session, commune_code=X, period=OCT, now=NOW)
    vneid, birth = found.services

    assert (vneid.service, vneid.started, vneid.completed, vneid.stuck) == (
        "vneid_activation",
        3,
        1,
        3,
    )
    assert (vneid.stuck_step, vneid.stuck_at_step) == (2, 2)
    assert vneid.name.startswith("Kích hoạt tài khoản định danh")
    assert vneid.completion_rate == pytest.approx(1 / 3)
    assert (birth.started, birth.completed, birth.stuck_step) == (1, 0, None)
    assert (found.current.services_started, found.current.services_completed) == (4, 1)


def test_screenshots_read_and_recognised(session: Session, log: Log) -> None:
    log.add("2026-10-12 09:00", EventType.SCREEN_READ, "a", key="vneid_activation.1.0")
    log.add("2026-10-12 09:05", EventType.SCREEN_READ, "a", key=None)  # no problem it knows
    log.add("2026-10-13 10:00", EventType.SCREEN_READ, "b", key="public_portal_login.4.1")
    log.add("2026-09-30 10:00", EventType.SCREEN_READ, "b", key=None)  # September
    log.add("2026-10-13 10:00", EventType.SCREEN_READ, "c", key=None, commune=None)

    found = commune_report(session=session, commune_code=X, period=OCT, now=NOW)

    assert (found.current.screens_read, found.current.screens_recognised) == (3, 2)
    assert (found.previous.screens_read, found.previous.screens_recognised) == (1, 0)


def test_lessons_and_quiz_pass_rate(session: Session, log: Log) -> None:
    for resident in ("a", "b", "c"):
        log.add("2026-10-14 09:00", EventType.LESSON_STARTED, resident, key="safe_passwords")
    log.add("2026-10-14 09:05", EventType.QUIZ_ANSWERED, "a", key="safe_passwords", value=1)
    log.add("2026-10-14 09:06", EventType.LESSON_COMPLETED, "a", key="safe_passwords", value=1.0)
    log.add("2026-10-14 09:06", EventType.LESSON_COMPLETED, "b", key="safe_passwords", value=0.5)
    log.add("2026-10-14 09:06", EventType.LESSON_COMPLETED, "c", key="safe_passwords", value=0.3)

    found = commune_report(session=session, commune_code=X, period=OCT, now=NOW)
    (lesson,) = found.lessons

    assert (lesson.started, lesson.completed, lesson.quizzes_passed) == (3, 3, 2)
    assert lesson.quiz_pass_rate == pytest.approx(2 / 3)
    assert lesson.name == "Mật khẩu an toàn và giữ kín mã OTP"
    assert (found.current.lessons_completed, found.current.quizzes_passed) == (3, 2)


def test_channel_mix(session: Session, log: Log) -> None:
    log.add("2026-10-15 09:00", EventType.MESSAGE_IN, "a", channel="zalo")
    log.add("2026-10-15 09:01", EventType.MESSAGE_IN, "a", channel="zalo")
    log.add("2026-10-15 09:02", EventType.MESSAGE_IN, "b", channel="zalo")
    log.add("2026-10-15 09:00", EventType.MESSAGE_IN, "c", channel="web")

    channels = commune_report(session=session, commune_code=X, period=OCT, now=NOW).channels

    assert [(row.channel, row.residents, row.messages_in) for row in channels] == [
        ("zalo", 2, 3),
        ("web", 1, 1),
    ]


def test_missed_questions_show_consented_words_else_the_closest_intent(
    session: Session, log: Log
) -> None:
    for resident, words in (("a", "Doi sim chinh chu "), ("b", "doi sim chinh chu")):
        event = log.add("2026-10-16 09:00", EventType.FALLBACK, resident, key="service_id_card")
        log.session.add(
            FallbackText(
                event_id=event.id,
                occurred_at=event.occurred_at,
                commune_code=X,
                resident_id=resident,
                text=words,
            )
        )
    for _ in range(3):
        log.add("2026-10-16 09:00", EventType.FALLBACK, "c", key="service_utility_bills")
    log.add("2026-10-16 09:00", EventType.FALLBACK, "d", key=None)
    log.session.flush()

    missed = commune_report(session=session, commune_code=X, period=OCT, now=NOW).missed

    assert [(row.text, row.kind, row.count) for row in missed] == [
        ("service_utility_bills", "intent", 3),
        ("doi sim chinh chu", "text", 2),
        ("", "intent", 1),
    ]


def test_previous_month_synthetic_flag_and_unknown_places(session: Session, log: Log) -> None:
    log.add("2026-09-15 09:00", EventType.MESSAGE_IN, "a")
    log.add("2026-10-15 09:00", EventType.MESSAGE_IN, "a", synthetic=True)
    log.add("2026-10-15 09:00", EventType.MESSAGE_IN, "b")

    found = commune_report(session=session, commune_code=X, period=OCT, now=NOW)

    assert (found.current.residents, found.previous.residents) == (2, 1)
    assert found.synthetic
    assert not commune_report(session=session, commune_code=X, period=NOV, now=NOW).synthetic
    with pytest.raises(UnknownPlace):
        commune_report(session=session, commune_code="99999", period=OCT)
    with pytest.raises(UnknownPlace):
        province_report(session=session, province_code="99", period=OCT)


def test_province_totals_pool_times_and_ratings(session: Session, log: Log) -> None:
    log.add("2026-10-10 10:00", EventType.HANDOFF_CLAIMED, value=60.0, commune=X)
    log.add("2026-10-10 10:00", EventType.HANDOFF_CLAIMED, value=120.0, commune=Y)
    log.add("2026-10-10 10:00", EventType.HANDOFF_CLAIMED, value=600.0, commune=Y)
    log.add("2026-10-10 10:00", EventType.CSAT, value=5, commune=X)
    log.add("2026-10-10 10:00", EventType.CSAT, value=3, commune=Y)
    log.add("2026-10-10 10:00", EventType.CSAT, value=4, commune=Y)
    log.add("2026-10-10 10:00", EventType.HANDOFF_CLAIMED, value=9999.0, commune=ELSEWHERE)

    total = province_report(session=session, province_code="01", period=OCT, now=NOW).current

    assert total.handoffs_claimed == 3
    assert total.claim_p50 == 120.0
    assert (total.ratings, total.rating_average) == (3, 4.0)
    assert not total.active  # handoffs claimed without messages or requests


class Notices:
    """Builds announcements, their deliveries and the events and tickets about them."""

    def __init__(self, session: Session, log: Log) -> None:
        self.session, self.log = session, log

    def announce(
        self,
        started: str | None,
        title: str,
        *,
        commune: str | None = None,
        province: str | None = None,
        only: tuple[str, ...] = (),
    ) -> int:
        send_at = local(started or "2026-10-15 08:00")
        made = Announcement(
            title=title,
            text="Nội dung thông báo.",
            category="event",
            commune_code=commune,
            province_code=province,
            send_at=send_at,
            expires_at=send_at + timedelta(days=3),
            status=AnnouncementStatus.SENT if started else AnnouncementStatus.APPROVED,
            started_at=local(started) if started else None,
        )
        self.session.add(made)
        self.session.flush()
        self.session.add_all(
            AnnouncementCommune(announcement_id=made.id, commune_code=c) for c in only
        )
        return made.id

    def resident(self, resident: str, commune: str) -> None:
        self.session.add(Resident(id=resident, commune_code=commune, consent=True))

    def deliver(
        self,
        announcement: int,
        resident: str,
        status: DeliveryStatus,
        *,
        reason: str | None = None,
        channel: str = "telegram",
        stamped: str | None = None,
    ) -> None:
        """A delivery; sent or failed ones with their event, stamped with that commune."""
        self.session.add(
            Delivery(
                announcement_id=announcement,
                resident_id=resident,
                channel=channel,
                status=status,
                reason=reason,
            )
        )
        kinds = {
            DeliveryStatus.SENT: EventType.ANNOUNCEMENT_SENT,
            DeliveryStatus.FAILED: EventType.ANNOUNCEMENT_FAILED,
        }
        if status in kinds:
            when = "2026-10-15 09:00"
            self.log.add(when, kinds[status], resident, commune=stamped, channel=channel,
                         key=str(announcement))  # fmt: skip

    def handoff(self, announcement: int, resident: str, commune: str) -> None:
        self.session.add(
            Ticket(
                resident_id=resident,
                channel="telegram",
                channel_user_id="1",
                commune_code=commune,
                reason="announcement",
                announcement_id=announcement,
            )
        )
        self.session.flush()


def test_announcements_reach_and_subscriptions(session: Session, log: Log) -> None:
    notices = Notices(session, log)
    for resident, home in (("r1", X), ("r2", X), ("r3", X), ("r5", X), ("m1", Y), ("y1", Y)):
        notices.resident(resident, home)
    # X's own announcement: every outcome, among X's residents.
    own = notices.announce("2026-10-03 09:00", "Ngày hỗ trợ VNeID", commune=X)
    notices.deliver(own, "r1", DeliveryStatus.SENT, stamped=X)
    notices.deliver(own, "r2", DeliveryStatus.UNREACHABLE, reason="zalo_48h", channel="zalo")
    notices.deliver(own, "r3", DeliveryStatus.FAILED, reason="blocked", stamped=X)
    notices.deliver(own, "r5", DeliveryStatus.QUEUED)
    notices.deliver(own, "m1", DeliveryStatus.SENT, stamped=X)  # has moved to Y since
    notices.deliver(own, "erased-1", DeliveryStatus.SENT, channel="web", stamped=X)
    notices.deliver(own, "erased-2", DeliveryStatus.UNREACHABLE, reason="zalo_replies")
    log.add("2026-10-20 10:00", EventType.DATA_ERASED, "erased-2")  # erased in X
    log.add("2026-10-03 09:05", EventType.ANNOUNCEMENT_REPLY, "r1", key=str(own))
    notices.handoff(own, "r1", X)
    # The province's, to every commune: r1 in X, y1 in Y (who replies and asks a person).
    province = notices.announce("2026-10-20 15:00", "Cảnh báo lừa đảo", province="01")
    notices.deliver(province, "r1", DeliveryStatus.SENT, stamped=X)
    notices.deliver(province, "y1", DeliveryStatus.SENT, stamped=Y)
    log.add("2026-10-20 15:10", EventType.ANNOUNCEMENT_REPLY, "y1", commune=Y, key=str(province))
    notices.handoff(province, "y1", Y)
    # Not in X's October: the province's to Y only, X's of last month (by Vietnam's time),
    # one approved but not started, and another province's.
    only_y = notices.announce("2026-10-21 08:00", "Lịch tiêm chủng", province="01", only=(Y,))
    notices.deliver(only_y, "y1", DeliveryStatus.SENT, stamped=Y)
    notices.announce("2026-09-30 23:30", "Tháng trước", commune=X)
    notices.announce(None, "Chưa gửi", commune=X)
    notices.announce("2026-10-10 08:00", "Tỉnh khác", commune=ELSEWHERE)
    # Subscriptions: r1 stops after the first (within the week) and comes back; r3 blocked
    # the bot; s7 subscribed then erased their data; y1 is Y's; r8 only in November.
    sub, unsub = EventType.SUBSCRIBED, EventType.UNSUBSCRIBED
    log.add("2026-09-15 08:00", sub, "r1", key="telegram")
    log.add("2026-09-20 08:00", sub, "r3", key="telegram")
    log.add("2026-10-02 08:00", sub, "r2", channel="zalo", key="zalo")
    log.add("2026-10-02 08:00", sub, "r5", key="telegram")
    log.add("2026-10-02 08:00", sub, "y1", commune=Y, key="telegram")
    log.add("2026-10-03 09:01", unsub, "r3", key="blocked")
    log.add("2026-10-04 08:00", sub, "s7", channel="zalo", key="zalo")
    log.add("2026-10-05 08:00", unsub, "r1", key="resident")
    log.add("2026-10-10 08:00", sub, "s6", channel="web", key="web")
    log.add("2026-10-12 08:00", EventType.DATA_ERASED, "s7", channel="zalo")
    log.add("2026-10-25 08:00", sub, "r1", key="telegram")
    log.add("2026-11-02 08:00", sub, "r8", channel="zalo", key="zalo")

    report = commune_report(session=session, commune_code=X, period=OCT, now=NOW)
    x_name = commune_by_code(X).name  # type: ignore[union-attr]
    assert report.announcements == [
        AnnouncementRow(
            id=own,
            title="Ngày hỗ trợ VNeID",
            category="event",
            sender=x_name,
            started=date(2026, 10, 3),
            targeted=7,
            sent=3,
            failed={"blocked": 1},
            unreachable={"zalo_48h": 1, "zalo_replies": 1},
            pending=1,
            unsubscribed=1,
            replies=1,
            handoffs=1,
        ),
        AnnouncementRow(
            id=province,
            title="Cảnh báo lừa đảo",
            category="event",
            sender="Thành phố Hà Nội",
            started=date(2026, 10, 20),
            targeted=1,
            sent=1,
            failed={},
            unreachable={},
            pending=0,
            unsubscribed=0,
            replies=0,
            handoffs=0,
        ),
    ]
    assert report.subscriptions == [
        SubscriptionRow("telegram", subscribed=2, unsubscribed=2, subscribers=2),
        SubscriptionRow("zalo", subscribed=2, unsubscribed=0, subscribers=1),
        SubscriptionRow("web", subscribed=1, unsubscribed=0, subscribers=1),
    ]
    assert report.unsubscribed_by == {"blocked": 1, "resident": 1}

    whole = province_report(session=session, province_code="01", period=OCT, now=NOW)
    assert [(row.title, row.targeted, row.sent, row.replies, row.handoffs)
            for row in whole.announcements] == [
        ("Ngày hỗ trợ VNeID", 7, 3, 1, 1),
        ("Cảnh báo lừa đảo", 2, 2, 1, 1),
        ("Lịch tiêm chủng", 1, 1, 0, 0),
    ]  # fmt: skip
    assert whole.subscriptions[0] == SubscriptionRow("telegram", 3, 2, 3)

    november = commune_report(session=session, commune_code=X, period=NOV, now=NOW)
    assert november.announcements == []
    assert november.subscriptions == [
        SubscriptionRow("zalo", 1, 0, 2),
        SubscriptionRow("telegram", 0, 0, 2),
        SubscriptionRow("web", 0, 0, 1),
    ]
    assert november.unsubscribed_by == {}
