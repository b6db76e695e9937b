"""report_scam: a resident is being scammed now. Calm steps first, then an urgent human offer.

Every step is sent at once (no waiting for a tap while money is at stake), packed into as few
screens as they fit, so that the turn stays within MAX_BUBBLES with the offer last.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.flows import bubbles, button
from core.content.emergency import load_emergency

URGENT_HUMAN_BUTTON = button("Gặp người hỗ trợ ngay", "request_human", reason="scam")
LEARN_BUTTON = button("Học cách nhận biết lừa đảo", "lesson_scam_awareness")


class ActionReportScam(Action):
    def name(self) -> str:
        return "action_report_scam"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        guide = load_emergency("scam")
        for text in bubbles([guide.opening, *guide.steps], separator="\n"):
            dispatcher.utter_message(text=text)
        dispatcher.utter_message(text=guide.handoff, buttons=[URGENT_HUMAN_BUTTON, LEARN_BUTTON])
        return []
