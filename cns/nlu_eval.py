"""Evaluating intent classification over HTTP: the held-out set, metrics (accuracy, top-2
accuracy: the right intent among the two the two-stage fallback offers), latency.

Shared by `make bench-nlu` (bench/nlu.py) and the regression check in `make test`.
The held-out files are Rasa NLU YAML whose intent blocks carry `metadata: {style: …}` (and,
in the independent sets, `voice: …`): the project's own held-out set, and the two independent
ones written only from docs/intents.md by writers who never saw the training data.
"""

from __future__ import annotations

import re
import statistics
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from core.settings import PROJECT_ROOT
from nlu.vietnamese import strip_diacritics

HELD_OUT_FILE = PROJECT_ROOT / "tests" / "nlu" / "test_nlu.yml"
INDEPENDENT_FILE = PROJECT_ROOT / "tests" / "nlu" / "independent.yml"
# Written the same way by other writers after the first independent set had been in view when
# a configuration was weighed (issue 17): the yardstick no choice has seen.
INDEPENDENT_2_FILE = PROJECT_ROOT / "tests" / "nlu" / "independent_2.yml"
# Written like the independent set by another writer, to choose between configurations.
TUNING_FILE = PROJECT_ROOT / "tests" / "nlu" / "tuning.yml"
TRAINING_DIR = PROJECT_ROOT / "data" / "nlu"
STYLES = ("diacritics", "plain", "teencode")
FALLBACK_INTENT = "nlu_fallback"


@dataclass(frozen=True)
class Example:
    text: str
    intent: str
    style: str | None = None
    voice: str | None = None


@dataclass(frozen=True)
class Guess:
    """One intent of Rasa's ranking, with its confidence."""

    intent: str
    confidence: float


@dataclass(frozen=True)
class Prediction:
    example: Example
    intent: str
    confidence: float
    seconds: float
    ranking: tuple[str, ...] = ()  # Rasa's intent ranking, best first, without nlu_fallback

    @property
    def correct(self) -> bool:
        return self.intent == self.example.intent

    @property
    def correct_in_top2(self) -> bool:
        """The right intent is one of the two likeliest (what the two-stage fallback offers
        as buttons when the bot is unsure): the first two of the ranking, nlu_fallback left
        out."""
        return self.example.intent in (self.ranking[:2] or (self.intent,))


def _example_lines(block: str) -> list[str]:
    lines = (line.strip() for line in block.splitlines())
    return [line[2:].strip() for line in lines if line.startswith("- ")]


def load_examples(path: Path) -> list[Example]:
    """Every example of a Rasa NLU YAML file, with the block's style if it names one."""
    with path.open(encoding="utf-8") as handle:
        data: dict[str, Any] = yaml.safe_load(handle) or {}
    examples: list[Example] = []
    for block in data.get("nlu") or []:
        if "intent" not in block:
            continue
        metadata = block.get("metadata") or {}
        style, voice = metadata.get("style"), metadata.get("voice")
        examples.extend(
            Example(text=text, intent=str(block["intent"]), style=style, voice=voice)
            for text in _example_lines(str(block.get("examples") or ""))
        )
    return examples


def load_training_examples(directory: Path = TRAINING_DIR) -> list[Example]:
    return [e for path in sorted(directory.glob("*.yml")) for e in load_examples(path)]


def overlap_key(text: str) -> str:
    """What two messages share when they differ only in case, diacritics, punctuation."""
    return " ".join(re.findall(r"\w+", strip_diacritics(text.lower())))


def guesses(parse: dict[str, Any]) -> tuple[Guess, ...]:
    """The intents of a `/model/parse` answer, likeliest first, nlu_fallback left out (it is
    not a meaning but "unsure"); the intent alone when the answer has no ranking."""
    ranking = parse.get("intent_ranking") or [parse.get("intent") or {}]
    return tuple(
        Guess(str(entry["name"]), float(entry.get("confidence") or 0.0))
        for entry in ranking
        if isinstance(entry, dict) and entry.get("name") not in (None, FALLBACK_INTENT)
    )


def _parse(client: httpx.Client, text: str, token: str | None) -> tuple[dict[str, Any], float]:
    """Rasa's `/model/parse` answer for `text`, and the seconds it took."""
    started = time.perf_counter()
    response = client.post(
        "/model/parse", json={"text": text}, params={"token": token} if token else {}
    )
    elapsed = time.perf_counter() - started
    response.raise_for_status()
    answer: dict[str, Any] = response.json()
    return answer, elapsed


def parse_all(
    rasa_url: str,
    examples: Sequence[Example],
    *,
    token: str | None = None,
) -> list[Prediction]:
    """Ask Rasa's `/model/parse` for each example, one at a time (so latency is honest)."""
    predictions: list[Prediction] = []
    with httpx.Client(base_url=rasa_url, timeout=30.0) as client:
        for example in examples:
            answer, elapsed = _parse(client, example.text, token)
            intent = answer.get("intent") or {}
            predictions.append(
                Prediction(
                    example,
                    str(intent.get("name")),
                    float(intent.get("confidence") or 0),
                    elapsed,
                    tuple(guess.intent for guess in guesses(answer)),
                )
            )
    return predictions


def rank_texts(
    rasa_url: str, texts: Sequence[str], *, token: str | None = None
) -> list[tuple[Guess, ...]]:
    """Rasa's likeliest intents for each text (see `guesses`); httpx.HTTPError when Rasa
    does not answer."""
    with httpx.Client(base_url=rasa_url, timeout=30.0) as client:
        return [guesses(_parse(client, text, token)[0]) for text in texts]


def accuracy(predictions: Sequence[Prediction]) -> float:
    return sum(p.correct for p in predictions) / len(predictions) if predictions else 0.0


def top2_accuracy(predictions: Sequence[Prediction]) -> float:
    """Share of messages whose intent is among the two likeliest (`correct_in_top2`)."""
    hits = sum(p.correct_in_top2 for p in predictions)
    return hits / len(predictions) if predictions else 0.0


def macro_f1(predictions: Sequence[Prediction]) -> float:
    """Mean F1 over the intents of the examples (a fallback counts as a wrong answer)."""
    labels = sorted({p.example.intent for p in predictions})
    scores = []
    for label in labels:
        tp = sum(p.correct and p.intent == label for p in predictions)
        fp = sum(p.intent == label and not p.correct for p in predictions)
        fn = sum(p.example.intent == label and not p.correct for p in predictions)
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return statistics.fmean(scores) if scores else 0.0


def fallback_rate(predictions: Sequence[Prediction]) -> float:
    hits = sum(p.intent == FALLBACK_INTENT for p in predictions)
    return hits / len(predictions) if predictions else 0.0


def by_style(predictions: Iterable[Prediction]) -> dict[str, list[Prediction]]:
    groups: dict[str, list[Prediction]] = {style: [] for style in STYLES}
    for p in predictions:
        groups.setdefault(p.example.style or "unknown", []).append(p)
    return groups


def by_voice(predictions: Iterable[Prediction]) -> dict[str, list[Prediction]]:
    groups: dict[str, list[Prediction]] = {}
    for p in predictions:
        groups.setdefault(p.example.voice or "unknown", []).append(p)
    return dict(sorted(groups.items()))


def confusions(predictions: Sequence[Prediction], top: int = 10) -> list[tuple[str, str, int]]:
    """The (true intent, predicted intent) pairs that cost most, with their counts."""
    counts = Counter((p.example.intent, p.intent) for p in predictions if not p.correct)
    return [(true, predicted, n) for (true, predicted), n in counts.most_common(top)]


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0–100) by linear interpolation."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)
