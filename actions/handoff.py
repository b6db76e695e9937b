"""request_human: the resident asks for a person of their commune's team.

Tickets, the volunteer desk and relaying come with the handoff work; until then the resident
gets the honest placeholder answer, and the commune is asked for if it is still unknown
(the handoff needs it to reach the right team).
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.commune import ask_commune, should_ask_commune
from actions.flows import in_session

PLACEHOLDER_RESPONSE = "utter_request_human"


class ActionRequestHuman(Action):
    def name(self) -> str:
        return "action_request_human"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(response=PLACEHOLDER_RESPONSE)
        if await in_session(lambda session: should_ask_commune(session, tracker)):
            ask_commune(dispatcher)
        return []
