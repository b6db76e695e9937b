"""Lessons: the menu, cards one at a time, a quiz counted once, progress, congratulations."""

from __future__ import annotations

from actions.lessons import ActionAnswerQuiz, ActionLesson, ActionLessonMenu
from actions.navigation import ActionNextStep, ActionResume
from core.content.lessons import lesson_order, load_lesson
from tests.actions.helpers import (
    assert_one_question_last,
    payload_of,
    recorded,
    run_action,
    texts,
    titles,
)
from tests.factories import make_tracker, press

LESSON = load_lesson("safe_passwords")
CARDS = len(LESSON.cards)


def _right(index: int) -> int:
    """1-based number of the right option of question `index` (1-based)."""
    options = LESSON.quiz[index - 1].options
    return next(n for n, option in enumerate(options, start=1) if option.correct)


async def _answer(resident: str, index: int, choice: int) -> list[dict[str, object]]:
    payload = f'/answer_quiz{{"lesson":"safe_passwords","q":{index},"a":{choice}}}'
    events, messages = await run_action(ActionAnswerQuiz(), press(payload, sender_id=resident))
    assert events == []
    return messages


async def _open(resident: str) -> list[dict[str, object]]:
    _, messages = await run_action(
        ActionLesson(), make_tracker("lesson_safe_passwords", sender_id=resident)
    )
    return messages


async def _through_the_cards(
    resident: str, opening: list[dict[str, object]] | None = None
) -> list[dict[str, object]]:
    messages = opening or await _open(resident)
    for _ in range(CARDS):
        _, messages = await run_action(
            ActionNextStep(), press(payload_of(messages[-1], "Tiếp theo"), sender_id=resident)
        )
    return messages


async def test_menu_lists_every_lesson_in_order_and_marks_done(app_database: str) -> None:
    _, messages = await run_action(
        ActionLessonMenu(), make_tracker("start_lessons", sender_id="m1")
    )
    order = lesson_order()
    assert "đã học xong 0/7 bài" in texts(messages)[0]
    assert titles(messages[0]) == [lesson.short_name for lesson in order]
    assert payload_of(messages[0], order[0].short_name) == f"/lesson_{order[0].key}"

    await _through_the_cards("m1")
    for index in range(1, len(LESSON.quiz) + 1):
        await _answer("m1", index, _right(index))
    _, after = await run_action(ActionLessonMenu(), make_tracker("start_lessons", sender_id="m1"))
    assert "đã học xong 1/7 bài" in texts(after)[0]
    assert f"✅ {LESSON.short_name}" in titles(after[0])


async def test_a_lesson_from_first_card_to_congratulations(app_database: str) -> None:
    opening = await _open("l1")
    assert texts(opening)[0].startswith(f'Dạ, mình học bài "{LESSON.name}" nhé.')
    assert texts(opening)[1].startswith(f"📖 1/{CARDS} – {LESSON.cards[0].title}")
    assert titles(opening[1]) == ["Tiếp theo", "Thoát"]
    assert_one_question_last(opening)

    question = (await _through_the_cards("l1", opening))[-1]
    assert str(question["text"]).startswith(f"Câu 1/{len(LESSON.quiz)}: ")
    assert titles(question) == [o.text for o in LESSON.quiz[0].options]

    wrong = next(n for n in range(1, 5) if n != _right(1))
    explained = await _answer("l1", 1, wrong)
    assert texts(explained)[0].startswith("Chưa đúng ạ. ")
    assert f"Đáp án đúng: {LESSON.quiz[0].options[_right(1) - 1].text}." in texts(explained)[0]
    assert texts(explained)[1].startswith(f"Câu 2/{len(LESSON.quiz)}: ")

    for index in range(2, len(LESSON.quiz) + 1):
        last = await _answer("l1", index, _right(index))
        assert texts(last)[0].startswith("✅ Đúng rồi ạ! ")
    total = len(LESSON.quiz)
    assert texts(last)[-1].startswith(f'🎉 Chúc mừng anh/chị đã học xong bài "{LESSON.name}"!')
    assert f"đúng {total - 1}/{total} câu" in texts(last)[-1]
    suggested = load_lesson(LESSON.next or "")
    assert payload_of(last[-1], f"Học tiếp: {suggested.short_name}") == f"/lesson_{suggested.key}"

    assert recorded("l1") == [
        ("lesson_started", "safe_passwords", None),
        ("quiz_answered", "safe_passwords", 0.0),
        *[("quiz_answered", "safe_passwords", 1.0)] * (total - 1),
        ("lesson_completed", "safe_passwords", (total - 1) / total),
    ]


