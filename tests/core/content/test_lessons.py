"""Lessons: every file validates, the chain covers them all, and the schema rejects bad quizzes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from core.content.common import BUTTON_TITLE_LIMIT
from core.content.lessons import (
    LESSONS_DIR,
    BasicSkill,
    find_lesson,
    lesson_order,
    load_lesson_file,
)
from tests.domain import domain_intents

LESSON_FILES = sorted(LESSONS_DIR.glob("*.yml"))


def test_every_lesson_intent_has_a_lesson() -> None:
    assert len(domain_intents("lesson_")) == 7
    assert {f"lesson_{p.stem}" for p in LESSON_FILES} == domain_intents("lesson_")


@pytest.mark.parametrize("path", LESSON_FILES, ids=lambda p: p.stem)
def test_every_lesson_validates(path: Path) -> None:
    lesson = load_lesson_file(path)
    assert 3 <= len(lesson.cards) <= 6
    assert 2 <= len(lesson.quiz) <= 4
    for question in lesson.quiz:
        assert sum(o.correct for o in question.options) == 1
        assert all(len(o.text) <= BUTTON_TITLE_LIMIT for o in question.options)
    assert lesson.next is None or find_lesson(lesson.next) is not None


def test_lessons_cover_the_five_basic_skills_in_one_chain() -> None:
    order = lesson_order()
    assert next(lesson.key for lesson in order) == "smartphone_basics"
    assert len(order) == len(LESSON_FILES)
    assert [lesson.next for lesson in order[:-1]] == [lesson.key for lesson in order[1:]]
    assert order[-1].next is None
    assert {skill for lesson in order for skill in lesson.skills} == set(BasicSkill)


def _valid() -> dict[str, Any]:
    with (LESSONS_DIR / "safe_passwords.yml").open(encoding="utf-8") as handle:
        data: dict[str, Any] = yaml.safe_load(handle)
    return data


def _write(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "safe_passwords.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_a_question_needs_exactly_one_right_answer(tmp_path: Path) -> None:
    data = _valid()
    for option in data["quiz"][0]["options"]:
        option["correct"] = True
    with pytest.raises(ValidationError, match="exactly one correct"):
        load_lesson_file(_write(tmp_path, data))
    for option in data["quiz"][0]["options"]:
        option["correct"] = False
    with pytest.raises(ValidationError, match="exactly one correct"):
        load_lesson_file(_write(tmp_path, data))


def test_answer_buttons_and_explanations_are_bounded(tmp_path: Path) -> None:
    data = _valid()
    data["quiz"][0]["options"][0]["text"] = "x" * (BUTTON_TITLE_LIMIT + 1)
    with pytest.raises(ValidationError):
        load_lesson_file(_write(tmp_path, data))
    data = _valid()
    del data["quiz"][0]["options"][0]["explanation"]
    with pytest.raises(ValidationError):
        load_lesson_file(_write(tmp_path, data))


def test_too_many_cards_or_questions_are_rejected(tmp_path: Path) -> None:
    data = _valid()
    data["cards"] = data["cards"] * 3
    with pytest.raises(ValidationError):
        load_lesson_file(_write(tmp_path, data))
    data = _valid()
    data["quiz"] = data["quiz"][:1]
    with pytest.raises(ValidationError):
        load_lesson_file(_write(tmp_path, data))


def test_pass_mark_is_half_the_questions() -> None:
    lesson = load_lesson_file(LESSONS_DIR / "safe_passwords.yml")
    half = len(lesson.quiz) / 2
    assert lesson.passed(int(half + 0.5))
    assert not lesson.passed(int(half + 0.5) - 1)
