"""Public-service walkthroughs: an overview, then one step at a time, with help when stuck.

Progress is kept per resident in the database, so "tiếp tục" days later lands on the step the
resident left. Steps are numbered from 1 in buttons and messages.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from actions.attempts import begin_attempt, left_part_way, ongoing_attempt
from actions.commune import ask_commune, should_ask_commune
from actions.flows import Button, button, in_session, intent_name
from actions.tracking import record_for_tracker
from core.content.services import ServiceGuide, find_service_guide
from core.models import EventType, FlowKind, Progress
from core.repositories.progress import complete_flow, get_progress, move_to

SERVICE_INTENT_PREFIX = "service_"
KIND = FlowKind.SERVICE

NO_GUIDE_TEXT = (
    "Dạ, em chưa có hướng dẫn chi tiết cho việc này ạ. "
    "Anh/chị có muốn gặp người hỗ trợ của Tổ công nghệ số không ạ?"
)
HUMAN_TITLE = "Gặp người hỗ trợ"
HUMAN_BUTTON = button(HUMAN_TITLE, "request_human")
ASK_MORE_TEXT = "Anh/chị còn cần em hỗ trợ việc gì nữa không ạ?"


def overview_messages(guide: ServiceGuide) -> list[str]:
    """Before starting, one idea per message: where, what to bring, cost and time."""
    name = guide.name[0].lower() + guide.name[1:]
    messages = [f"Dạ, em hướng dẫn anh/chị {name} ạ.\nLàm ở đâu: {guide.where_text}"]
    if guide.documents:
        messages.append("Anh/chị cần chuẩn bị:\n" + "\n".join(f"• {d}" for d in guide.documents))
    messages.append(f"Chi phí: {guide.fee}\nThời gian: {guide.processing_time}")
    messages.append(f"Có {len(guide.steps)} bước, em hướng dẫn từng bước một nhé.")
    return messages


def step_text(guide: ServiceGuide, number: int) -> str:
    step = guide.steps[number - 1]
    text = f"Bước {number}/{len(guide.steps)} – {step.title}\n{step.text}"
    return f"{text}\n{step.link}" if step.link else text


def step_buttons(guide: ServiceGuide, number: int) -> list[Button]:
    last = number == len(guide.steps)
    return [
        button(
            "Xong rồi" if last else "Tiếp theo", "next_step", service=guide.key, step=number + 1
        ),
        button("Tôi bị kẹt ở bước này", "stuck", service=guide.key, step=number),
        button(HUMAN_TITLE, "request_human", service=guide.key, step=number),
        button("Thoát", "stop_flow", service=guide.key),
    ]


def show_step(dispatcher: CollectingDispatcher, guide: ServiceGuide, number: int) -> None:
    dispatcher.utter_message(text=step_text(guide, number), buttons=step_buttons(guide, number))


def offer_to_continue(dispatcher: CollectingDispatcher, guide: ServiceGuide, number: int) -> None:
    """A resident who left at step `number` chooses to go on there or start over."""
    dispatcher.utter_message(
        text=f"Dạ, lần trước anh/chị làm {guide.name.lower()} đến bước {number}/"
        f"{len(guide.steps)} ạ. Mình làm tiếp hay làm lại từ đầu ạ?",
        buttons=[
            button(f"Làm tiếp bước {number}", "next_step", service=guide.key, step=number),
            button("Làm lại từ đầu", "next_step", service=guide.key, step=1),
        ],
    )


def _finished(dispatcher: CollectingDispatcher, guide: ServiceGuide) -> None:
    dispatcher.utter_message(
        text=f"Dạ, chúc mừng anh/chị đã làm xong các bước {guide.name.lower()}! 🎉"
    )
    dispatcher.utter_message(text=ASK_MORE_TEXT, buttons=[HUMAN_BUTTON])


async def start_walkthrough(
    dispatcher: CollectingDispatcher, tracker: Tracker, guide: ServiceGuide
) -> None:
    """Overview and step 1 (or, for a resident part-way through, the choice to go on)."""

    def work(session: Session) -> tuple[Progress | None, bool]:
        progress = left_part_way(session, tracker, KIND, guide.key)
        if progress is not None:
            return progress, False
        begin_attempt(session, tracker, KIND, guide.key)
        return None, should_ask_commune(session, tracker)

    left_at, commune_unknown = await in_session(work)
    if left_at is not None:
        offer_to_continue(dispatcher, guide, left_at.position + 1)
        return
    for text in overview_messages(guide):
        dispatcher.utter_message(text=text)
    show_step(dispatcher, guide, 1)
    if commune_unknown:
        ask_commune(dispatcher)


async def go_to_step(
    dispatcher: CollectingDispatcher, tracker: Tracker, guide: ServiceGuide, number: int
) -> None:
    """Show step `number` (1 starts over; one past the last step finishes the walkthrough)."""
    number = max(1, min(number, len(guide.steps) + 1))
    resident = tracker.sender_id

    def work(session: Session) -> None:
        if number == 1:
            begin_attempt(session, tracker, KIND, guide.key)
            return
        progress = get_progress(session=session, resident_id=resident, kind=KIND, key=guide.key)
        if number > len(guide.steps) and progress is not None and progress.completed_at:
            return  # finished already (a double tap on "Xong rồi")
        progress = ongoing_attempt(session, tracker, KIND, guide.key)
        move_to(session=session, progress=progress, position=number - 1)
        if number > len(guide.steps):
            complete_flow(session=session, progress=progress)
            record_for_tracker(session, tracker, EventType.SERVICE_COMPLETED, key=guide.key)
        else:
            record_for_tracker(
                session, tracker, EventType.SERVICE_STEP, key=guide.key, value=number
            )

    await in_session(work)
    if number > len(guide.steps):
        _finished(dispatcher, guide)
    else:
        show_step(dispatcher, guide, number)


async def help_when_stuck(
    dispatcher: CollectingDispatcher, tracker: Tracker, guide: ServiceGuide, number: int
) -> None:
    """That step's common problems and fixes, then a human offer naming service and step."""
    number = max(1, min(number, len(guide.steps)))
    await in_session(
        lambda session: record_for_tracker(
            session, tracker, EventType.SERVICE_STUCK, key=guide.key, value=number
        )
    )
    problems = guide.steps[number - 1].problems
    if problems:
        dispatcher.utter_message(text=f"Dạ, ở bước {number}, mọi người hay gặp mấy chuyện sau ạ:")
        for item in problems:
            dispatcher.utter_message(text=f"❓ {item.problem}\n👉 {item.fix}")
        offer = "Nếu vẫn chưa được, em nhờ người hỗ trợ của Tổ công nghệ số giúp anh/chị nhé?"
    else:
        offer = (
            f"Dạ, bước {number} em chưa có cách xử lý sẵn. "
            "Em nhờ người hỗ trợ của Tổ công nghệ số giúp anh/chị nhé?"
        )
    dispatcher.utter_message(
        text=offer,
        buttons=[
            button(HUMAN_TITLE, "request_human", service=guide.key, step=number),
            button(f"Làm tiếp bước {number}", "next_step", service=guide.key, step=number),
            button("Thoát", "stop_flow", service=guide.key),
        ],
    )


class ActionServiceGuide(Action):
    """Answers a `service_<key>` intent from `data/services/<key>.yml`."""

    def name(self) -> str:
        return "action_service_guide"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        intent = intent_name(tracker)
        guide = (
            find_service_guide(intent.removeprefix(SERVICE_INTENT_PREFIX))
            if intent.startswith(SERVICE_INTENT_PREFIX)
            else None
        )
        if guide is None:
            dispatcher.utter_message(text=NO_GUIDE_TEXT, buttons=[HUMAN_BUTTON])
            return []
        await start_walkthrough(dispatcher, tracker, guide)
        return []
