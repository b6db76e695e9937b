"""Moving through a walkthrough or lesson: next, resume ("tiếp tục"), stop, and "I'm stuck".

Buttons name their service or lesson and step; typed words ("tiếp theo", "tiếp tục", "thoát",
"tôi bị kẹt") act on what the resident touched last and has not finished.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from actions import lessons, walkthroughs
from actions.flows import ASK_HOW_TO_HELP, in_session, int_entity, str_entity
from actions.privacy_notice import Moment, ask, progress_hint, question_due
from core.content.lessons import Lesson, find_lesson
from core.content.services import ServiceGuide, find_service_guide
from core.models import FlowKind
from core.repositories.progress import latest_unfinished
from core.repositories.residents import has_consented

NOTHING_UNFINISHED_TEXT = "Dạ, anh/chị chưa có việc nào đang làm dở ạ."
STUCK_RESPONSE = "utter_stuck"

Flow = ServiceGuide | Lesson


@dataclass(frozen=True)
class Where:
    """The flow an action is about, and a 1-based step in it."""

    flow: Flow
    step: int  # the step a button names, else the step the resident is on
    named: bool  # True when a button named the flow


async def where_now(tracker: Tracker) -> Where | None:
    """The flow and step a button names, else the resident's latest unfinished flow."""
    named: Flow | None = find_service_guide(str_entity(tracker, "service")) or find_lesson(
        str_entity(tracker, "lesson")
    )
    if named is not None:
        return Where(named, int_entity(tracker, "step") or 1, named=True)
    progress = await in_session(
        lambda session: latest_unfinished(session=session, resident_id=tracker.sender_id)
    )
    if progress is None:
        return None
    flow = (
        find_service_guide(progress.key)
        if progress.kind == FlowKind.SERVICE
        else find_lesson(progress.key)
    )
    return Where(flow, progress.position + 1, named=False) if flow else None


async def show(
    dispatcher: CollectingDispatcher, tracker: Tracker, flow: Flow, step: int
) -> list[dict[str, Any]]:
    """Step `step` of the flow; the events to return."""
    if isinstance(flow, ServiceGuide):
        return await walkthroughs.go_to_step(dispatcher, tracker, flow, step)
    await lessons.go_to_position(dispatcher, tracker, flow, step)
    return []


class FlowAction(Action, ABC):
    """An action on the flow a button names or the resident left unfinished."""

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        where = await where_now(tracker)
        if where is None:
            self.nowhere(dispatcher)
            return []
        return await self.act(dispatcher, tracker, where)

    def nowhere(self, dispatcher: CollectingDispatcher) -> None:
        dispatcher.utter_message(text=NOTHING_UNFINISHED_TEXT)
        dispatcher.utter_message(response=ASK_HOW_TO_HELP)

    @abstractmethod
    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, where: Where
    ) -> list[dict[str, Any]]:
        """Do the action's work on `where`; the events to return."""


class ActionNextStep(FlowAction):
    """ "Tiếp theo": the step a button names, or the one after where the resident is."""

    def name(self) -> str:
        return "action_next_step"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, where: Where
    ) -> list[dict[str, Any]]:
        return await show(
            dispatcher, tracker, where.flow, where.step if where.named else where.step + 1
        )


class ActionResume(FlowAction):
    """ "Tiếp tục": back to the step the resident left."""

    def name(self) -> str:
        return "action_resume"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, where: Where
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(text=f'Dạ, mình làm tiếp "{where.flow.name}" nhé.')
        return await show(dispatcher, tracker, where.flow, where.step)


class ActionStopFlow(FlowAction):
    """ "Thoát": stop for now; the progress is kept for "tiếp tục" (past the session only with
    consent, asked here the first time)."""

    def name(self) -> str:
        return "action_stop_flow"

    def nowhere(self, dispatcher: CollectingDispatcher) -> None:
        dispatcher.utter_message(response=ASK_HOW_TO_HELP)

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, where: Where
    ) -> list[dict[str, Any]]:
        def consent(session: Session) -> tuple[bool, bool]:
            kept = has_consented(session=session, resident_id=tracker.sender_id)
            return kept, question_due(session, tracker.sender_id)

        kept, ask_now = await in_session(consent)
        dispatcher.utter_message(text=f'Dạ, mình tạm dừng "{where.flow.name}" ở đây.')
        if ask_now:  # kept past the session only with consent (README "Privacy")
            ask(dispatcher, Moment.PROGRESS)
            return []
        dispatcher.utter_message(text=progress_hint(kept=kept))
        dispatcher.utter_message(response=ASK_HOW_TO_HELP)
        return []


class ActionStuck(FlowAction):
    """ "Tôi bị kẹt": that step's common problems and fixes, then a human offer."""

    def name(self) -> str:
        return "action_stuck"

    def nowhere(self, dispatcher: CollectingDispatcher) -> None:
        dispatcher.utter_message(response=STUCK_RESPONSE)

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, where: Where
    ) -> list[dict[str, Any]]:
        if isinstance(where.flow, ServiceGuide):
            await walkthroughs.help_when_stuck(dispatcher, tracker, where.flow, where.step)
        else:
            self.nowhere(dispatcher)
        return []
