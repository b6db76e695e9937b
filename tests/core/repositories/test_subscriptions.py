"""Subscriptions to announcements: only with consent and a known commune, one per channel,
`subscribed` / `unsubscribed` recorded once, erased with the resident."""

from __future__ import annotations

from sqlalchemy.orm import Session

from core.erasure import erase_resident
from core.models import EventType
from core.repositories.events import list_events
from core.repositories.residents import set_commune, set_consent
from core.repositories.subscriptions import (
    Subscribed,
    Unsubscribed,
    is_subscribed,
    subscribe,
    unsubscribe,
)


def _events(session: Session, resident: str) -> list[tuple[str, str | None, str | None]]:
    return [
        (e.type, e.key, e.commune_code)
        for e in list_events(session=session, resident_id=resident)
        if e.type in (EventType.SUBSCRIBED, EventType.UNSUBSCRIBED)
    ]


def test_nothing_is_stored_without_consent_or_commune(session: Session) -> None:
    args = {"resident_id": "r1", "channel": "telegram", "channel_user_id": "42"}
    assert subscribe(session=session, **args) == Subscribed.NO_CONSENT
    set_consent(session=session, resident_id="r1", consent=False)
    set_commune(session=session, resident_id="r1", commune_code="00004")
    assert subscribe(session=session, **args) == Subscribed.NO_CONSENT
    set_consent(session=session, resident_id="r2", consent=True)
    assert (
        subscribe(session=session, resident_id="r2", channel="web", channel_user_id="x")
        == Subscribed.NO_COMMUNE
    )
    session.commit()
    assert not is_subscribed(session=session, resident_id="r1", channel="telegram")
    assert not is_subscribed(session=session, resident_id="r2", channel="web")
    assert _events(session, "r1") == _events(session, "r2") == []


def test_subscribe_once_unsubscribe_once(session: Session) -> None:
    set_consent(session=session, resident_id="r1", consent=True)
    set_commune(session=session, resident_id="r1", commune_code="00004")
    args = {"resident_id": "r1", "channel": "telegram", "channel_user_id": "42"}
    assert subscribe(session=session, **args) == Subscribed.NEW
    assert subscribe(session=session, **args) == Subscribed.ALREADY
    session.commit()
    assert is_subscribed(session=session, resident_id="r1", channel="telegram")
    assert not is_subscribed(session=session, resident_id="r1", channel="zalo")

    assert unsubscribe(session=session, resident_id="r1", channel="telegram")
    assert not unsubscribe(session=session, resident_id="r1", channel="telegram")
    assert subscribe(session=session, **args) == Subscribed.NEW
    assert unsubscribe(
        session=session, resident_id="r1", channel="telegram", why=Unsubscribed.BLOCKED
    )
    session.commit()
    assert _events(session, "r1") == [
        ("subscribed", "telegram", "00004"),
        ("unsubscribed", "resident", "00004"),
        ("subscribed", "telegram", "00004"),
        ("unsubscribed", "blocked", "00004"),
    ]


def test_erasure_deletes_the_subscriptions(session: Session) -> None:
    set_consent(session=session, resident_id="r1", consent=True)
    set_commune(session=session, resident_id="r1", commune_code="00004")
    for channel in ("telegram", "web"):
        subscribe(session=session, resident_id="r1", channel=channel, channel_user_id="42")
    set_consent(session=session, resident_id="r2", consent=True)
    set_commune(session=session, resident_id="r2", commune_code="00004")
    subscribe(session=session, resident_id="r2", channel="web", channel_user_id="43")
    session.commit()

    erasure = erase_resident(session=session, resident_id="r1", channel="web")
    session.commit()

    assert not is_subscribed(session=session, resident_id="r1", channel="telegram")
    assert not is_subscribed(session=session, resident_id="r1", channel="web")
    assert is_subscribed(session=session, resident_id="r2", channel="web")
    kept = [e.type for e in list_events(session=session, resident_id=erasure.anonymous_id)]
    assert kept == ["subscribed", "subscribed", "data_erased"]
