"""Public-service walkthroughs: an overview, then one step at a time, with help when stuck.

The first turn is one overview bubble and step 1 with its buttons (the documents to prepare
are one of them); the commune is asked at the end, once, when it is still unknown (else the
commune's announcements may be offered there, actions/announcements.py).

Progress is kept per resident in the database, so "tiếp tục" days later lands on the step the
resident left. Steps are numbered from 1 in buttons and messages.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from actions.announcements import OFFER_BUTTON, OFFERED_SLOT, offer_due
from actions.attempts import begin_attempt, left_part_way, ongoing_attempt
from actions.commune import FINISHED_ASK_TEXT, should_ask_commune
from actions.flows import (
    BUBBLE_LIMIT,
    Button,
    bubbles,
    button,
    in_session,
    int_entity,
    intent_name,
    str_entity,
)
from actions.tracking import record_for_tracker
from core.content.glossary import first_uses
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


WHERE_WORDS = {
    "vneid": "ứng dụng VNeID",
    "dichvucong": "trang web Cổng Dịch vụ công",
    "commune_office": "UBND xã, phường",
    "police": "Công an xã, phường",
    "bank": "ứng dụng ngân hàng",
    "telco": "cửa hàng nhà mạng",
}
DOCUMENTS_TITLE = "Xem giấy tờ cần chuẩn bị"
WORDS_INTRO = "Vài từ anh/chị sẽ gặp ở bước này:"


def where_words(guide: ServiceGuide) -> str:
    """Where it is done, in a few words: "ứng dụng VNeID, Cổng Dịch vụ công hoặc UBND xã"."""
    places = [WHERE_WORDS[channel] for channel in guide.where if channel in WHERE_WORDS]
    if len(places) < 2:
        return "".join(places) or guide.where_text
    return ", ".join(places[:-1]) + " hoặc " + places[-1]


def overview_text(guide: ServiceGuide) -> str:
    """One bubble before step 1: what, where, cost and time in a few words."""
    brief = guide.in_short
    return (
        f"Dạ, em hướng dẫn anh/chị {brief.what} ạ.\n"
        f"Làm ở: {where_words(guide)}.\n"
        f"Lệ phí: {brief.fee}. Thời gian: {brief.time}.\n"
        f"Có {len(guide.steps)} bước, em hướng dẫn từng bước."
    )


def documents_messages(guide: ServiceGuide) -> list[str]:
    """What to prepare, one bullet a document, in as few bubbles as fit a screen."""
    return bubbles(
        ["Dạ, anh/chị cần chuẩn bị:", *(f"• {d}" for d in guide.documents)], separator="\n"
    )


def step_text(guide: ServiceGuide, number: int) -> str:
    """The step's own bubble: number and title first, then what to do, then its link."""
    step = guide.steps[number - 1]
    text = f"Bước {number}/{len(guide.steps)} – {step.title}\n{step.text}"
    return f"{text}\n{step.link}" if step.link else text


def words_explained(guide: ServiceGuide, number: int) -> str:
    """One line per glossary word that step `number` is the first step to use ("" if none)."""
    uses = first_uses([f"{step.title}\n{step.text}" for step in guide.steps])
    return "\n".join(term.line for term in uses[number - 1])


def step_messages(guide: ServiceGuide, number: int) -> list[str]:
    """The step, with the meaning of words it uses first under it; in a bubble of their own
    before it when they would not fit on the same screen."""
    text, words = step_text(guide, number), words_explained(guide, number)
    if not words:
        return [text]
    together = f"{text}\n{words}"
    return [together] if len(together) <= BUBBLE_LIMIT else [f"{WORDS_INTRO}\n{words}", text]


def step_buttons(guide: ServiceGuide, number: int) -> list[Button]:
    """Next (or done), the documents on step 1 of a guide that has some, stuck, a person, exit:
    at most 5, as Zalo shows."""
    last = number == len(guide.steps)
    documents = (
        [button(DOCUMENTS_TITLE, "show_documents", service=guide.key, step=number)]
        if number == 1 and guide.documents
        else []
    )
    return [
        button(
            "Xong rồi" if last else "Tiếp theo", "next_step", service=guide.key, step=number + 1
        ),
        *documents,
        button("Tôi bị kẹt ở bước này", "stuck", service=guide.key, step=number),
        button(HUMAN_TITLE, "request_human", service=guide.key, step=number),
        button("Thoát", "stop_flow", service=guide.key),
    ]


def show_step(dispatcher: CollectingDispatcher, guide: ServiceGuide, number: int) -> None:
    """The step's bubbles, the last one with the step's buttons."""
    *before, last = step_messages(guide, number)
    for text in before:
        dispatcher.utter_message(text=text)
    dispatcher.utter_message(text=last, buttons=step_buttons(guide, number))


