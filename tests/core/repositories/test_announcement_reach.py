"""An announcement's reach: deliveries by outcome, unsubscriptions within a week of it, replies
and the tickets opened about it — counts only."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from core.erasure import erase_resident
from core.models import (
    Announcement,
    AnnouncementStatus,
    DeliveryStatus,
    EventType,
    Ticket,
    utcnow,
)
from core.repositories.announcement_reach import reach
from core.repositories.announcements import (
    Target,
    create_announcement,
    set_status,
    settle_deliveries,
)
from core.repositories.events import record_events
from core.repositories.residents import set_commune
from core.repositories.subscriptions import Unsubscribed, unsubscribe
from tests.core.repositories.test_announcements import (
    BA_DINH,
    NGOC_HA,
    _draft,
    _resident,
    _staff,
)
from tests.factories import claim_deliveries


def _sent_announcement(session: Session) -> Announcement:
    lan = _staff(session, "lan", commune_code=BA_DINH)
    made = create_announcement(session=session, author=lan, draft=_draft())
    made.status = AnnouncementStatus.SENDING
    made.started_at = utcnow() - timedelta(minutes=5)
    session.flush()
    return made


def test_reach_counts_each_outcome(session: Session) -> None:
    made = _sent_announcement(session)
    for resident in ("r1", "r2", "r3", "r4", "r5"):
        _resident(session, resident, BA_DINH, "telegram")
    rows = [
        (Target("r1", "telegram", "r1", BA_DINH), "claimed", None),
        (Target("r2", "telegram", "r2", BA_DINH), "claimed", None),
        (Target("r3", "telegram", "r3", BA_DINH), "claimed", None),
        (Target("r4", "zalo", "r4", BA_DINH), "unreachable", "zalo_48h"),
        (Target("r5", "telegram", "r5", BA_DINH), "claimed", None),
    ]
    made_ids = claim_deliveries(session=session, announcement_id=made.id, targets=rows)
    queued = [made_ids[("r1", "telegram")], made_ids[("r2", "telegram")]]
    queued.append(made_ids[("r3", "telegram")])
    set_status(
        session=session,
        delivery_ids=queued,
        status=DeliveryStatus.QUEUED,
        only_from=DeliveryStatus.CLAIMED,
    )
    settle_deliveries(session=session, outcomes=[(queued[0], None)])
    settle_deliveries(session=session, outcomes=[(queued[1], None)])
    settle_deliveries(session=session, outcomes=[(queued[2], "blocked")])
    # r1 stops after it; r1 and r2 write back (r2 twice); r2 asks a person about it
    unsubscribe(session=session, resident_id="r1", channel="telegram", why=Unsubscribed.RESIDENT)
    for resident in ("r1", "r2", "r2"):
        record_events(
            session=session,
            channel="telegram",
            resident_id=resident,
            commune_code=BA_DINH,
            rows=[(EventType.ANNOUNCEMENT_REPLY, str(made.id), None)],
        )
    session.add(
        Ticket(
            resident_id="r2",
            channel="telegram",
            channel_user_id="r2",
            commune_code=BA_DINH,
            reason="announcement",
            announcement_id=made.id,
        )
    )
    session.flush()

    found = reach(session=session, announcement_ids=[made.id, made.id + 1000])
    assert found[made.id].as_dict() == {
        "targeted": 5,
        "sent": 2,
        "failed": 1,
        "failed_by_reason": {"blocked": 1},
        "unreachable": 1,
        "unreachable_by_reason": {"zalo_48h": 1},
        "pending": 1,
        "unsubscribed": 1,
        "replies": 2,
        "handoffs": 1,
    }
    assert found[made.id + 1000].as_dict()["targeted"] == 0


def test_unsubscribing_long_before_or_after_it_is_not_counted(session: Session) -> None:
    made = _sent_announcement(session)
    _resident(session, "r1", BA_DINH, "telegram")
    ids = claim_deliveries(
        session=session,
        announcement_id=made.id,
        targets=[(Target("r1", "telegram", "r1", BA_DINH), "claimed", None)],
    )
    set_status(
        session=session,
        delivery_ids=list(ids.values()),
        status=DeliveryStatus.QUEUED,
        only_from=DeliveryStatus.CLAIMED,
    )
    settle_deliveries(session=session, outcomes=[(ids[("r1", "telegram")], None)])
    made.started_at = utcnow() - timedelta(days=8)  # a week and more ago
    unsubscribe(session=session, resident_id="r1", channel="telegram", why=Unsubscribed.RESIDENT)
    session.flush()
    assert reach(session=session, announcement_ids=[made.id])[made.id].unsubscribed == 0


def test_reach_among_the_residents_of_some_communes(session: Session) -> None:
    hn = _staff(session, "hn", province_code="01")
    made = create_announcement(
        session=session, author=hn, draft=_draft(commune_code=None, province_code="01")
    )
    made.status, made.started_at = AnnouncementStatus.SENDING, utcnow()
    _resident(session, "r1", BA_DINH, "telegram")
    _resident(session, "r2", NGOC_HA, "telegram")
    _resident(session, "r3", BA_DINH, "zalo")
    ids = claim_deliveries(
        session=session,
        announcement_id=made.id,
        targets=[
            (Target("r1", "telegram", "r1", BA_DINH), "claimed", None),
            (Target("r2", "telegram", "r2", NGOC_HA), "claimed", None),
            (Target("r3", "zalo", "r3", BA_DINH), "unreachable", "zalo_48h"),
        ],
    )
    sent = [ids[("r1", "telegram")], ids[("r2", "telegram")]]
    set_status(
        session=session,
        delivery_ids=sent,
        status=DeliveryStatus.QUEUED,
        only_from=DeliveryStatus.CLAIMED,
    )
    for delivery in sent:
        settle_deliveries(session=session, outcomes=[(delivery, None)])
    # r1 moves after it reached them in Ba Đình; r3 erases their data; r2 replies and asks.
    set_commune(session=session, resident_id="r1", commune_code=NGOC_HA)
    erase_resident(session=session, resident_id="r3", channel="zalo")
    record_events(
        session=session,
        channel="telegram",
        resident_id="r2",
        commune_code=NGOC_HA,
        rows=[(EventType.ANNOUNCEMENT_REPLY, str(made.id), None)],
    )
    session.add(
        Ticket(
            resident_id="r2",
            channel="telegram",
            channel_user_id="r2",
            commune_code=NGOC_HA,
            reason="announcement",
            announcement_id=made.id,
        )
    )
    session.flush()

    def counts(communes: list[str] | None) -> tuple[int, int, int, int, int]:
        one = reach(session=session, announcement_ids=[made.id], communes=communes)[made.id]
        return one.targeted, one.sent, sum(one.unreachable.values()), one.replies, one.handoffs

    assert counts([BA_DINH]) == (2, 1, 1, 0, 0)
    assert counts([NGOC_HA]) == (1, 1, 0, 1, 1)
    assert counts([BA_DINH, NGOC_HA]) == counts(None) == (3, 2, 1, 1, 1)
