"""Service guides: the schema of `data/services/<key>.yml` and its loader.

Every file is validated at load; a guide that does not validate is never shown to a resident.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, HttpUrl, model_validator

from core.settings import PROJECT_ROOT

SERVICES_DIR = PROJECT_ROOT / "data" / "services"
STEP_TEXT_LIMIT = 350  # one phone screen

ShortText = Annotated[str, Field(min_length=1, max_length=STEP_TEXT_LIMIT)]
Channel = Literal["vneid", "dichvucong", "commune_office", "police", "bank", "telco", "other"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(_Strict):
    """Where a fact comes from: an official page or a legal document."""

    title: str = Field(min_length=3)
    url: HttpUrl | None = None
    document: str | None = None  # e.g. "Nghị định 69/2024/NĐ-CP"

    @model_validator(mode="after")
    def _url_or_document(self) -> Source:
        if self.url is None and self.document is None:
            raise ValueError("a source needs a url or a legal document reference")
        return self


class Problem(_Strict):
    """A common failure at a step and how to fix it."""

    problem: ShortText
    fix: ShortText


class Step(_Strict):
    title: Annotated[str, Field(min_length=3, max_length=80)]
    text: ShortText
    link: HttpUrl | None = None
    problems: list[Problem] = Field(default_factory=list)


class ServiceGuide(_Strict):
    """One public service, walked through step by step."""

    key: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    name: Annotated[str, Field(min_length=3, max_length=120)]
    aliases: list[str] = Field(min_length=1)
    audience: ShortText
    where: list[Channel] = Field(min_length=1)
    where_text: ShortText
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
    with path.open(encoding="utf-8") as handle:
        raw = yaml.safe_load(handle)
    guide = ServiceGuide.model_validate(raw)
    if guide.key != path.stem:
        raise ValueError(f"{path.name}: key {guide.key!r} does not match the file name")
    return guide


@lru_cache
def load_service_guide(key: str) -> ServiceGuide:
    """The validated guide for `key` (cached: guides change only with a deploy)."""
    if not key.replace("_", "").isalnum():
        raise ValueError(f"not a service key: {key!r}")
    return load_guide_file(SERVICES_DIR / f"{key}.yml")
