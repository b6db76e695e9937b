"""Lexicon features for the NLU benchmark: lookup tables from our own content.

One option `make bench-nlu` measures (issue 17): Rasa's RegexFeaturizer fed with lookup tables
of what residents name — every commune, ward and province in force since July 2025 (names of
two syllables or more; `core/places.py`) and, per service guide, its `aliases`
(`data/services/<key>.yml`), each written with and without diacritics — plus one regular
expression for the words before a place name ("xã", "phường", "tỉnh", "thôn"…). The tables go
into a copy of the training data, so the option is measured without changing `data/nlu/`.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from cns.nlu_eval import TRAINING_DIR
from core.content.services import SERVICES_DIR, load_guide_file
from core.places import communes, provinces
from nlu.vietnamese import strip_diacritics

PLACE_WORDS = r"\b(xã|xa|phường|phuong|tỉnh|tinh|huyện|huyen|thôn|thon|tp|thành phố|thanh pho)\b"


def _both_ways(names: Iterable[str]) -> str:
    """A lookup table's examples: each name lower-cased, with and without diacritics."""
    forms: set[str] = set()
    for name in names:
        name = " ".join(name.lower().split())
        forms.update((name, strip_diacritics(name)))
    return "".join(f"- {form}\n" for form in sorted(forms))


def lookup_tables() -> list[dict[str, Any]]:
    places = [c.short for c in communes() if len(c.short.split()) >= 2]
    places += [p.short for p in provinces()]
    tables: list[dict[str, Any]] = [{"lookup": "place_name", "examples": _both_ways(places)}]
    for path in sorted(SERVICES_DIR.glob("*.yml")):
        guide = load_guide_file(path)
        tables.append({"lookup": guide.intent, "examples": _both_ways(guide.aliases)})
    tables.append({"regex": "place_word", "examples": f"- {PLACE_WORDS}\n"})
    return tables


def with_lexicon(out: Path, nlu: Path = TRAINING_DIR) -> Path:
    """A copy of the training data in `nlu` with the lookup tables added as lexicon.yml."""
    directory = out / "nlu_lexicon"
    shutil.copytree(nlu, directory)
    data = {"version": "3.1", "nlu": lookup_tables()}
    (directory / "lexicon.yml").write_text(
        yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    return directory
