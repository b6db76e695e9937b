"""Consent: the resident's answer to the privacy question, and what the question interrupted.

The question is asked just in time (actions/privacy_notice.py); its buttons send
`/consent{"choice": "yes"|"no"|"details", "reason": <moment>}`. "Xem chi tiết" shows the full
notice and the same question again. An answer is recorded (Personal Data Protection Law
91/2025/QH15: consent is explicit, never assumed), then what was interrupted goes on in the
same turn: the pending handoff (commune asked first if unknown; one abandoned since is
forgotten, actions/commune.py), the offer of a person after the bot failed to understand, or
the way back to a walkthrough left half-way. Refusing after agreeing (an old button)
withdraws consent: the words already kept are deleted here, and the gateway drops Rasa's copy
of the conversation (bot/router.py).
"""

from __future__ import annotations

import json
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from actions.announcements import subscribe_or_ask
from actions.commune import PENDING_HANDOFF_SLOT, handoff_waits
from actions.fallback import FALLBACK_OFFER
from actions.flows import ASK_HOW_TO_HELP, in_session, str_entity
from actions.handoff import send_or_ask_commune
from actions.privacy_notice import (
    AGREE,
    QUESTIONS,
    REFUSE,
    Moment,
    consent_buttons,
    details_text,
    moment_of,
    progress_hint,
)
from actions.tracking import record_for_tracker
from core.erasure import forget_words
from core.models import EventType
from core.repositories.residents import set_consent
from core.settings import get_settings
from nlu.controls import CONSENT_ACTION

AGREED_TEXT = "Dạ, em cảm ơn anh/chị."
REFUSED_TEXT = "Dạ, em sẽ không lưu. Em vẫn hỗ trợ anh/chị bình thường ạ."
GENERAL_QUESTION = "Anh/chị có đồng ý cho em lưu nội dung trò chuyện không ạ?"


class ActionConsent(Action):
    """`/consent{"choice": …, "reason": …}`: details, or the answer and what comes next."""

    def name(self) -> str:
        return CONSENT_ACTION

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        choice = str_entity(tracker, "choice")
        moment = moment_of(str_entity(tracker, "reason"))
        if choice not in (AGREE, REFUSE):  # "Xem chi tiết"
            dispatcher.utter_message(text=details_text(get_settings().retention_days))
            dispatcher.utter_message(
                text=QUESTIONS[moment] if moment else GENERAL_QUESTION,
                buttons=consent_buttons(moment, details=False),
            )
            return []
        agreed = choice == AGREE

        def work(session: Session) -> None:
            set_consent(session=session, resident_id=tracker.sender_id, consent=agreed)
            if not agreed:
                forget_words(session=session, resident_id=tracker.sender_id)
            record_for_tracker(
                session, tracker, EventType.CONSENT_GIVEN if agreed else EventType.CONSENT_REFUSED
            )

        await in_session(work)
        dispatcher.utter_message(text=AGREED_TEXT if agreed else REFUSED_TEXT)
        return await go_on(dispatcher, tracker, moment, agreed)


async def go_on(
    dispatcher: CollectingDispatcher, tracker: Tracker, moment: Moment | None, agreed: bool
) -> list[dict[str, Any]]:
    """Continue what the question interrupted (a refused handoff still opens: its ticket keeps
    none of the resident's words and drops its conversation when it closes)."""
    pending = tracker.get_slot(PENDING_HANDOFF_SLOT)
    waits = handoff_waits(tracker)
    if moment == Moment.HANDOFF and waits:
        return await send_or_ask_commune(dispatcher, tracker, json.loads(pending))
    # A request for a person abandoned since (an old button): it must not come back.
    events = [SlotSet(PENDING_HANDOFF_SLOT, None)] if pending and not waits else []
    if moment == Moment.SUBSCRIBE and agreed:
        return [*events, *await subscribe_or_ask(dispatcher, tracker)]
    if moment == Moment.FALLBACK:
        dispatcher.utter_message(response=FALLBACK_OFFER)
        return events
    if moment == Moment.PROGRESS:
        dispatcher.utter_message(text=progress_hint(kept=agreed))
    dispatcher.utter_message(response=ASK_HOW_TO_HELP)
    return events
