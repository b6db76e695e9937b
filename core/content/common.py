"""Pieces every content file shares: strict models, phone-screen text and cited sources."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, HttpUrl, model_validator

SCREEN_TEXT_LIMIT = 350  # one phone screen
BUTTON_TITLE_LIMIT = 60  # fits a Telegram or Zalo button on a small phone

ShortText = Annotated[str, Field(min_length=1, max_length=SCREEN_TEXT_LIMIT)]
ContentKey = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=24)]


class Strict(BaseModel):
    """Content models reject unknown keys and are immutable once loaded."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(Strict):
    """Where a fact comes from: an official page or a legal document."""

    title: str = Field(min_length=3)
    url: HttpUrl | None = None
    document: str | None = None  # e.g. "Nghị định 69/2024/NĐ-CP"

    @model_validator(mode="after")
    def _url_or_document(self) -> Source:
        if self.url is None and self.document is None:
            raise ValueError("a source needs a url or a legal document reference")
        return self


class Keyed(Strict):
    """A content file whose `key` must equal its file name."""

    key: ContentKey


K = TypeVar("K", bound=Keyed)


def load_keyed_file(model: type[K], path: Path) -> K:
    """Read and validate one content file; its `key` must match the file name."""
    with path.open(encoding="utf-8") as handle:
        raw = yaml.safe_load(handle)
    item = model.model_validate(raw)
    if item.key != path.stem:
        raise ValueError(f"{path.name}: key {item.key!r} does not match the file name")
    return item


def checked_key(key: str) -> str:
    """`key` if it can name a content file (no path tricks), else ValueError."""
    if not key.replace("_", "").isalnum() or not key.isascii():
        raise ValueError(f"not a content key: {key!r}")
    return key


def existing_file(directory: Path, key: str | None) -> Path | None:
    """`directory/<key>.yml` if `key` is a content key and the file exists."""
    if not key:
        return None
    try:
        path = directory / f"{checked_key(key)}.yml"
    except ValueError:
        return None
    return path if path.is_file() else None
