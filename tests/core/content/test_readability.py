"""Readability of what residents read: words per sentence in every guide step (with its common
problems and fixes) and every lesson part (cards, quiz questions, answer explanations).

A sentence ends at ".", "!", "?" or "…" followed by a space or the end, or at a line break (so
"dichvucong.gov.vn" and "1.000.000 đồng" are not cut); words are what whitespace separates
(in Vietnamese, syllables). The distribution (mean, maximum, the 5 worst parts) is written to
the terminal and recorded as properties of the test; the ceilings fail the test with every
sentence over them, for the content owner to shorten.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from core.content.lessons import lesson_keys, load_lesson
from core.content.services import SERVICES_DIR, load_service_guide

MAX_WORDS = 30  # in one sentence
MAX_MEAN_WORDS = 15.0  # over all sentences (12.4 in December 2026)
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\n+")


@dataclass(frozen=True)
class Sentence:
    part: str  # where a resident reads it, e.g. "birth_registration step 2"
    text: str

    @property
    def words(self) -> int:
        return len(self.text.split())


def sentences(part: str, text: str) -> list[Sentence]:
    return [Sentence(part, s) for s in _SENTENCE_END.split(text) if s.split()]


def _guide_sentences() -> list[Sentence]:
    found: list[Sentence] = []
    for path in sorted(SERVICES_DIR.glob("*.yml")):
        guide = load_service_guide(path.stem)
        for number, step in enumerate(guide.steps, start=1):
            part = f"{guide.key} step {number}"
            found += sentences(part, step.text)
            for problem in step.problems:
                found += sentences(f"{part} (problem)", f"{problem.problem}\n{problem.fix}")
    return found


def _lesson_sentences() -> list[Sentence]:
    found: list[Sentence] = []
    for key in lesson_keys():
        lesson = load_lesson(key)
        for number, card in enumerate(lesson.cards, start=1):
            found += sentences(f"{key} card {number}", card.text)
        for number, question in enumerate(lesson.quiz, start=1):
            found += sentences(f"{key} question {number}", question.question)
            for option in question.options:
                found += sentences(f"{key} question {number} answer", option.explanation)
    return found


def test_sentence_splitting_keeps_addresses_and_numbers_whole() -> None:
    text = "Vào dichvucong.gov.vn. Lệ phí 1.000.000 đồng!\nXong chưa? Rồi… tiếp"
    assert [s.text for s in sentences("x", text)] == [
        "Vào dichvucong.gov.vn.",
        "Lệ phí 1.000.000 đồng!",
        "Xong chưa?",
        "Rồi…",
        "tiếp",
    ]
    assert Sentence("x", "Bấm  nút\tTiếp theo").words == 4


def test_guides_and_lessons_use_short_sentences(
    capsys: pytest.CaptureFixture[str], record_property: Callable[[str, object], None]
) -> None:
    every = _guide_sentences() + _lesson_sentences()
    mean = statistics.mean(s.words for s in every)
    worst: dict[str, int] = {}
    for sentence in sorted(every, key=lambda s: s.words, reverse=True):
        worst.setdefault(sentence.part, sentence.words)
    worst_five = ", ".join(f"{part} ({words})" for part, words in list(worst.items())[:5])
    summary = (
        f"readability: {len(every)} sentences, {mean:.1f} words on average, at most "
        f"{max(worst.values())}; longest in {worst_five}"
    )
    record_property("mean_words_per_sentence", round(mean, 1))
    record_property("worst_parts", worst_five)
    with capsys.disabled():
        print(f"\n{summary}")

    too_long = [f"- {s.part} ({s.words} words): {s.text}" for s in every if s.words > MAX_WORDS]
    assert not too_long, f"sentences over {MAX_WORDS} words:\n" + "\n".join(too_long)
    assert mean <= MAX_MEAN_WORDS, summary
