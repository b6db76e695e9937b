"""The two-stage fallback's first stage: offer the two likeliest meanings as buttons.

Rasa's `action_two_stage_fallback` calls this action (`action_default_ask_affirmation`).
Pressing a candidate sends `/<intent>`, which Rasa takes as the clarified message; "Không
phải" sends `/out_of_scope`, after which Rasa asks to rephrase and, on a second failure,
runs `action_default_fallback` (ours: utter_default, which offers a human). The questions the
bot missed are kept for the team only with consent: when the bot gives up on a resident who has
not answered the privacy question, that question (Moment.FALLBACK) comes instead of the offer,
which follows the answer (action_consent).
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher

from actions.flows import in_session
from actions.intent_labels import INTENT_LABELS
from actions.privacy_notice import Moment, ask, question_due

CANDIDATES = 2
NOT_CANDIDATES = frozenset({"nlu_fallback", "out_of_scope", "affirm", "deny", "greet"})
ASK_TEXT = "Dạ, có phải anh/chị muốn hỏi về một trong những việc này không ạ?"
NONE_OF_THESE = {"title": "Không phải", "payload": "/out_of_scope"}
REPHRASE_TEXT = "Dạ, em chưa hiểu ý anh/chị. Anh/chị nói rõ hơn giúp em được không ạ?"
FALLBACK_OFFER = "utter_default"  # the offer of a person, after the bot gave up
GIVE_UP_TEXT = "Dạ, em vẫn chưa hiểu ý anh/chị, em xin lỗi ạ."


def candidate_intents(tracker: Tracker) -> list[str]:
    """The most likely intents of the latest message that a resident could mean."""
    ranking: list[dict[str, Any]] = tracker.latest_message.get("intent_ranking") or []
    names = [str(item.get("name")) for item in ranking]
    return [n for n in names if n in INTENT_LABELS and n not in NOT_CANDIDATES][:CANDIDATES]


class ActionAskAffirmation(Action):
    """Asks "did you mean …?" with the top candidates as buttons."""

    def name(self) -> str:
        return "action_default_ask_affirmation"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        candidates = candidate_intents(tracker)
        if not candidates:
            dispatcher.utter_message(text=REPHRASE_TEXT)
            return []
        buttons = [{"title": INTENT_LABELS[n], "payload": f"/{n}"} for n in candidates]
        dispatcher.utter_message(text=ASK_TEXT, buttons=[*buttons, NONE_OF_THESE])
        return []


class ActionDefaultFallback(Action):
    """The bot gives up: the privacy question when due, else the offer of a person; like
    Rasa's own, it reverts the message it did not understand."""

    def name(self) -> str:
        return "action_default_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        if await in_session(lambda session: question_due(session, tracker.sender_id)):
            dispatcher.utter_message(text=GIVE_UP_TEXT)
            ask(dispatcher, Moment.FALLBACK)
        else:
            dispatcher.utter_message(response=FALLBACK_OFFER)
        return [UserUtteranceReverted()]
