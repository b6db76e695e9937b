"""Which known problem a screen shows: the OCR text against the guides' `screen_texts`.

Both sides are folded the same way (lower case, no diacritics, `đ` → `d`, anything but
letters and digits → one space), because OCR of a phone photo loses tone marks more often
than letters. Each screen text is then looked for in the screen with rapidfuzz's
`partial_ratio` (the best-aligned window of the screen, 0–100), which tolerates a few misread
letters; a screen shorter than the text is compared whole. A screen is matched only when one
problem's best score reaches `MATCH_THRESHOLD` and every other problem stays at least
`MATCH_MARGIN` below it: an unknown or ambiguous screen is "unknown" (None), never a guess.
Both numbers were measured on the bench's test set (`make bench-screens`,
docs/benchmarks/screens.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz

from core.content.services import SERVICES_DIR, ServiceGuide, load_guide_file
from nlu.vietnamese import strip_diacritics

MATCH_THRESHOLD = 88.0
MATCH_MARGIN = 6.0

_NOT_WORD = re.compile(r"[^0-9a-z]+")


def fold(text: str) -> str:
    """Lower case, no diacritics, words separated by one space ("Mã OTP!" → "ma otp")."""
    return _NOT_WORD.sub(" ", strip_diacritics(text).lower()).strip()


@dataclass(frozen=True)
class ScreenProblem:
    """One problem of a guide: its service, step (from 1) and place among the step's problems."""

    service: str
    step: int
    index: int

    @property
    def key(self) -> str:
        """The `screen_read` event's key, e.g. "vneid_activation.5.2"."""
        return f"{self.service}.{self.step}.{self.index}"

    @classmethod
    def from_key(cls, key: str) -> ScreenProblem | None:
        """The problem named by `key` (as `.key` writes it), or None for anything else."""
        parts = key.split(".")
        if len(parts) != 3 or not parts[1].isdigit() or not parts[2].isdigit():
            return None
        return cls(parts[0], int(parts[1]), int(parts[2]))


@dataclass(frozen=True)
class Match:
    """The best problem for a screen (None: unknown) and the scores that decided it."""

    problem: ScreenProblem | None
    score: float  # the best problem's score, 0–100
    runner_up: float  # the best score of any other problem


ScreenIndex = tuple[tuple[str, ScreenProblem], ...]


def index_guides(guides: list[ServiceGuide]) -> ScreenIndex:
    """Every folded screen text with its problem. The same text on two problems is refused:
    a screen showing it could not be told apart."""
    entries: dict[str, ScreenProblem] = {}
    for guide in guides:
        for step_number, step in enumerate(guide.steps, start=1):
            for index, problem in enumerate(step.problems):
                for text in problem.screen_texts:
                    folded, here = fold(text), ScreenProblem(guide.key, step_number, index)
                    if entries.setdefault(folded, here) != here:
                        raise ValueError(f"screen text {text!r} is on two problems")
    return tuple(entries.items())


@lru_cache
def guide_index() -> ScreenIndex:
    """The index of every guide in data/services (cached: guides change only with a deploy)."""
    return index_guides([load_guide_file(path) for path in sorted(SERVICES_DIR.glob("*.yml"))])


def _found(needle: str, screen: str) -> float:
    """How well `needle` appears in `screen`, 0–100. `partial_ratio` aligns the shorter string
    inside the longer: a screen shorter than the needle (a lone "Số điện thoại") would score
    100 inside it, so such a screen is compared whole."""
    if len(screen) < len(needle):
        return float(fuzz.ratio(needle, screen))
    return float(fuzz.partial_ratio(needle, screen))


def match_screen(
    text: str,
    index: ScreenIndex | None = None,
    *,
    threshold: float = MATCH_THRESHOLD,
    margin: float = MATCH_MARGIN,
) -> Match:
    """The problem whose screen text `text` (read off a screen) shows, or None."""
    screen = fold(text)
    best: dict[ScreenProblem, float] = {}
    for needle, problem in guide_index() if index is None else index:
        score = _found(needle, screen)
        best[problem] = max(score, best.get(problem, 0.0))
    ranked = sorted(best.items(), key=lambda item: item[1], reverse=True)
    if not ranked:
        return Match(None, 0.0, 0.0)
    (top, score), runner_up = ranked[0], (ranked[1][1] if len(ranked) > 1 else 0.0)
    known = score >= threshold and score - runner_up >= margin
    return Match(top if known else None, score, runner_up)