def offer_to_continue(dispatcher: CollectingDispatcher, guide: ServiceGuide, number: int) -> None:
    """A resident who left at step `number` chooses to go on there or start over."""
    dispatcher.utter_message(
        text=f"Dạ, lần trước anh/chị làm {guide.in_short.what} đến bước {number}/"
        f"{len(guide.steps)} ạ. Mình làm tiếp hay làm lại từ đầu ạ?",
        buttons=[
            button(f"Làm tiếp bước {number}", "next_step", service=guide.key, step=number),
            button("Làm lại từ đầu", "next_step", service=guide.key, step=1),
        ],
    )


def _finished(
    dispatcher: CollectingDispatcher, guide: ServiceGuide, ask_commune: bool, offer: bool
) -> list[dict[str, Any]]:
    """Congratulations, then one question: the commune the first time it is unknown, else
    whether the resident needs anything more (with the commune's announcements as one of the
    choices when they are to be offered)."""
    dispatcher.utter_message(
        text=f"Dạ, chúc mừng anh/chị đã làm xong các bước {guide.in_short.what}! 🎉"
    )
    if ask_commune:
        dispatcher.utter_message(text=FINISHED_ASK_TEXT)
        return []
    buttons = [HUMAN_BUTTON, OFFER_BUTTON] if offer else [HUMAN_BUTTON]
    dispatcher.utter_message(text=ASK_MORE_TEXT, buttons=buttons)
    return [SlotSet(OFFERED_SLOT, True)] if offer else []


async def start_walkthrough(
    dispatcher: CollectingDispatcher, tracker: Tracker, guide: ServiceGuide
) -> None:
    """The overview bubble and step 1 (or, for a resident part-way through, the choice to go
    on). The commune is not asked here: only when a person is needed, or at the end."""

    def work(session: Session) -> Progress | None:
        progress = left_part_way(session, tracker, KIND, guide.key)
        if progress is not None:
            return progress
        begin_attempt(session, tracker, KIND, guide.key)
        return None

    left_at = await in_session(work)
    if left_at is not None:
        offer_to_continue(dispatcher, guide, left_at.position + 1)
        return
    dispatcher.utter_message(text=overview_text(guide))
    show_step(dispatcher, guide, 1)


def show_documents(dispatcher: CollectingDispatcher, guide: ServiceGuide, number: int) -> None:
    """The documents to prepare, then step `number` again with its choices."""
    for text in documents_messages(guide):
        dispatcher.utter_message(text=text)
    show_step(dispatcher, guide, max(1, min(number, len(guide.steps))))


async def go_to_step(
    dispatcher: CollectingDispatcher, tracker: Tracker, guide: ServiceGuide, number: int
) -> list[dict[str, Any]]:
    """Show step `number` (1 starts over; one past the last step finishes the walkthrough);
    the events to return."""
    number = max(1, min(number, len(guide.steps) + 1))
    resident = tracker.sender_id

    def work(session: Session) -> tuple[bool, bool]:
        """Move on; when the walkthrough was just finished, whether the commune is to be
        asked, else whether the announcements are to be offered."""
        if number == 1:
            begin_attempt(session, tracker, KIND, guide.key)
            return False, False
        progress = get_progress(session=session, resident_id=resident, kind=KIND, key=guide.key)
        if number > len(guide.steps) and progress is not None and progress.completed_at:
            return False, False  # finished already (a double tap on "Xong rồi")
        progress = ongoing_attempt(session, tracker, KIND, guide.key)
        move_to(session=session, progress=progress, position=number - 1)
        if number > len(guide.steps):
            complete_flow(session=session, progress=progress)
            record_for_tracker(session, tracker, EventType.SERVICE_COMPLETED, key=guide.key)
            ask_commune = should_ask_commune(session, tracker)
            return ask_commune, not ask_commune and offer_due(session, tracker)
        record_for_tracker(session, tracker, EventType.SERVICE_STEP, key=guide.key, value=number)
        return False, False

    ask_commune, offer = await in_session(work)
    if number > len(guide.steps):
        return _finished(dispatcher, guide, ask_commune, offer)
    show_step(dispatcher, guide, number)
    return []


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
        for text in bubbles(
            [
                f"Dạ, ở bước {number}, mọi người hay gặp mấy chuyện sau ạ:",
                *(item.advice for item in problems),
            ]
        ):
            dispatcher.utter_message(text=text)
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


class ActionShowDocuments(Action):
    """The "Xem giấy tờ cần chuẩn bị" button: `/show_documents{"service": key, "step": n}`."""

    def name(self) -> str:
        return "action_show_documents"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        guide = find_service_guide(str_entity(tracker, "service"))
        if guide is None:
            dispatcher.utter_message(text=NO_GUIDE_TEXT, buttons=[HUMAN_BUTTON])
            return []
        show_documents(dispatcher, guide, int_entity(tracker, "step") or 1)
        return []
