"""The Rasa domain as tests read it."""

from __future__ import annotations

import yaml

from core.settings import PROJECT_ROOT


def domain_intents(prefix: str = "") -> set[str]:
    """The intents of data/domain.yml, optionally only those starting with `prefix`."""
    with (PROJECT_ROOT / "data" / "domain.yml").open(encoding="utf-8") as handle:
        intents: list[str] = yaml.safe_load(handle)["intents"]
    return {intent for intent in intents if intent.startswith(prefix)}


def first_example(intent: str) -> str:
    """The first training example of `intent` in data/nlu/*.yml (as a resident types it)."""
    for path in sorted((PROJECT_ROOT / "data" / "nlu").glob("*.yml")):
        with path.open(encoding="utf-8") as handle:
            blocks: list[dict[str, str]] = yaml.safe_load(handle).get("nlu") or []
        for block in blocks:
            if block.get("intent") == intent:
                return block["examples"].splitlines()[0].removeprefix("- ").strip()
    raise LookupError(f"no training example of {intent!r}")
