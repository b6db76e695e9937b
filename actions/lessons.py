"""Digital-skills lessons: a menu, short cards one at a time, then a quiz with explanations.

Positions count the cards, then the questions; the resident's position and right answers are
kept in the database, so a lesson can be left and resumed. Numbers in buttons start at 1.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from actions.attempts import begin_attempt, left_part_way, ongoing_attempt
from actions.flows import Button, button, in_session, int_entity, intent_name, str_entity
from actions.tracking import record_for_tracker
from core.content.lessons import LESSON_INTENT_PREFIX, Lesson, find_lesson, lesson_order
from core.models import EventType, FlowKind, Progress
from core.repositories.progress import (
    complete_flow,
    completed_keys,
    get_progress,
    move_to,
)

KIND = FlowKind.LESSON
MENU_BUTTON = button("Danh sách bài học", "start_lessons")


def lesson_button(lesson: Lesson, title: str | None = None) -> Button:
    return button(title or lesson.short_name, f"{LESSON_INTENT_PREFIX}{lesson.key}")


def _exit_button(lesson: Lesson) -> Button:
    return button("Thoát", "stop_flow", lesson=lesson.key)


def show_position(dispatcher: CollectingDispatcher, lesson: Lesson, number: int) -> None:
    """Card or question number `number` (1-based over cards, then questions)."""
    cards = len(lesson.cards)
    if number <= cards:
        card = lesson.cards[number - 1]
        text = f"📖 {number}/{cards} – {card.title}\n{card.text}"
        dispatcher.utter_message(
            text=f"{text}\n{card.link}" if card.link else text,
            buttons=[
                button("Tiếp theo", "next_step", lesson=lesson.key, step=number + 1),
                _exit_button(lesson),
            ],
        )
        return
    index = number - cards
    question = lesson.quiz[index - 1]
    dispatcher.utter_message(
        text=f"Câu {index}/{len(lesson.quiz)}: {question.question}",
        buttons=[
            button(option.text, "answer_quiz", lesson=lesson.key, q=index, a=choice)
            for choice, option in enumerate(question.options, start=1)
        ],
    )


def offer_to_continue(dispatcher: CollectingDispatcher, lesson: Lesson, number: int) -> None:
    dispatcher.utter_message(
        text=f'Dạ, lần trước anh/chị học bài "{lesson.name}" đến phần {number}/{lesson.length} '
        "ạ. Mình học tiếp hay học lại từ đầu ạ?",
        buttons=[
            button("Học tiếp", "next_step", lesson=lesson.key, step=number),
            button("Học lại từ đầu", "next_step", lesson=lesson.key, step=1),
        ],
    )


def _introduce(dispatcher: CollectingDispatcher, lesson: Lesson) -> None:
    dispatcher.utter_message(
        text=f'Dạ, mình học bài "{lesson.name}" nhé. {lesson.summary}\n'
        f"Bài có {len(lesson.cards)} phần ngắn và {len(lesson.quiz)} câu hỏi nhỏ ở cuối."
    )


async def start_lesson(dispatcher: CollectingDispatcher, tracker: Tracker, lesson: Lesson) -> None:
    """The first card (or, for a resident part-way through, the choice to go on)."""

    def work(session: Session) -> Progress | None:
        progress = left_part_way(session, tracker, KIND, lesson.key)
        if progress is not None:
            return progress
        begin_attempt(session, tracker, KIND, lesson.key)
        return None

    left_at = await in_session(work)
    if left_at is not None:
        offer_to_continue(dispatcher, lesson, left_at.position + 1)
        return
    _introduce(dispatcher, lesson)
    show_position(dispatcher, lesson, 1)


async def go_to_position(
    dispatcher: CollectingDispatcher, tracker: Tracker, lesson: Lesson, number: int
) -> None:
    """Show card or question `number`; 1 starts over. Questions cannot be skipped: a number past
    the first unanswered question shows that question."""

    def work(session: Session) -> int:
        if number <= 1:
            begin_attempt(session, tracker, KIND, lesson.key)
            return 1
        progress = ongoing_attempt(session, tracker, KIND, lesson.key)
        target = min(number, lesson.length) - 1
        if target >= len(lesson.cards):
            target = max(len(lesson.cards), min(target, progress.position))
        move_to(session=session, progress=progress, position=target)
        return target + 1

    shown = await in_session(work)
    if shown == 1:
        _introduce(dispatcher, lesson)
    elif shown == len(lesson.cards) + 1:
        dispatcher.utter_message(text="Dạ, giờ mình trả lời mấy câu hỏi nhỏ để nhớ bài nhé.")
    show_position(dispatcher, lesson, shown)


def _finish_messages(
    dispatcher: CollectingDispatcher, lesson: Lesson, correct: int, done: set[str]
) -> None:
    total = len(lesson.quiz)
    text = (
        f'🎉 Chúc mừng anh/chị đã học xong bài "{lesson.name}"! '
        f"Anh/chị trả lời đúng {correct}/{total} câu."
    )
    if not lesson.passed(correct):
        text += " Anh/chị có thể học lại để nhớ kỹ hơn nhé."
    following = find_lesson(lesson.next)
    if following is None or following.key in done:
        following = next((item for item in lesson_order() if item.key not in done), None)
    buttons = [lesson_button(following, f"Học tiếp: {following.short_name}")] if following else []
    dispatcher.utter_message(text=text, buttons=[*buttons, MENU_BUTTON])


async def answer_question(
    dispatcher: CollectingDispatcher, tracker: Tracker, lesson: Lesson, index: int, choice: int
) -> None:
    """Explain the chosen answer; count it once, when it answers the current question."""
    question = lesson.quiz[index - 1]
    option = question.options[choice - 1]
    resident = tracker.sender_id
    expected = len(lesson.cards) + index - 1

    def work(session: Session) -> tuple[int, int | None, set[str]]:
        """(position to show next, right answers when the lesson was just finished, done)."""
        progress = get_progress(session=session, resident_id=resident, kind=KIND, key=lesson.key)
        if progress is None or progress.completed_at is not None or progress.position != expected:
            current = progress.position if progress and progress.completed_at is None else expected
            return current + 1, None, set()
        progress.correct += int(option.correct)
        record_for_tracker(
            session, tracker, EventType.QUIZ_ANSWERED, key=lesson.key, value=int(option.correct)
        )
        if index < len(lesson.quiz):
            move_to(session=session, progress=progress, position=expected + 1)
            return expected + 2, None, set()
        complete_flow(session=session, progress=progress)
        record_for_tracker(
            session,
            tracker,
            EventType.LESSON_COMPLETED,
            key=lesson.key,
            value=progress.correct / len(lesson.quiz),
        )
        return 0, progress.correct, completed_keys(session=session, resident_id=resident, kind=KIND)

    show_next, finished_with, done = await in_session(work)
    if option.correct:
        dispatcher.utter_message(text=f"✅ Đúng rồi ạ! {option.explanation}")
    else:
        right = next(o for o in question.options if o.correct)
        dispatcher.utter_message(
            text=f"Chưa đúng ạ. {option.explanation}\nĐáp án đúng: {right.text}."
        )
    if finished_with is not None:
        _finish_messages(dispatcher, lesson, finished_with, done)
    else:
        show_position(dispatcher, lesson, show_next)


class ActionLessonMenu(Action):
    """start_lessons: every lesson, in order, marked when done."""

    def name(self) -> str:
        return "action_lesson_menu"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        done = await in_session(
            lambda session: completed_keys(
                session=session, resident_id=tracker.sender_id, kind=KIND
            )
        )
        lessons = lesson_order()
        finished = sum(lesson.key in done for lesson in lessons)
        dispatcher.utter_message(
            text="Dạ, đây là các bài học kỹ năng số ngắn, mỗi bài vài phút, có câu hỏi nhỏ ở "
            f"cuối. Anh/chị đã học xong {finished}/{len(lessons)} bài. Anh/chị chọn một bài nhé:",
            buttons=[
                lesson_button(lesson, f"✅ {lesson.short_name}" if lesson.key in done else None)
                for lesson in lessons
            ],
        )
        return []


class ActionLesson(Action):
    """A `lesson_<key>` intent: start (or offer to continue) that lesson."""

    def name(self) -> str:
        return "action_lesson"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        intent = intent_name(tracker)
        lesson = find_lesson(intent.removeprefix(LESSON_INTENT_PREFIX))
        if lesson is None:
            return await ActionLessonMenu().run(dispatcher, tracker, domain)
        await start_lesson(dispatcher, tracker, lesson)
        return []


class ActionAnswerQuiz(Action):
    """A quiz answer button: `/answer_quiz{"lesson": key, "q": question, "a": option}`."""

    def name(self) -> str:
        return "action_answer_quiz"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        lesson = find_lesson(str_entity(tracker, "lesson"))
        index, choice = int_entity(tracker, "q"), int_entity(tracker, "a")
        if (
            lesson is None
            or index is None
            or choice is None
            or not 1 <= index <= len(lesson.quiz)
            or not 1 <= choice <= len(lesson.quiz[index - 1].options)
        ):
            dispatcher.utter_message(
                text="Dạ, em chưa nhận ra câu trả lời này. Anh/chị chọn lại bài học giúp em nhé.",
                buttons=[MENU_BUTTON],
            )
            return []
        await answer_question(dispatcher, tracker, lesson, index, choice)
        return []
