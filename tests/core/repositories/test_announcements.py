"""Announcements: drafts checked against limits and the author's scope, approval by a second
staff member, due ones started once, one delivery row per resident and channel (the claim),
outcomes recorded once, deliveries unlinked on erasure."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.erasure import erase_resident
from core.models import (
    Announcement,
    AnnouncementStatus,
    Delivery,
    DeliveryStatus,
    EventType,
    Staff,
    utcnow,
)
from core.repositories.announcements import (
    AnnouncementRefused,
    Draft,
    Target,
    approve_announcement,
    cancel_announcement,
    chosen_communes,
    claimed_targets,
    create_announcement,
    fan_out,
    finish_if_done,
    list_announcements,
    sending,
    set_status,
    settle_deliveries,
    start_due,
    target_communes,
    unclaimed_targets,
)
from core.repositories.events import list_events
from core.repositories.residents import set_commune, set_consent
from core.repositories.staff import add_staff
from core.repositories.subscriptions import subscribe, unsubscribe
from tests.factories import claim_deliveries

PASSWORD = "mat-khau-rat-dai-1"
BA_DINH, NGOC_HA, HOAN_KIEM, THU_DAU_MOT = "00004", "00008", "00070", "25747"


def _staff(session: Session, name: str, **scope: str) -> Staff:
    return add_staff(session=session, username=name, display_name=name, password=PASSWORD, **scope)


def _draft(**changes: object) -> Draft:
    now = utcnow()
    values: dict[str, object] = {
        "title": "Ngày hỗ trợ số",
        "text": "Sáng thứ Bảy, nhà văn hóa tổ 3 hướng dẫn cài VNeID.",
        "category": "event",
        "send_at": now - timedelta(minutes=1),
        "expires_at": now + timedelta(days=2),
        "commune_code": BA_DINH,
    }
    values.update(changes)
    return Draft(**values)  # type: ignore[arg-type]


def _resident(session: Session, resident: str, commune: str, *channels: str) -> None:
    set_consent(session=session, resident_id=resident, consent=True)
    set_commune(session=session, resident_id=resident, commune_code=commune)
    for channel in channels:
        subscribe(session=session, resident_id=resident, channel=channel, channel_user_id=resident)


def test_drafts_are_checked(session: Session) -> None:
    lan = _staff(session, "lan", commune_code=BA_DINH)
    refused = [
        _draft(title=" "),
        _draft(text="x" * 1001),
        _draft(text=""),
        _draft(link="http://example.vn"),
        _draft(category="ads"),
        _draft(expires_at=utcnow() - timedelta(days=1)),
        _draft(send_at=utcnow() - timedelta(days=2), expires_at=utcnow() - timedelta(hours=1)),
        _draft(commune_code=NGOC_HA),  # not hers
        _draft(commune_code=None, province_code="01"),  # commune staff
        _draft(commune_code=None),
    ]
    for draft in refused:
        with pytest.raises(AnnouncementRefused):
            create_announcement(session=session, author=lan, draft=draft)
    made = create_announcement(session=session, author=lan, draft=_draft(text="x" * 1000))
    assert made.status == AnnouncementStatus.DRAFT
    hanoi = _staff(session, "ha", province_code="01")
    whole = create_announcement(
        session=session, author=hanoi, draft=_draft(commune_code=None, province_code="01")
    )
    other = _staff(session, "minh", commune_code=THU_DAU_MOT)
    assert [a.id for a in list_announcements(session=session, staff=hanoi)] == [whole.id, made.id]
    assert [a.id for a in list_announcements(session=session, staff=lan)] == [made.id]
    assert list_announcements(session=session, staff=other) == []


def test_a_second_person_approves_and_cancel_stops_it(session: Session) -> None:
    lan = _staff(session, "lan", commune_code=BA_DINH)
    hoa = _staff(session, "hoa", commune_code=BA_DINH)
    minh = _staff(session, "minh", commune_code=THU_DAU_MOT)
    made = create_announcement(session=session, author=lan, draft=_draft())
    with pytest.raises(AnnouncementRefused):
        approve_announcement(
            session=session, announcement_id=made.id, approver=lan, second_person=True
        )
    with pytest.raises(AnnouncementRefused):  # another commune's
        approve_announcement(
            session=session, announcement_id=made.id, approver=minh, second_person=True
        )
    approved = approve_announcement(
        session=session, announcement_id=made.id, approver=hoa, second_person=True
    )
    assert (approved.status, approved.approver_id) == (AnnouncementStatus.APPROVED, hoa.id)
    with pytest.raises(AnnouncementRefused):
        approve_announcement(
            session=session, announcement_id=made.id, approver=hoa, second_person=True
        )
    alone = create_announcement(session=session, author=lan, draft=_draft())
    assert (
        approve_announcement(
            session=session, announcement_id=alone.id, approver=lan, second_person=False
        ).status
        == AnnouncementStatus.APPROVED
    )
    cancelled = cancel_announcement(session=session, announcement_id=made.id, staff=lan)
    assert cancelled.status == AnnouncementStatus.CANCELLED
    with pytest.raises(AnnouncementRefused):
        cancel_announcement(session=session, announcement_id=made.id, staff=lan)
    session.commit()
    assert start_due(session=session, now=utcnow()) == 1  # only `alone`
    assert [a.id for a in sending(session=session)] == [alone.id]


def test_due_later_and_expired_ones_do_not_start(session: Session) -> None:
    lan = _staff(session, "lan", commune_code=BA_DINH)
    hoa = _staff(session, "hoa", commune_code=BA_DINH)
    now = utcnow()
    later = create_announcement(
        session=session, author=lan, draft=_draft(send_at=now + timedelta(hours=1))
    )
    stale = create_announcement(session=session, author=lan, draft=_draft())
    lapsed = create_announcement(session=session, author=lan, draft=_draft())
    for made in (later, stale):
        approve_announcement(
            session=session, announcement_id=made.id, approver=hoa, second_person=True
        )
    for made in (stale, lapsed):  # its expiry passed before it went, or before it was approved
        made.send_at, made.expires_at = now - timedelta(days=2), now - timedelta(hours=1)
    session.commit()
    with pytest.raises(AnnouncementRefused, match="đã quá hạn"):
        approve_announcement(
            session=session, announcement_id=lapsed.id, approver=hoa, second_person=True
        )
    assert start_due(session=session, now=now) == 0
    session.refresh(stale)
    assert stale.status == AnnouncementStatus.CANCELLED
    assert start_due(session=session, now=now + timedelta(hours=1)) == 1
    assert start_due(session=session, now=now + timedelta(hours=1)) == 0  # once


def test_each_subscription_is_claimed_once(session: Session) -> None:
    lan = _staff(session, "lan", province_code="01")
    _resident(session, "a", BA_DINH, "telegram", "web")
    _resident(session, "b", NGOC_HA, "zalo")
    _resident(session, "c", THU_DAU_MOT, "telegram")  # another province
    _resident(session, "d", BA_DINH)  # not subscribed
    _resident(session, "e", BA_DINH, "telegram")
    unsubscribe(session=session, resident_id="e", channel="telegram")
    commune = create_announcement(session=session, author=lan, draft=_draft())
    province = create_announcement(
        session=session, author=lan, draft=_draft(commune_code=None, province_code="01")
    )
    session.commit()

    def keys(found: list[Target]) -> list[tuple[str, str]]:
        return [(t.resident_id, t.channel) for t in found]

    assert keys(unclaimed_targets(session=session, announcement=commune, limit=10)) == [
        ("a", "telegram"),
        ("a", "web"),
    ]
    everyone = unclaimed_targets(session=session, announcement=province, limit=10)
    assert keys(everyone) == [("a", "telegram"), ("a", "web"), ("b", "zalo")]
    first = unclaimed_targets(session=session, announcement=province, limit=2)
    made = claim_deliveries(
        session=session,
        announcement_id=province.id,
        targets=[(t, DeliveryStatus.CLAIMED, None) for t in first],
    )
    assert set(made) == {("a", "telegram"), ("a", "web")}
    # A second gateway that read the same targets before the first one's rows: nothing is its.
    again = claim_deliveries(
        session=session,
        announcement_id=province.id,
        targets=[(t, DeliveryStatus.CLAIMED, None) for t in everyone],
    )
    assert set(again) == {("b", "zalo")}
    session.commit()
    assert unclaimed_targets(session=session, announcement=province, limit=10) == []
    assert len(unclaimed_targets(session=session, announcement=commune, limit=10)) == 2


def test_a_province_announcement_goes_to_its_chosen_communes_only(session: Session) -> None:
    hanoi = _staff(session, "ha", province_code="01")
    lan = _staff(session, "lan", commune_code=BA_DINH)
    _resident(session, "a", BA_DINH, "telegram")
    _resident(session, "b", NGOC_HA, "web")
    _resident(session, "c", HOAN_KIEM, "zalo")
    province = {"commune_code": None, "province_code": "01"}
    for refused in (
        _draft(**province, communes=(THU_DAU_MOT,)),  # another province
        _draft(**province, communes=(BA_DINH, "99999")),
        _draft(communes=(BA_DINH,)),  # a commune's announcement has no communes to choose
    ):
        with pytest.raises(AnnouncementRefused):
            create_announcement(session=session, author=hanoi, draft=refused)
    with pytest.raises(AnnouncementRefused):
        create_announcement(session=session, author=lan, draft=_draft(communes=(BA_DINH,)))
    chosen = create_announcement(
        session=session,
        author=hanoi,
        draft=_draft(**province, communes=(NGOC_HA, BA_DINH, BA_DINH)),
    )
    whole = create_announcement(session=session, author=hanoi, draft=_draft(**province))
    session.commit()
    assert chosen_communes(session=session, announcement_ids=[chosen.id, whole.id]) == {
        chosen.id: [BA_DINH, NGOC_HA]
    }
    assert target_communes(session=session, announcement=chosen) == [BA_DINH, NGOC_HA]
    assert HOAN_KIEM in target_communes(session=session, announcement=whole)

    def residents(announcement: Announcement) -> list[str]:
        found = unclaimed_targets(session=session, announcement=announcement, limit=10)
        return [t.resident_id for t in found]

    assert residents(chosen) == ["a", "b"]
    assert residents(whole) == ["a", "b", "c"]


def test_the_fan_out_claims_every_subscription_once_and_hands_out_the_oldest_first(
    session: Session,
) -> None:
    lan = _staff(session, "lan", province_code="01")
    _resident(session, "a", BA_DINH, "telegram", "web")
    _resident(session, "b", NGOC_HA, "telegram")
    _resident(session, "c", THU_DAU_MOT, "telegram")  # another province
    province = create_announcement(
        session=session, author=lan, draft=_draft(commune_code=None, province_code="01")
    )
    session.commit()
    now = utcnow()
    assert fan_out(session=session, announcement=province, now=now) == 3
    _resident(session, "d", NGOC_HA, "telegram")  # subscribed while it is being sent
    assert fan_out(session=session, announcement=province, now=now) == 1
    assert fan_out(session=session, announcement=province, now=now) == 0
    session.commit()
    assert unclaimed_targets(session=session, announcement=province, limit=10) == []
    first = claimed_targets(
        session=session, announcement_id=province.id, channel="telegram", limit=2
    )
    assert len(first) == 2
    everything = claimed_targets(session=session, announcement_id=province.id)
    assert [t.channel for _, t in everything if t is not None].count("telegram") == 3
    assert first == [row for row in everything if row[1] and row[1].channel == "telegram"][:2]


def test_stale_claims_outcomes_and_finishing(session: Session) -> None:
    lan = _staff(session, "lan", commune_code=BA_DINH)
    _resident(session, "a", BA_DINH, "telegram")
    _resident(session, "b", BA_DINH, "telegram")
    made = create_announcement(session=session, author=lan, draft=_draft())
    made.status = AnnouncementStatus.SENDING
    session.commit()
    targets = unclaimed_targets(session=session, announcement=made, limit=10)
    ids = claim_deliveries(
        session=session,
        announcement_id=made.id,
        targets=[(t, DeliveryStatus.CLAIMED, None) for t in targets],
    )
    unsubscribe(session=session, resident_id="b", channel="telegram")
    session.commit()
    assert claimed_targets(session=session, announcement_id=made.id) == [
        (ids[("a", "telegram")], Target("a", "telegram", "a", BA_DINH)),
        (ids[("b", "telegram")], None),
    ]
    assert not finish_if_done(session=session, announcement_id=made.id)
    set_status(
        session=session,
        delivery_ids=[ids[("a", "telegram")]],
        status=DeliveryStatus.QUEUED,
        only_from=DeliveryStatus.CLAIMED,
    )
    set_status(
        session=session,
        delivery_ids=[ids[("b", "telegram")]],
        status=DeliveryStatus.FAILED,
        only_from=DeliveryStatus.CLAIMED,
        reason="unsubscribed",
    )
    assert finish_if_done(session=session, announcement_id=made.id)
    assert settle_deliveries(session=session, outcomes=[(ids[("a", "telegram")], None)])
    again = [(ids[("a", "telegram")], "refused")]
    assert settle_deliveries(session=session, outcomes=again) == []  # settled before
    session.commit()
    sent = list_events(session=session, type=EventType.ANNOUNCEMENT_SENT)
    assert [(e.resident_id, e.key, e.commune_code) for e in sent] == [("a", str(made.id), BA_DINH)]
    assert list_events(session=session, type=EventType.ANNOUNCEMENT_FAILED) == []
    assert session.get(Announcement, made.id).status == AnnouncementStatus.SENT  # type: ignore[union-attr]

    erasure = erase_resident(session=session, resident_id="a", channel="telegram")
    session.commit()
    owners = session.scalars(select(Delivery.resident_id).order_by(Delivery.id)).all()
    assert owners == [erasure.anonymous_id, "b"]


def test_answers_are_settled_together_each_once(session: Session) -> None:
    """A round's answers in a few statements: accepted ones sent, refused ones failed with
    why, each event recorded once; an answer given twice (two gateways read it) moves
    nothing the second time."""
    lan = _staff(session, "lan", commune_code=BA_DINH)
    for resident in ("a", "b", "c"):
        _resident(session, resident, BA_DINH, "telegram")
    made = create_announcement(session=session, author=lan, draft=_draft())
    made.status = AnnouncementStatus.SENDING
    session.commit()
    assert fan_out(session=session, announcement=made, now=utcnow()) == 3
    claimed = claimed_targets(session=session, announcement_id=made.id)
    ids = {t.resident_id: i for i, t in claimed if t is not None}
    set_status(
        session=session,
        delivery_ids=list(ids.values()),
        status=DeliveryStatus.QUEUED,
        only_from=DeliveryStatus.CLAIMED,
    )
    answers = [(ids["a"], None), (ids["b"], "blocked"), (ids["c"], None)]
    settled = settle_deliveries(session=session, outcomes=answers)
    assert sorted((d.resident_id, d.id) for d in settled) == sorted(
        (resident, ids[resident]) for resident in "abc"
    )
    assert settle_deliveries(session=session, outcomes=answers) == []
    session.commit()
    rows = session.execute(select(Delivery.resident_id, Delivery.status, Delivery.reason)).all()
    assert sorted(rows) == [
        ("a", DeliveryStatus.SENT, None),
        ("b", DeliveryStatus.FAILED, "blocked"),
        ("c", DeliveryStatus.SENT, None),
    ]
    sent = list_events(session=session, type=EventType.ANNOUNCEMENT_SENT)
    failed = list_events(session=session, type=EventType.ANNOUNCEMENT_FAILED)
    assert sorted(e.resident_id for e in sent) == ["a", "c"]
    assert [(e.resident_id, e.key) for e in failed] == [("b", str(made.id))]