async def test_an_answer_is_counted_once(app_database: str) -> None:
    await _through_the_cards("l2")
    await _answer("l2", 1, _right(1))
    again = await _answer("l2", 1, _right(1))
    assert texts(again)[0].startswith("✅ Đúng rồi ạ!")
    assert texts(again)[1].startswith("Câu 2/")
    assert [e[0] for e in recorded("l2")].count("quiz_answered") == 1


async def test_questions_cannot_be_skipped(app_database: str) -> None:
    await _through_the_cards("l3")
    ahead = await _answer("l3", 3, 1)
    assert texts(ahead)[-1].startswith("Câu 1/")
    _, typed = await run_action(ActionNextStep(), make_tracker("next_step", sender_id="l3"))
    assert texts(typed)[-1].startswith("Câu 1/")
    far = f'/next_step{{"lesson":"safe_passwords","step":{CARDS + 3}}}'
    _, pressed = await run_action(ActionNextStep(), press(far, sender_id="l3"))
    assert texts(pressed)[-1].startswith("Câu 1/")
    assert [e[0] for e in recorded("l3")] == ["lesson_started"]


async def test_leave_a_lesson_and_resume_it(app_database: str) -> None:
    _, opening = await run_action(
        ActionLesson(), make_tracker("lesson_safe_passwords", sender_id="l4")
    )
    await run_action(ActionNextStep(), press(payload_of(opening[-1], "Tiếp theo"), sender_id="l4"))

    _, resumed = await run_action(ActionResume(), make_tracker("resume", sender_id="l4"))
    assert texts(resumed)[-1].startswith(f"📖 2/{CARDS} – ")

    _, asked_again = await run_action(
        ActionLesson(), make_tracker("lesson_safe_passwords", sender_id="l4")
    )
    assert titles(asked_again[0]) == ["Học tiếp", "Học lại từ đầu"]
    assert (
        payload_of(asked_again[0], "Học tiếp") == '/next_step{"lesson":"safe_passwords","step":2}'
    )


async def test_a_bad_answer_payload_gets_a_polite_way_back(app_database: str) -> None:
    for payload in (
        '/answer_quiz{"lesson":"safe_passwords","q":9,"a":1}',
        '/answer_quiz{"lesson":"nope","q":1,"a":1}',
        "/answer_quiz",
    ):
        _, messages = await run_action(ActionAnswerQuiz(), press(payload, sender_id="l5"))
        assert titles(messages[0]) == ["Danh sách bài học"]
    assert recorded("l5") == []


async def test_an_old_button_of_a_finished_lesson_starts_it_again(app_database: str) -> None:
    await _through_the_cards("l6")
    for index in range(1, len(LESSON.quiz) + 1):
        await _answer("l6", index, _right(index))
    old = '/next_step{"lesson":"safe_passwords","step":2}'
    _, card = await run_action(ActionNextStep(), press(old, sender_id="l6"))
    assert texts(card)[-1].startswith(f"📖 2/{CARDS} – ")
    assert [e[0] for e in recorded("l6")].count("lesson_started") == 2
    _, resumed = await run_action(ActionResume(), make_tracker("resume", sender_id="l6"))
    assert texts(resumed)[-1].startswith(f"📖 2/{CARDS} – ")


async def test_the_first_turn_of_every_lesson_is_one_question_last(app_database: str) -> None:
    for lesson in lesson_order():
        _, opening = await run_action(ActionLesson(), make_tracker(lesson.intent, sender_id="l7"))
        assert_one_question_last(opening)
        assert titles(opening[-1]) == ["Tiếp theo", "Thoát"]
