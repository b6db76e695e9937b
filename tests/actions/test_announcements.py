"""subscribe_announcements / unsubscribe_announcements: consent first, then the commune (one
question per turn, the request waiting while the commune is being answered, abandoned by any
other message), then the SUBSCRIBE control for the gateway and the promise; stopping ends the
subscription here, with its event. The offer of the announcements: once, after the commune is
given or at the end of a walkthrough, to a consenting resident not subscribed on the channel."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet

from actions.announcements import (
    ASK_COMMUNE_TEXT,
    NOT_SUBSCRIBED_TEXT,
    OFFER_TEXT,
    OFFERED_SLOT,
    STOPPED_TEXT,
    SUBSCRIBE_PENDING_SLOT,
    ActionSubscribeAnnouncements,
    ActionUnsubscribeAnnouncements,
    subscribed_text,
)
from actions.commune import ActionSetCommune
from actions.consent import AGREED_TEXT, REFUSED_TEXT, ActionConsent
from actions.flows import ASK_HOW_TO_HELP
from actions.navigation import ActionNextStep
from actions.privacy_notice import QUESTIONS, Moment
from actions.walkthroughs import ASK_MORE_TEXT
from core.content.services import find_service_guide
from core.db import session_scope
from core.models import EventType
from core.repositories.residents import set_commune, set_consent
from core.repositories.subscriptions import is_subscribed, subscribe
from nlu.controls import SUBSCRIBE
from tests.actions.helpers import (
    assert_one_question_last,
    payload_of,
    recorded,
    run_action,
    texts,
    titles,
)
from tests.factories import make_tracker, press, waiting

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


def asked_for_commune(resident: str, *intents: str, carried_over: bool = False) -> Tracker:
    """The tracker of a resident whose request to subscribe waits for their commune, as Rasa
    sends it: action_consent set the slot, then the resident sent messages of `intents`, the
    last one naming Phường Ba Đình. `carried_over`: the slot was set in an earlier session."""
    tracker = make_tracker(
        "provide_commune", sender_id=resident, entities={"commune_code": BA_DINH}
    )
    return waiting(
        tracker,
        SUBSCRIBE_PENDING_SLOT,
        True,
        set_by="action_consent",
        between=intents[:-1],
        carried_over=carried_over,
    )


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
    answer = asked_for_commune("s2", "provide_commune")
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


async def test_the_request_waits_through_the_choice_of_places(app_database: str) -> None:
    known("s7", commune=None)
    answer = asked_for_commune("s7", "provide_commune", "provide_commune")
    events, messages = await run_action(ActionSetCommune(), answer)
    assert controls(messages) == [SUBSCRIBED]
    assert events == [SlotSet("commune_code", BA_DINH), SlotSet(SUBSCRIBE_PENDING_SLOT, None)]


async def test_any_other_message_abandons_the_request_and_the_slot_is_cleared(
    app_database: str,
) -> None:
    """The resident asked to subscribe, was asked their commune, asked something else; their
    commune given later (say, for a person) subscribes nobody."""
    known("s8", commune=None)
    answer = asked_for_commune("s8", "service_id_card", "provide_commune")
    answer.slots[OFFERED_SLOT] = True  # (the offer is tested below)
    events, messages = await run_action(ActionSetCommune(), answer)
    assert controls(messages) == []
    assert texts(messages) == [f"Dạ, em đã ghi nhận anh/chị ở {BA_DINH_NAME}, Hà Nội ạ."]
    assert [m.get("response") for m in messages] == [None, ASK_HOW_TO_HELP]
    assert events == [SlotSet("commune_code", BA_DINH), SlotSet(SUBSCRIBE_PENDING_SLOT, None)]


async def test_a_request_of_an_earlier_session_subscribes_nobody(app_database: str) -> None:
    known("s9", commune=None)
    answer = asked_for_commune("s9", "provide_commune", carried_over=True)
    answer.slots[OFFERED_SLOT] = True
    events, messages = await run_action(ActionSetCommune(), answer)
    assert controls(messages) == []
    assert events == [SlotSet("commune_code", BA_DINH), SlotSet(SUBSCRIBE_PENDING_SLOT, None)]


def naming_the_commune(resident: str, **slots: Any) -> Tracker:
    return make_tracker(
        "provide_commune", sender_id=resident, entities={"commune_code": BA_DINH}, slots=slots
    )


async def test_the_announcements_are_offered_once_after_the_commune(app_database: str) -> None:
    known("o1", commune=None)
    events, messages = await run_action(ActionSetCommune(), naming_the_commune("o1"))
    assert texts(messages) == [
        f"Dạ, em đã ghi nhận anh/chị ở {BA_DINH_NAME}, Hà Nội ạ.",
        OFFER_TEXT,
    ]
    assert titles(messages[-1]) == ["Nhận thông báo của xã/phường", "Để sau"]
    assert payload_of(messages[-1], "Nhận thông báo của xã/phường") == "/subscribe_announcements"
    assert payload_of(messages[-1], "Để sau") == "/deny"
    assert_one_question_last(messages)
    assert events == [SlotSet("commune_code", BA_DINH), SlotSet(OFFERED_SLOT, True)]
    assert controls(messages) == []  # pressing it subscribes (the existing flow)

    # Offered already: the usual question instead.
    events, messages = await run_action(
        ActionSetCommune(), naming_the_commune("o1", **{OFFERED_SLOT: True})
    )
    assert [m.get("response") for m in messages] == [None, ASK_HOW_TO_HELP]
    assert events == [SlotSet("commune_code", BA_DINH)]


async def test_no_offer_without_consent_or_to_a_subscriber_of_the_channel(
    app_database: str,
) -> None:
    _, messages = await run_action(ActionSetCommune(), naming_the_commune("o2"))  # no consent
    assert OFFER_TEXT not in texts(messages)
    known("o3")
    with session_scope() as session:
        subscribe(session=session, resident_id="o3", channel="web", channel_user_id="w3")
    events, messages = await run_action(ActionSetCommune(), naming_the_commune("o3"))
    assert OFFER_TEXT not in texts(messages)
    assert events == [SlotSet("commune_code", BA_DINH)]
    # Subscribed on Telegram only: offered on the web.
    known("o4")
    with session_scope() as session:
        subscribe(session=session, resident_id="o4", channel="telegram", channel_user_id="44")
    _, messages = await run_action(ActionSetCommune(), naming_the_commune("o4"))
    assert texts(messages)[-1] == OFFER_TEXT


async def test_the_end_of_a_walkthrough_offers_them_among_its_choices(app_database: str) -> None:
    guide = find_service_guide("birth_registration")
    assert guide is not None
    known("o5")
    start = press('/next_step{"service":"birth_registration","step":1}', sender_id="o5")
    await run_action(ActionNextStep(), start)
    done = f'/next_step{{"service":"birth_registration","step":{len(guide.steps) + 1}}}'
    events, messages = await run_action(ActionNextStep(), press(done, sender_id="o5"))
    assert texts(messages)[-1] == ASK_MORE_TEXT
    assert titles(messages[-1]) == ["Gặp người hỗ trợ", "Nhận thông báo của xã/phường"]
    assert_one_question_last(messages)
    assert events == [SlotSet(OFFERED_SLOT, True)]
    # Offered once.
    await run_action(ActionNextStep(), start)
    again = press(done, sender_id="o5")
    again.slots[OFFERED_SLOT] = True
    events, messages = await run_action(ActionNextStep(), again)
    assert titles(messages[-1]) == ["Gặp người hỗ trợ"]
    assert events == []
