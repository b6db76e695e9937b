"""subscribe_announcements / unsubscribe_announcements: consent first, then the commune (one
question per turn, the request waiting), then the SUBSCRIBE control for the gateway and the
promise; stopping ends the subscription here, with its event."""

from __future__ import annotations

from rasa_sdk.events import SlotSet

from actions.announcements import (
    ASK_COMMUNE_TEXT,
    NOT_SUBSCRIBED_TEXT,
    STOPPED_TEXT,
    SUBSCRIBE_PENDING_SLOT,
    ActionSubscribeAnnouncements,
    ActionUnsubscribeAnnouncements,
    subscribed_text,
)
from actions.commune import ActionSetCommune
from actions.consent import AGREED_TEXT, REFUSED_TEXT, ActionConsent
from actions.privacy_notice import QUESTIONS, Moment
from core.db import session_scope
from core.models import EventType
from core.repositories.residents import set_commune, set_consent
from core.repositories.subscriptions import is_subscribed, subscribe
from nlu.controls import SUBSCRIBE
from tests.actions.helpers import payload_of, recorded, run_action, texts, titles
from tests.factories import make_tracker, press

BA_DINH = "00004"
BA_DINH_NAME = "Phường Ba Đình"
SUBSCRIBED = {SUBSCRIBE: True}


def known(resident: str, *, commune: str | None = BA_DINH) -> None:
    """A resident who agreed to the privacy notice, with their commune when given."""
    with session_scope() as session:
        set_consent(session=session, resident_id=resident, consent=True)
        if commune:
            set_commune(session=session, resident_id=resident, commune_code=commune)


def controls(messages: list[dict]) -> list[dict]:  # type: ignore[type-arg]
    return [m["custom"] for m in messages if m.get("custom")]


def subscribed(resident: str, channel: str = "web") -> bool:
    with session_scope() as session:
        return is_subscribed(session=session, resident_id=resident, channel=channel)


async def test_a_known_resident_is_subscribed_by_the_gateway_and_told_how_to_stop(
    app_database: str,
) -> None:
    known("s1")
    tracker = make_tracker("subscribe_announcements", sender_id="s1", text="dang ky nhan thong bao")
    events, messages = await run_action(ActionSubscribeAnnouncements(), tracker)
    assert controls(messages) == [SUBSCRIBED]
    assert texts(messages) == [
        f"Dạ, em sẽ gửi thông báo của {BA_DINH_NAME} cho anh/chị. "
        "Muốn dừng, anh/chị nhắn “hủy nhận thông báo” nhé."
    ]
    assert events == [SlotSet(SUBSCRIBE_PENDING_SLOT, None)]
    assert not subscribed("s1")  # the gateway subscribes, with the chat id it knows


async def test_consent_is_asked_first_then_the_commune_then_it_goes_on(app_database: str) -> None:
    # No consent yet: the privacy question for this moment, nothing else.
    events, messages = await run_action(
        ActionSubscribeAnnouncements(), make_tracker("subscribe_announcements", sender_id="s2")
    )
    assert texts(messages) == [QUESTIONS[Moment.SUBSCRIBE]]
    assert titles(messages[0]) == ["Đồng ý", "Không lưu", "Xem chi tiết"]
    assert controls(messages) == []
    assert events == [SlotSet(SUBSCRIBE_PENDING_SLOT, None)]

    # "Đồng ý": consent recorded, then the commune is asked (one question), the request waits.
    agree = press(payload_of(messages[0], "Đồng ý"), sender_id="s2")
    events, messages = await run_action(ActionConsent(), agree)
    assert texts(messages) == [AGREED_TEXT, ASK_COMMUNE_TEXT]
    assert controls(messages) == []
    assert events == [SlotSet(SUBSCRIBE_PENDING_SLOT, True)]
    assert recorded("s2", EventType.CONSENT_GIVEN) == [("consent_given", None, None)]

    # The commune: remembered, and the subscription goes on in the same turn.
    answer = make_tracker(
        "provide_commune",
        sender_id="s2",
        entities={"commune_code": BA_DINH},
        slots={SUBSCRIBE_PENDING_SLOT: True},
    )
    events, messages = await run_action(ActionSetCommune(), answer)
    assert texts(messages) == [
        f"Dạ, em đã ghi nhận anh/chị ở {BA_DINH_NAME}, Hà Nội ạ.",
        subscribed_text(BA_DINH_NAME),
    ]
    assert controls(messages) == [SUBSCRIBED]
    assert events == [SlotSet("commune_code", BA_DINH), SlotSet(SUBSCRIBE_PENDING_SLOT, None)]


async def test_refusing_consent_subscribes_nobody(app_database: str) -> None:
    refuse = press('/consent{"choice":"no","reason":"subscribe"}', sender_id="s3")
    events, messages = await run_action(ActionConsent(), refuse)
    assert texts(messages)[0] == REFUSED_TEXT
    assert controls(messages) == []
    assert events == []
    # Asked again (the resident asks to subscribe), even after a "no".
    _, messages = await run_action(
        ActionSubscribeAnnouncements(), make_tracker("subscribe_announcements", sender_id="s3")
    )
    assert texts(messages) == [QUESTIONS[Moment.SUBSCRIBE]]
    assert controls(messages) == []


async def test_consent_without_a_commune_asks_the_commune(app_database: str) -> None:
    known("s4", commune=None)
    events, messages = await run_action(
        ActionSubscribeAnnouncements(), make_tracker("subscribe_announcements", sender_id="s4")
    )
    assert texts(messages) == [ASK_COMMUNE_TEXT]
    assert controls(messages) == []
    assert events == [SlotSet(SUBSCRIBE_PENDING_SLOT, True)]


async def test_stopping_ends_the_subscription_with_its_event(app_database: str) -> None:
    known("s5")
    with session_scope() as session:
        subscribe(session=session, resident_id="s5", channel="web", channel_user_id="w5")
    tracker = press("/unsubscribe_announcements", sender_id="s5")
    events, messages = await run_action(ActionUnsubscribeAnnouncements(), tracker)
    assert texts(messages) == [STOPPED_TEXT]
    assert controls(messages) == []
    assert events == [SlotSet(SUBSCRIBE_PENDING_SLOT, None)]
    assert not subscribed("s5")
    assert recorded("s5", EventType.SUBSCRIBED, EventType.UNSUBSCRIBED) == [
        ("subscribed", "web", None),
        ("unsubscribed", "resident", None),
    ]
    # Again: nothing to stop, no second event.
    _, messages = await run_action(ActionUnsubscribeAnnouncements(), tracker)
    assert texts(messages) == [NOT_SUBSCRIBED_TEXT]
    assert len(recorded("s5", EventType.UNSUBSCRIBED)) == 1


async def test_stopping_on_one_channel_keeps_the_other(app_database: str) -> None:
    known("s6")
    with session_scope() as session:
        subscribe(session=session, resident_id="s6", channel="web", channel_user_id="w6")
        subscribe(session=session, resident_id="s6", channel="telegram", channel_user_id="42")
    tracker = make_tracker("unsubscribe_announcements", sender_id="s6", channel="telegram")
    _, messages = await run_action(ActionUnsubscribeAnnouncements(), tracker)
    assert texts(messages) == [STOPPED_TEXT]
    assert (subscribed("s6", "telegram"), subscribed("s6", "web")) == (False, True)
