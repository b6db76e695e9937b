"""request_human: the resident asks for a person of their commune's team.

The action decides why (scam = urgent, stuck at a service step, the bot failed to understand,
or simply asked) and writes a short masked summary for the volunteer; the gateway opens the
ticket from the `handoff` control and tells the resident their place in the queue. When the
commune is still unknown it is asked for first (once): the request waits in the
`handoff_pending` slot and action_set_commune sends it as soon as the commune is known.
"""

from __future__ import annotations

import json
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.commune import PENDING_HANDOFF_SLOT, ask_commune, should_ask_commune
from actions.flows import in_session, int_entity, str_entity
from core.controls import HANDOFF
from core.models import TicketReason

RECENT_MESSAGES = 4
NOT_STORED = "[không lưu]"  # what the tracker store keeps of an unconsented resident's words


def recent_words(tracker: Tracker) -> list[str]:
    """The resident's last few typed messages (already masked by the gateway), oldest first;
    buttons and words the resident did not let us keep are left out."""
    texts = [
        str(event.get("text") or "").strip()
        for event in tracker.events
        if event.get("event") == "user"
    ]
    typed = [t for t in texts if t and not t.startswith("/") and t != NOT_STORED]
    return typed[-RECENT_MESSAGES:]


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
    }


class ActionRequestHuman(Action):
    def name(self) -> str:
        return "action_request_human"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        request = handoff_request(tracker)
        if await in_session(lambda session: should_ask_commune(session, tracker)):
            ask_commune(dispatcher)
            return [SlotSet(PENDING_HANDOFF_SLOT, json.dumps(request, ensure_ascii=False))]
        dispatcher.utter_message(json_message=request)
        return [SlotSet(PENDING_HANDOFF_SLOT, None)]
