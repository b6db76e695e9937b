"""The resident's commune: resolved from free text, confirmed, remembered on the profile."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.tracking import COMMUNE_SLOT
from core.db import session_scope
from core.places import Commune, commune_by_code, resolve_place
from core.repositories.residents import set_commune

CHOICES_SHOWN = 6
NOT_FOUND_TEXT = (
    "Dạ, em chưa tìm thấy xã, phường đó. Anh/chị gõ tên xã/phường kèm tỉnh giúp em, "
    'ví dụ: "xã Tân Lập, Tây Ninh" ạ.'
)
CHOOSE_TEXT = "Dạ, có mấy nơi trùng tên. Anh/chị ở nơi nào ạ?"
CHOOSE_HINT = "Nếu không thấy nơi của mình, anh/chị gõ thêm tên tỉnh giúp em nhé."


def choice_payload(commune: Commune) -> str:
    """The button payload that picks `commune` (short enough for Telegram's 64 bytes)."""
    return "/provide_commune" + json.dumps({COMMUNE_SLOT: commune.code})


def _entity_code(tracker: Tracker) -> str | None:
    for entity in tracker.latest_message.get("entities") or []:
        if entity.get("entity") == COMMUNE_SLOT and isinstance(entity.get("value"), str):
            return str(entity["value"])
    return None


def _remember(resident_id: str, commune_code: str) -> None:
    with session_scope() as session:
        set_commune(session=session, resident_id=resident_id, commune_code=commune_code)


class ActionSetCommune(Action):
    """Answers provide_commune: one match is remembered, several are offered as buttons."""

    def name(self) -> str:
        return "action_set_commune"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        code = _entity_code(tracker)
        if code is not None:
            chosen = commune_by_code(code)
            candidates: tuple[Commune, ...] = (chosen,) if chosen else ()
            province = None
        else:
            match = resolve_place(tracker.latest_message.get("text") or "")
            candidates, province = match.communes, match.province

        if len(candidates) == 1:
            commune = candidates[0]
            await asyncio.to_thread(_remember, tracker.sender_id, commune.code)
            dispatcher.utter_message(text=f"Dạ, em đã ghi nhận anh/chị ở {commune.label} ạ.")
            return [SlotSet(COMMUNE_SLOT, commune.code)]
        if candidates:
            buttons = [
                {"title": c.label, "payload": choice_payload(c)} for c in candidates[:CHOICES_SHOWN]
            ]
            dispatcher.utter_message(text=CHOOSE_TEXT, buttons=buttons)
            dispatcher.utter_message(text=CHOOSE_HINT)
            return []
        if province is not None:
            dispatcher.utter_message(text=f"Dạ, anh/chị ở xã, phường nào của {province.short} ạ?")
            return []
        dispatcher.utter_message(text=NOT_FOUND_TEXT)
        return []
