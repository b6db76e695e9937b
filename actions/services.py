"""Service guides: the overview and first steps of a public-service walkthrough."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.tracking import record_tracker_event
from core.content.services import SERVICES_DIR, ServiceGuide, load_service_guide
from core.models import EventType

SERVICE_INTENT_PREFIX = "service_"
FIRST_STEPS_SHOWN = 2

NO_GUIDE_TEXT = (
    "Dạ, em chưa có hướng dẫn chi tiết cho việc này ạ. "
    "Anh/chị có muốn gặp người hỗ trợ của Tổ công nghệ số không ạ?"
)
HUMAN_BUTTON = {"title": "Gặp người hỗ trợ", "payload": "/request_human"}


def overview_messages(guide: ServiceGuide) -> list[str]:
    """Before starting, one idea per message: where, what to bring, cost and time."""
    name = guide.name[0].lower() + guide.name[1:]
    messages = [f"Dạ, em hướng dẫn anh/chị {name} ạ.\nLàm ở đâu: {guide.where_text}"]
    if guide.documents:
        messages.append("Anh/chị cần chuẩn bị:\n" + "\n".join(f"• {d}" for d in guide.documents))
    messages.append(f"Chi phí: {guide.fee}\nThời gian: {guide.processing_time}")
    return messages


def step_text(guide: ServiceGuide, index: int) -> str:
    step = guide.steps[index]
    text = f"Bước {index + 1}/{len(guide.steps)} – {step.title}\n{step.text}"
    return f"{text}\n{step.link}" if step.link else text


def remaining_steps_text(guide: ServiceGuide, start: int) -> str:
    titles = [f"{i + 1}. {guide.steps[i].title}" for i in range(start, len(guide.steps))]
    return "Các bước tiếp theo:\n" + "\n".join(titles)


class ActionServiceGuide(Action):
    """Answers a `service_<key>` intent from `data/services/<key>.yml`."""

    def name(self) -> str:
        return "action_service_guide"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        intent = (tracker.latest_message.get("intent") or {}).get("name") or ""
        key = intent.removeprefix(SERVICE_INTENT_PREFIX)
        if (
            not intent.startswith(SERVICE_INTENT_PREFIX)
            or not (SERVICES_DIR / f"{key}.yml").is_file()
        ):
            dispatcher.utter_message(text=NO_GUIDE_TEXT, buttons=[HUMAN_BUTTON])
            return []

        guide = load_service_guide(key)
        for text in overview_messages(guide):
            dispatcher.utter_message(text=text)
        shown = min(FIRST_STEPS_SHOWN, len(guide.steps))
        for index in range(shown):
            dispatcher.utter_message(text=step_text(guide, index))
        if shown < len(guide.steps):
            dispatcher.utter_message(text=remaining_steps_text(guide, shown))
        dispatcher.utter_message(
            text="Nếu bị vướng ở bước nào, anh/chị có thể gặp người hỗ trợ ạ.",
            buttons=[HUMAN_BUTTON],
        )
        await record_tracker_event(tracker, EventType.SERVICE_STARTED, key=key)
        return []
