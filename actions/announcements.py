"""subscribe_announcements / unsubscribe_announcements: the resident asks to receive (or stop)
their commune's announcements, by typing or with a button.

A subscription needs the resident's consent and their commune (core/repositories/
subscriptions.py), so the action asks for whichever is missing, one question per turn: the
privacy question (Moment.SUBSCRIBE; the resident asked, so it is asked even if answered "no"
before), then the commune, the request waiting in the `subscribe_pending` slot; action_consent
and action_set_commune come back here once it is answered. The action server knows only the
pseudonymous sender id, so the subscription itself is made by the gateway, which knows the
chat id: from the SUBSCRIBE control (bot/router.py). Ending one needs no chat id: it is done
here.

The request waits only while the resident answers the commune question: any other message
abandons it (`subscription_waits`), and action_set_commune clears the slot either way.

The bot offers the announcements itself ("Nhận thông báo của xã/phường", `offer_due`) once
their commune is known and they consented, where no other question is pending: after they
name their commune, or at the end of a walkthrough; never to a subscriber of this channel,
and once (the `announcements_offered` slot).
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from actions.flows import button, in_session, request_waits
from actions.privacy_notice import Moment, ask
from actions.tracking import tracker_channel
from core.places import commune_by_code
from core.repositories.residents import get_resident, mark_commune_asked, mark_consent_asked
from core.repositories.subscriptions import is_subscribed, unsubscribe
from nlu.controls import SUBSCRIBE

# Set while the resident's subscription waits for their answer to the commune question.
SUBSCRIBE_PENDING_SLOT = "subscribe_pending"
# Set once the bot offered the announcements (data/domain.yml).
OFFERED_SLOT = "announcements_offered"
COMMUNE_INTENT = "provide_commune"
# The answers a request to subscribe waits for (the consent question comes before the slot).
SUBSCRIBE_ANSWERS = frozenset({COMMUNE_INTENT})
SUBSCRIBE_INTENT = "subscribe_announcements"
OFFER_BUTTON = button("Nhận thông báo của xã/phường", SUBSCRIBE_INTENT)
LATER_BUTTON = button("Để sau", "deny")
OFFER_TEXT = (
    "Anh/chị có muốn nhận thông báo của xã, phường (hạn chót, sự kiện, cảnh báo lừa đảo) "
    "qua đây không ạ?"
)
ASK_COMMUNE_TEXT = (
    "Dạ, anh/chị ở xã, phường nào để em gửi đúng thông báo ạ? "
    'Gõ tên là được, không cần dấu, ví dụ: "xa tan lap tay ninh".'
)
STOPPED_TEXT = (
    "Dạ, em đã dừng gửi thông báo của xã, phường cho anh/chị. "
    'Muốn nhận lại, anh/chị nhắn "nhận thông báo" nhé.'
)
NOT_SUBSCRIBED_TEXT = "Dạ, anh/chị chưa đăng ký nhận thông báo nên em không gửi gì ạ."


def subscribed_text(commune_name: str) -> str:
    return (
        f"Dạ, em sẽ gửi thông báo của {commune_name} cho anh/chị. "
        "Muốn dừng, anh/chị nhắn “hủy nhận thông báo” nhé."
    )


def _missing(session: Session, resident_id: str) -> Moment | str | None:
    """What the subscription still needs: the privacy question (marked asked), the commune
    (marked asked; returns "commune"), or None with the commune's code in the database."""
    resident = get_resident(session=session, resident_id=resident_id)
    if resident is None or not resident.consent:
        mark_consent_asked(session=session, resident_id=resident_id)
        return Moment.SUBSCRIBE
    if resident.commune_code is None:
        mark_commune_asked(session=session, resident_id=resident_id)
        return "commune"
    return None


async def subscribe_or_ask(
    dispatcher: CollectingDispatcher, tracker: Tracker
) -> list[dict[str, Any]]:
    """Ask what is missing, or send the SUBSCRIBE control and tell the resident."""
    resident_id = tracker.sender_id

    def check(session: Session) -> tuple[Moment | str | None, str | None]:
        missing = _missing(session, resident_id)
        resident = get_resident(session=session, resident_id=resident_id)
        return missing, resident.commune_code if resident else None

    missing, code = await in_session(check)
    if missing == Moment.SUBSCRIBE:
        ask(dispatcher, Moment.SUBSCRIBE)
        return [SlotSet(SUBSCRIBE_PENDING_SLOT, None)]
    commune = commune_by_code(code or "")
    if missing is not None or commune is None:
        dispatcher.utter_message(text=ASK_COMMUNE_TEXT)
        return [SlotSet(SUBSCRIBE_PENDING_SLOT, True)]
    dispatcher.utter_message(json_message={SUBSCRIBE: True})
    dispatcher.utter_message(text=subscribed_text(commune.name))
    return [SlotSet(SUBSCRIBE_PENDING_SLOT, None)]


def subscription_waits(tracker: Tracker) -> bool:
    """True while a request to subscribe waits for the resident's commune: every message since
    it was made in this session answered the commune question (a place typed again, one of
    the places offered)."""
    return request_waits(tracker, SUBSCRIBE_PENDING_SLOT, SUBSCRIBE_ANSWERS)


def offer_due(session: Session, tracker: Tracker) -> bool:
    """Offer the announcements now? Not offered yet, and the resident consented, has a
    commune and is not subscribed on this channel."""
    if tracker.get_slot(OFFERED_SLOT):
        return False
    resident = get_resident(session=session, resident_id=tracker.sender_id)
    if resident is None or not resident.consent or resident.commune_code is None:
        return False
    channel = tracker_channel(tracker)
    return not is_subscribed(session=session, resident_id=tracker.sender_id, channel=channel)


class ActionSubscribeAnnouncements(Action):
    def name(self) -> str:
        return "action_subscribe_announcements"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        return await subscribe_or_ask(dispatcher, tracker)


class ActionUnsubscribeAnnouncements(Action):
    def name(self) -> str:
        return "action_unsubscribe_announcements"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        channel = tracker_channel(tracker)
        ended = await in_session(
            lambda session: unsubscribe(
                session=session, resident_id=tracker.sender_id, channel=channel
            )
        )
        dispatcher.utter_message(text=STOPPED_TEXT if ended else NOT_SUBSCRIBED_TEXT)
        return [SlotSet(SUBSCRIBE_PENDING_SLOT, None)]
