"""request_human: the resident asks for a person of their commune's team.

The action decides why (scam = urgent, stuck at a service step, the bot failed to understand,
or simply asked) and writes a short masked summary for the volunteer; the gateway opens the
ticket from the `handoff` control and tells the resident their place in the queue. Before a
resident's first ticket the privacy question is asked (actions/privacy_notice.py: the volunteer
reads and the ticket keeps what they write), then, while it is unknown, the commune (again,
each time): one question per turn. Meanwhile the request waits in the `handoff_pending` slot;
action_consent and action_set_commune send it as soon as nothing is left to ask. It waits only
while the resident answers those questions (`handoff_waits`, actions/commune.py): any other
message abandons it, and so does the end of the session: action_consent and
action_set_commune then clear the slot instead of sending it. A scam happening now never
waits: that ticket opens at once, without a commune, for the fallback desk.

The request names the announcement the resident asks about: the one under the "Hỏi thêm"
button pressed, else the one the gateway says their message answers (message metadata); the
gateway attaches it to the ticket only when it reached this resident.

The summary holds only words the resident let us keep (messages the gateway marked
`store_text`): the control and the slot stay in Rasa's tracker, and the summary on the ticket.
"""

from __future__ import annotations

import json
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.commune import PENDING_HANDOFF_SLOT, commune_question
from actions.flows import in_session, int_entity, str_entity
from actions.privacy_notice import Moment, ask, question_due
from core.models import TicketReason
from nlu.controls import ANNOUNCEMENT, HANDOFF, STORE_TEXT

RECENT_MESSAGES = 4


def recent_words(tracker: Tracker) -> list[str]:
    """The resident's last few typed messages (already masked by the gateway), oldest first;
    buttons and words the resident did not let us keep are left out."""
    texts = [
        str(event.get("text") or "").strip()
        for event in tracker.events
        if event.get("event") == "user" and (event.get("metadata") or {}).get(STORE_TEXT) is True
    ]
    typed = [t for t in texts if t and not t.startswith("/")]
    return typed[-RECENT_MESSAGES:]


def announcement_asked_about(tracker: Tracker) -> int | None:
    """The announcement of the pressed "Hỏi thêm", else the one the message answers."""
    pressed = int_entity(tracker, ANNOUNCEMENT)
    if pressed is not None:
        return pressed
    metadata: dict[str, Any] = tracker.latest_message.get("metadata") or {}
    answering = metadata.get(ANNOUNCEMENT)
    return answering if isinstance(answering, int) and not isinstance(answering, bool) else None


def handoff_request(tracker: Tracker) -> dict[str, Any]:
    service = str_entity(tracker, "service")
    step = int_entity(tracker, "step")
    asked = str_entity(tracker, "reason")
    if asked in {TicketReason.SCAM, TicketReason.FALLBACK}:
        reason = TicketReason(asked)
    elif service and step:
        reason = TicketReason.STUCK
    else:
        reason = TicketReason.REQUEST_HUMAN
    words = recent_words(tracker)
    summary = "Người dân nhắn gần đây:\n" + "\n".join(f"• {w}" for w in words) if words else ""
    return {
        HANDOFF: True,
        "reason": reason.value,
        "service": service,
        "step": step,
        "summary": summary,
        ANNOUNCEMENT: announcement_asked_about(tracker),
    }


async def send_or_ask_commune(
    dispatcher: CollectingDispatcher, tracker: Tracker, request: dict[str, Any]
) -> list[dict[str, Any]]:
    """Send the handoff request, or ask for the commune first while it is unknown."""
    question = await in_session(lambda session: commune_question(session, tracker))
    if question is not None:
        dispatcher.utter_message(text=question)
        return [SlotSet(PENDING_HANDOFF_SLOT, json.dumps(request, ensure_ascii=False))]
    dispatcher.utter_message(json_message=request)
    return [SlotSet(PENDING_HANDOFF_SLOT, None)]


class ActionRequestHuman(Action):
    def name(self) -> str:
        return "action_request_human"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        request = handoff_request(tracker)
        if request["reason"] == TicketReason.SCAM:
            dispatcher.utter_message(json_message=request)
            return [SlotSet(PENDING_HANDOFF_SLOT, None)]
        if await in_session(lambda session: question_due(session, tracker.sender_id)):
            ask(dispatcher, Moment.HANDOFF)
            return [SlotSet(PENDING_HANDOFF_SLOT, json.dumps(request, ensure_ascii=False))]
        return await send_or_ask_commune(dispatcher, tracker, request)
