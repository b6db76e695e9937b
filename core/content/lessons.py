"""Digital-skills lessons: the schema of `data/lessons/<key>.yml` and its loader.

A lesson is 3–6 short cards, then a 2–4 question quiz with buttons and an explanation for every
answer. Each lesson names which of the "5 basic digital skills" (guidance 3240/BTTTT-CĐSQG) it
serves.
"""

from __future__ import annotations

import enum
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import Field, HttpUrl, model_validator

from core.content.common import (
    BUTTON_TITLE_LIMIT,
    ContentKey,
    Keyed,
    ShortText,
    Source,
    Strict,
    checked_key,
    existing_file,
    load_keyed_file,
)
from core.settings import PROJECT_ROOT

LESSONS_DIR = PROJECT_ROOT / "data" / "lessons"
LESSON_INTENT_PREFIX = "lesson_"
PASS_SHARE = 0.5  # a quiz is passed with at least half of the answers right


class BasicSkill(enum.StrEnum):
    """The 5 basic digital skills every household should have one person fluent in."""

    PUBLIC_SERVICES = "public_services"  # dịch vụ công trực tuyến
    ONLINE_SHOPPING = "online_shopping"  # mua sắm trực tuyến
    ONLINE_PAYMENT = "online_payment"  # thanh toán trực tuyến
    ONLINE_SAFETY = "online_safety"  # bảo vệ bản thân trên môi trường số
    LOCAL_PLATFORMS = "local_platforms"  # sử dụng các nền tảng số của địa phương


ButtonTitle = Annotated[str, Field(min_length=1, max_length=BUTTON_TITLE_LIMIT)]


class Card(Strict):
    """One screen of the lesson."""

    title: Annotated[str, Field(min_length=3, max_length=80)]
    text: ShortText
    link: HttpUrl | None = None


class Option(Strict):
    """One answer button, with what the bot says when it is chosen."""

    text: ButtonTitle
    correct: bool = False
    explanation: ShortText


class Question(Strict):
    question: ShortText
    options: list[Option] = Field(min_length=2, max_length=4)

    @model_validator(mode="after")
    def _one_correct_answer(self) -> Question:
        if sum(option.correct for option in self.options) != 1:
            raise ValueError("a question needs exactly one correct option")
        if len({option.text for option in self.options}) != len(self.options):
            raise ValueError("options of a question must differ")
        return self


class Lesson(Keyed):
    """One short lesson."""

    name: Annotated[str, Field(min_length=3, max_length=80)]
    short_name: Annotated[str, Field(min_length=3, max_length=32)]  # on buttons
    skills: list[BasicSkill] = Field(min_length=1)
    summary: ShortText
    cards: list[Card] = Field(min_length=3, max_length=6)
    quiz: list[Question] = Field(min_length=2, max_length=4)
    next: ContentKey | None = None
    sources: list[Source] = Field(min_length=1)
    as_of: date

    @property
    def intent(self) -> str:
        return f"{LESSON_INTENT_PREFIX}{self.key}"

    @property
    def length(self) -> int:
        """Positions in the lesson: every card, then every question."""
        return len(self.cards) + len(self.quiz)

    def passed(self, correct: int) -> bool:
        return correct >= PASS_SHARE * len(self.quiz)


def load_lesson_file(path: Path) -> Lesson:
    return load_keyed_file(Lesson, path)


@lru_cache
def load_lesson(key: str) -> Lesson:
    """The validated lesson for `key` (cached: lessons change only with a deploy)."""
    return load_lesson_file(LESSONS_DIR / f"{checked_key(key)}.yml")


def lesson_keys() -> list[str]:
    return sorted(path.stem for path in LESSONS_DIR.glob("*.yml"))


def lesson_order() -> list[Lesson]:
    """Every lesson in the suggested order: along the `next` chain from the one nothing leads
    to; lessons outside the chain follow by key."""
    lessons = {key: load_lesson(key) for key in lesson_keys()}
    pointed_to = {lesson.next for lesson in lessons.values()}
    ordered: list[Lesson] = []
    for head in (key for key in lessons if key not in pointed_to):
        lesson: Lesson | None = lessons[head]
        while lesson is not None and lesson not in ordered:
            ordered.append(lesson)
            lesson = lessons.get(lesson.next) if lesson.next else None
    return ordered + [lesson for lesson in lessons.values() if lesson not in ordered]


def find_lesson(key: str | None) -> Lesson | None:
    """The Lesson for `key`, or None when there is none."""
    return load_lesson(key) if key and existing_file(LESSONS_DIR, key) else None
