"""Emergency paths (a resident being scammed right now): the schema of `data/emergency/<key>.yml`.

Calm, immediate steps come first, one per message, then an urgent offer of a human.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache

from pydantic import Field

from core.content.common import Keyed, ShortText, Source, checked_key, load_keyed_file
from core.settings import PROJECT_ROOT

EMERGENCY_DIR = PROJECT_ROOT / "data" / "emergency"


class EmergencyGuide(Keyed):
    opening: ShortText
    steps: list[ShortText] = Field(min_length=3, max_length=8)
    handoff: ShortText
    sources: list[Source] = Field(min_length=1)
    as_of: date


@lru_cache
def load_emergency(key: str) -> EmergencyGuide:
    return load_keyed_file(EmergencyGuide, EMERGENCY_DIR / f"{checked_key(key)}.yml")
