"""The Rasa domain as tests read it."""

from __future__ import annotations

import yaml

from core.settings import PROJECT_ROOT


def domain_intents(prefix: str = "") -> set[str]:
    """The intents of data/domain.yml, optionally only those starting with `prefix`."""
    with (PROJECT_ROOT / "data" / "domain.yml").open(encoding="utf-8") as handle:
        intents: list[str] = yaml.safe_load(handle)["intents"]
    return {intent for intent in intents if intent.startswith(prefix)}
