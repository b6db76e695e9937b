"""Words a resident may not know (VNeID, OTP, mã hồ sơ…): the schema of `data/glossary.yml`.

A guide explains each word once, at its first use: `first_uses` says which words a text is the
first of a sequence of texts to use.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from functools import lru_cache
from typing import Annotated

from pydantic import Field

from core.content.common import Keyed, Source, Strict, load_keyed_file
from core.settings import PROJECT_ROOT

GLOSSARY_FILE = PROJECT_ROOT / "data" / "glossary.yml"
MEANING_LIMIT = 100  # one line on a phone

Word = Annotated[str, Field(min_length=2, max_length=40)]


class Term(Strict):
    term: Word
    forms: list[Word] = Field(default_factory=list)  # other spellings that count as a use
    meaning: Annotated[str, Field(min_length=3, max_length=MEANING_LIMIT)]

    def used_in(self, text: str) -> bool:
        """True when `text` has any spelling as a whole word, whatever the case."""
        spellings = "|".join(re.escape(s) for s in sorted({self.term, *self.forms}))
        return re.search(rf"(?<!\w)(?:{spellings})(?!\w)", text, re.IGNORECASE) is not None

    @property
    def line(self) -> str:
        return f"💡 {self.term}: {self.meaning}"


class Glossary(Keyed):
    terms: list[Term] = Field(min_length=1)
    sources: list[Source] = Field(min_length=1)
    as_of: date


@lru_cache
def load_glossary() -> Glossary:
    return load_keyed_file(Glossary, GLOSSARY_FILE)


def first_uses(texts: Sequence[str]) -> list[list[Term]]:
    """For each of `texts`, in order, the glossary words no earlier text used."""
    seen: set[str] = set()
    found: list[list[Term]] = []
    for text in texts:
        new = [t for t in load_glossary().terms if t.term not in seen and t.used_in(text)]
        seen.update(t.term for t in new)
        found.append(new)
    return found
