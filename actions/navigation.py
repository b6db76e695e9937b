"""Moving through a walkthrough or lesson: next, resume ("tiếp tục"), stop, and "I'm stuck".

Buttons name their service or lesson and step; typed words ("tiếp theo", "tiếp tục", "thoát",
"tôi bị kẹt") act on what the resident touched last and has not finished.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import lessons, walkthroughs
from actions.flows import in_session, int_entity, str_entity
from core.content.lessons import Lesson, find_lesson
from core.content.services import ServiceGuide, find_service_guide
from core.models import FlowKind
from core.repositories.progress import latest_unfinished

NOTHING_UNFINISHED_TEXT = "Dạ, anh/chị chưa có việc nào đang làm dở ạ."
ASK_HOW_TO_HELP = "utter_ask_how_to_help"

Flow = ServiceGuide | Lesson


async def current_flow(tracker: Tracker) -> tuple[Flow | None, int | None]:
    """The flow and 1-based step a button names, else the resident's latest unfinished flow and
    the step they are on."""
    named: Flow | None = find_service_guide(str_entity(tracker, "service")) or find_lesson(
        str_entity(tracker, "lesson")
    )
    if named is not None:
        return named, int_entity(tracker, "step")
    progress = await in_session(
        lambda session: latest_unfinished(session=session, resident_id=tracker.sender_id)
    )
    if progress is None:
        return None, None
    flow = (
        find_service_guide(progress.key)
        if progress.kind == FlowKind.SERVICE
        else find_lesson(progress.key)
    )
    return flow, progress.position + 1


def nothing_unfinished(dispatcher: CollectingDispatcher) -> None:
    dispatcher.utter_message(text=NOTHING_UNFINISHED_TEXT)
    dispatcher.utter_message(response=ASK_HOW_TO_HELP)


async def show(dispatcher: CollectingDispatcher, tracker: Tracker, flow: Flow, step: int) -> None:
    if isinstance(flow, ServiceGuide):
        await walkthroughs.go_to_step(dispatcher, tracker, flow, step)
    else:
        await lessons.go_to_position(dispatcher, tracker, flow, step)


class ActionNextStep(Action):
    """ "Tiếp theo": the step a button names, or the one after where the resident is."""

    def name(self) -> str:
        return "action_next_step"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        flow, step = await current_flow(tracker)
        if flow is None:
            nothing_unfinished(dispatcher)
            return []
        named = str_entity(tracker, "service") or str_entity(tracker, "lesson")
        await show(dispatcher, tracker, flow, (step or 1) if named else (step or 0) + 1)
        return []


class ActionResume(Action):
    """ "Tiếp tục": back to the step the resident left."""

    def name(self) -> str:
        return "action_resume"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        flow, step = await current_flow(tracker)
        if flow is None:
            nothing_unfinished(dispatcher)
            return []
        dispatcher.utter_message(text=f'Dạ, mình làm tiếp "{flow.name}" nhé.')
        await show(dispatcher, tracker, flow, step or 1)
        return []


class ActionStopFlow(Action):
    """ "Thoát": stop for now; the progress is kept for "tiếp tục"."""

    def name(self) -> str:
        return "action_stop_flow"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        flow, _ = await current_flow(tracker)
        if flow is None:
            dispatcher.utter_message(response=ASK_HOW_TO_HELP)
            return []
        dispatcher.utter_message(
            text=f'Dạ, mình tạm dừng "{flow.name}" ở đây. Khi nào muốn làm tiếp, anh/chị nhắn '
            '"tiếp tục" là em đưa về đúng chỗ đang dở ạ.'
        )
        dispatcher.utter_message(response=ASK_HOW_TO_HELP)
        return []


class ActionStuck(Action):
    """ "Tôi bị kẹt": that step's common problems and fixes, then a human offer."""

    def name(self) -> str:
        return "action_stuck"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        flow, step = await current_flow(tracker)
        if isinstance(flow, ServiceGuide):
            await walkthroughs.help_when_stuck(dispatcher, tracker, flow, step or 1)
        else:
            dispatcher.utter_message(response="utter_stuck")
        return []
