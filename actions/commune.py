"""The resident's commune: asked when a person is needed or, once, at the end of a walkthrough;
resolved from free text, confirmed, remembered on the profile, changeable later ("tôi chuyển
sang xã khác"). A request for a person or a subscription to announcements waiting for the
answer goes on at once; one the resident abandoned (any other message since, or an earlier
session: `request_waits`) is forgotten. With nothing else to go on with, the announcements may
be offered (actions/announcements.py)."""

from __future__ import annotations

import json
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from actions.announcements import (
    COMMUNE_INTENT,
    LATER_BUTTON,
    OFFER_BUTTON,
    OFFER_TEXT,
    OFFERED_SLOT,
    SUBSCRIBE_PENDING_SLOT,
    offer_due,
    subscribe_or_ask,
    subscription_waits,
)
from actions.flows import ASK_HOW_TO_HELP, button, in_session, request_waits, str_entity
from actions.tracking import COMMUNE_SLOT, tracker_commune
from core.places import Commune, commune_by_code, resolve_place
from core.repositories.progress import latest_unfinished
from core.repositories.residents import get_resident, mark_commune_asked, set_commune
from nlu.controls import CONSENT_INTENT

CHOICES_SHOWN = 6
ASK_TEXT = (
    "Để khi cần em nhờ đúng Tổ công nghệ số nơi anh/chị ở: anh/chị ở xã, phường nào ạ? "
    'Gõ tên là được, không cần dấu, ví dụ: "xa tan lap tay ninh".'
)
ASK_AGAIN_TEXT = (
    "Dạ, em cần biết anh/chị ở xã, phường nào mới báo được đúng Tổ công nghệ số ạ. "
    'Anh/chị gõ tên xã, phường kèm tỉnh giúp em, ví dụ: "xã Tân Lập, Tây Ninh".'
)
NOT_FOUND_TEXT = (
    "Dạ, em chưa tìm thấy xã, phường đó. Anh/chị gõ tên xã/phường kèm tỉnh giúp em, "
    'ví dụ: "xã Tân Lập, Tây Ninh" ạ.'
)
FINISHED_ASK_TEXT = (
    "Để lần sau em nối anh/chị với Tổ công nghệ số của xã mình: gõ tên là được, không cần dấu, "
    'ví dụ "xa tan lap tay ninh". Anh/chị ở xã, phường nào ạ?'
)
CHOOSE_TEXT = (
    "Dạ, có mấy nơi trùng tên. Nếu không thấy nơi của mình, anh/chị gõ thêm tên tỉnh giúp em. "
    "Anh/chị ở nơi nào ạ?"
)
RESUME_BUTTON = button("Làm tiếp việc đang dở", "resume")
# Set by action_request_human when it had to ask the privacy question or the commune first
# (a JSON request), and by action_consent when the commune is still to be asked.
PENDING_HANDOFF_SLOT = "handoff_pending"
# The answers a request for a person waits for: the privacy question's buttons, the commune.
HANDOFF_ANSWERS = frozenset({CONSENT_INTENT, COMMUNE_INTENT})


def handoff_waits(tracker: Tracker) -> bool:
    """True while a request for a person waits for the resident: every message since it was
    made in this session answered the privacy question or the commune question."""
    return request_waits(tracker, PENDING_HANDOFF_SLOT, HANDOFF_ANSWERS)


def commune_question(session: Session, tracker: Tracker) -> str | None:
    """The question for a resident whose commune is unknown (ASK_TEXT the first time,
    ASK_AGAIN_TEXT after), or None when it is known."""
    if tracker_commune(tracker):
        return None
    resident = get_resident(session=session, resident_id=tracker.sender_id)
    if resident is not None and resident.commune_code:
        return None
    if resident is not None and resident.commune_asked_at:
        return ASK_AGAIN_TEXT
    mark_commune_asked(session=session, resident_id=tracker.sender_id)
    return ASK_TEXT


def should_ask_commune(session: Session, tracker: Tracker) -> bool:
    """True once per resident: their commune is unknown and was never asked."""
    return commune_question(session, tracker) == ASK_TEXT


def choice_payload(commune: Commune) -> str:
    """The button payload that picks `commune` (short enough for Telegram's 64 bytes)."""
    return "/provide_commune" + json.dumps({COMMUNE_SLOT: commune.code})


class ActionSetCommune(Action):
    """Answers provide_commune: one match is remembered, several are offered as buttons."""

    def name(self) -> str:
        return "action_set_commune"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        code = str_entity(tracker, COMMUNE_SLOT)
        if code is not None:
            chosen = commune_by_code(code)
            candidates: tuple[Commune, ...] = (chosen,) if chosen else ()
            province = None
        else:
            match = resolve_place(tracker.latest_message.get("text") or "")
            candidates, province = match.communes, match.province

        if len(candidates) == 1:
            commune = candidates[0]

            def remember(session: Session) -> tuple[bool, bool]:
                set_commune(
                    session=session, resident_id=tracker.sender_id, commune_code=commune.code
                )
                unfinished = latest_unfinished(session=session, resident_id=tracker.sender_id)
                return unfinished is not None, offer_due(session, tracker)

            has_unfinished, offer = await in_session(remember)
            noted = f"Dạ, em đã ghi nhận anh/chị ở {commune.label} ạ."
            events = [SlotSet(COMMUNE_SLOT, commune.code)]
            pending = tracker.get_slot(PENDING_HANDOFF_SLOT) if handoff_waits(tracker) else None
            if tracker.get_slot(PENDING_HANDOFF_SLOT) and not pending:  # a request abandoned
                events.append(SlotSet(PENDING_HANDOFF_SLOT, None))
            if subscription_waits(tracker):  # asked to subscribe: do it now
                dispatcher.utter_message(text=noted)
                return [*events, *await subscribe_or_ask(dispatcher, tracker)]
            if tracker.get_slot(SUBSCRIBE_PENDING_SLOT):  # a request to subscribe abandoned
                events.append(SlotSet(SUBSCRIBE_PENDING_SLOT, None))
            dispatcher.utter_message(
                text=noted,
                buttons=[RESUME_BUTTON] if has_unfinished and not pending else [],
            )
            if not pending:
                if has_unfinished:
                    return events
                if offer:  # nothing else to go on with: the commune's announcements?
                    dispatcher.utter_message(text=OFFER_TEXT, buttons=[OFFER_BUTTON, LATER_BUTTON])
                    return [*events, SlotSet(OFFERED_SLOT, True)]
                dispatcher.utter_message(response=ASK_HOW_TO_HELP)  # e.g. after a walkthrough
                return events
            # The resident asked for a person before we knew their commune: send it now.
            dispatcher.utter_message(json_message=json.loads(pending))
            return [*events, SlotSet(PENDING_HANDOFF_SLOT, None)]
        if candidates:
            buttons = [
                {"title": c.label, "payload": choice_payload(c)} for c in candidates[:CHOICES_SHOWN]
            ]
            dispatcher.utter_message(text=CHOOSE_TEXT, buttons=buttons)
            return []
        if province is not None:
            dispatcher.utter_message(text=f"Dạ, anh/chị ở xã, phường nào của {province.short} ạ?")
            return []
        current = commune_by_code(tracker_commune(tracker) or "")
        if current is not None:
            dispatcher.utter_message(
                text=f"Dạ, hiện em ghi anh/chị ở {current.label}. Anh/chị chuyển sang xã, "
                "phường nào ạ? Anh/chị gõ tên kèm tỉnh giúp em nhé."
            )
            return []
        dispatcher.utter_message(text=NOT_FOUND_TEXT)
        return []
