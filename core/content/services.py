"""Service guides: the schema of `data/services/<key>.yml` and its loader.

Every file is validated at load; a guide that does not validate is never shown to a resident.
The first turn of a walkthrough shows only `in_short` (what, cost and time in a few words) and
where it is done; the documents to prepare are one button away. `where_text`, `fee` and
`processing_time` keep the full, cited rules for the team and for reviewers.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, HttpUrl, model_validator

from core.content.common import (
    SCREEN_TEXT_LIMIT,
    Keyed,
    ShortText,
    Source,
    Strict,
    checked_key,
    existing_file,
    load_keyed_file,
)
from core.settings import PROJECT_ROOT

SERVICES_DIR = PROJECT_ROOT / "data" / "services"
STEP_TEXT_LIMIT = SCREEN_TEXT_LIMIT

Channel = Literal["vneid", "dichvucong", "commune_office", "police", "bank", "telco", "other"]
GlanceText = Annotated[str, Field(min_length=3, max_length=90)]


# The words an app or website shows on screen for a problem, as residents photograph them:
# at least 10 characters, so that a stray word read off a photo can never match on its own.
ScreenText = Annotated[str, Field(min_length=10, max_length=120)]


class Problem(Strict):
    """A common failure at a step and how to fix it.

    `screen_texts` are the messages the app shows for it, exactly as on screen (a resident's
    screenshot is matched against them, core/screens.py); `screen_source` says where that
    wording was seen, and is required with them.
    """

    problem: ShortText
    fix: ShortText
    screen_texts: list[ScreenText] = Field(default_factory=list)
    screen_source: Source | None = None

    @property
    def advice(self) -> str:
        """The problem and its fix as a resident sees them, in one bubble."""
        return f"❓ {self.problem}\n👉 {self.fix}"

    @model_validator(mode="after")
    def _screen_texts_sourced(self) -> Problem:
        if any(not text.strip() or text != text.strip() for text in self.screen_texts):
            raise ValueError("a screen text must not be blank or padded with spaces")
        if len(set(self.screen_texts)) != len(self.screen_texts):
            raise ValueError("a screen text is listed twice")
        if self.screen_texts and self.screen_source is None:
            raise ValueError("screen_texts need a screen_source: where that wording was seen")
        if self.screen_source is not None and not self.screen_texts:
            raise ValueError("screen_source without screen_texts")
        return self


class Step(Strict):
    title: Annotated[str, Field(min_length=3, max_length=80)]
    text: ShortText
    link: HttpUrl | None = None
    problems: list[Problem] = Field(default_factory=list)


class InShort(Strict):
    """The overview bubble in a few words: "em hướng dẫn anh/chị <what> ạ", fee and time."""

    what: GlanceText  # plain words, lower case, e.g. "đăng ký khai sinh cho bé"
    fee: GlanceText  # e.g. "miễn phí nếu khai trong 60 ngày"
    time: GlanceText  # e.g. "khoảng 3 ngày làm việc"


class ServiceGuide(Keyed):
    """One public service, walked through step by step."""

    name: Annotated[str, Field(min_length=3, max_length=120)]
    aliases: list[str] = Field(min_length=1)
    audience: ShortText
    where: list[Channel] = Field(min_length=1)
    where_text: ShortText
    in_short: InShort
    documents: list[ShortText]
    fee: ShortText
    processing_time: ShortText
    steps: list[Step] = Field(min_length=3, max_length=10)
    handoff_when: list[ShortText] = Field(min_length=1)
    sources: list[Source] = Field(min_length=1)
    as_of: date

    @property
    def intent(self) -> str:
        return f"service_{self.key}"


def load_guide_file(path: Path) -> ServiceGuide:
    """Read and validate one guide file; its `key` must match the file name."""
    return load_keyed_file(ServiceGuide, path)


@lru_cache
def load_service_guide(key: str) -> ServiceGuide:
    """The validated guide for `key` (cached: guides change only with a deploy)."""
    return load_guide_file(SERVICES_DIR / f"{checked_key(key)}.yml")


def find_service_guide(key: str | None) -> ServiceGuide | None:
    """The ServiceGuide for `key`, or None when there is none."""
    return load_service_guide(key) if key and existing_file(SERVICES_DIR, key) else None
