"""The learning loop: messages the bot missed, labelled by volunteers, become training data.

`missed_messages` gathers a month's kept words of messages that ended in a fallback (kept only
for residents who consented, masked at intake; masked again here), most frequent first.
`import_labelled` checks a volunteer's labels against the domain's intents and appends the
good rows to `data/nlu/reviewed.yml` (a training file like the others, so `cns train` and the
next `make run` retrain), masked again, without duplicates of the training data or of each
other, and never a message of a held-out set (both are compared after the normaliser, without
case, diacritics or punctuation).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from difflib import get_close_matches
from pathlib import Path

import yaml
from sqlalchemy.orm import Session

from actions.intent_labels import BUTTON_ONLY_INTENTS, INTENT_LABELS
from cns.nlu_eval import (
    HELD_OUT_FILE,
    INDEPENDENT_2_FILE,
    INDEPENDENT_FILE,
    TRAINING_DIR,
    TUNING_FILE,
    Guess,
    load_examples,
    load_training_examples,
    overlap_key,
)
from core.privacy import mask_pii
from core.repositories.events import kept_fallback_texts
from core.settings import PROJECT_ROOT
from nlu.vietnamese import Normalizer
from reports.model import Period

DOMAIN_FILE = PROJECT_ROOT / "data" / "domain.yml"
INTENTS_DOC = PROJECT_ROOT / "docs" / "intents.md"
REVIEWED_FILE = "reviewed.yml"  # in the training data folder
HELD_OUT_FILES = (HELD_OUT_FILE, INDEPENDENT_FILE, INDEPENDENT_2_FILE, TUNING_FILE)
# Rasa reads "[text](entity)", "[text]{...}" and "[text][...]" in an example as an entity.
_ENTITY_LIKE = re.compile(r"\](?=[(\[{])")
REVIEWED_HEADER = """\
version: "3.1"

# Messages the bot did not understand, labelled by volunteers: `cns nlu review` exported them,
# `cns nlu import` checked the labels and wrote this file (masked, without duplicates of the
# other training data, never a message of a held-out set). The command rewrites the file:
# add examples by importing, or edit with care.

nlu:
"""


@dataclass(frozen=True)
class IntentInfo:
    """An intent a volunteer may choose, with what it means."""

    name: str
    label: str  # the short Vietnamese name on the fallback's buttons
    meaning: str  # from docs/intents.md
    examples: str


@dataclass(frozen=True)
class MissedMessage:
    """One message the bot did not understand, how often it came, and the model's guesses."""

    text: str
    count: int
    guesses: tuple[Guess, ...] = ()


@dataclass(frozen=True)
class LabelledRow:
    """A row of a labelled sheet: its row number there, the message, the label (maybe empty)."""

    row: int
    text: str
    label: str


@dataclass
class Imported:
    """What `import_labelled` did with each row (by row number)."""

    added: dict[str, list[str]] = field(default_factory=dict)  # intent → new examples
    unlabelled: list[int] = field(default_factory=list)
    held_out: list[int] = field(default_factory=list)  # refused: a held-out set has it
    known: dict[int, str] = field(default_factory=dict)  # row → intent already trained on it
    repeated: list[int] = field(default_factory=list)  # an earlier row of the file had it

    @property
    def count(self) -> int:
        return sum(len(texts) for texts in self.added.values())


class BadLabels(ValueError):
    """Rows a volunteer should fix before anything is imported (polite Vietnamese lines)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def labelable_intents(domain: Path = DOMAIN_FILE) -> list[str]:
    """The domain's intents a message can be labelled with (not the button-only ones)."""
    with domain.open(encoding="utf-8") as handle:
        intents: list[str] = yaml.safe_load(handle)["intents"]
    return [intent for intent in intents if intent not in BUTTON_ONLY_INTENTS]


def intent_catalogue(domain: Path = DOMAIN_FILE, doc: Path = INTENTS_DOC) -> list[IntentInfo]:
    """Every labelable intent with its Vietnamese name and its meaning and examples from the
    tables of docs/intents.md (not in the container images, which carry no docs/: there the
    Vietnamese names alone)."""
    described: dict[str, tuple[str, str]] = {}
    text = doc.read_text(encoding="utf-8") if doc.is_file() else ""
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) >= 2:
            described.setdefault(cells[0], (cells[1], cells[2] if len(cells) > 2 else ""))
    return [
        IntentInfo(name, INTENT_LABELS.get(name, name), *described.get(name, ("", "")))
        for name in labelable_intents(domain)
    ]


def clean(text: str) -> str:
    """A message as a training example: masked (core.privacy), on one line, and never read by
    Rasa as an entity annotation."""
    printable = "".join(c for c in mask_pii(text) if c.isprintable() or c.isspace())
    return _ENTITY_LIKE.sub("] ", " ".join(printable.split()))


def missed_messages(*, session: Session, period: Period) -> list[MissedMessage]:
    """The month's kept words of messages the bot missed, one row per message (same words
    without case or extra spaces), most frequent first, then in the order they came."""
    counts: dict[str, int] = {}
    first: dict[str, str] = {}
    for kept in kept_fallback_texts(session=session, start=period.start, end=period.end):
        text = clean(kept.text)
        key = text.lower()
        if text:
            first.setdefault(key, text)
            counts[key] = counts.get(key, 0) + 1
    order = {key: n for n, key in enumerate(first)}
    ranked = sorted(counts, key=lambda key: (-counts[key], order[key]))
    return [MissedMessage(first[key], counts[key]) for key in ranked]


def _keys(text: str, normalise: Callable[[str], str]) -> set[str]:
    """What makes two messages the same: without case, diacritics or punctuation, as typed and
    after the normaliser (teencode expanded, stretched letters collapsed)."""
    return {overlap_key(text), overlap_key(normalise(text))} - {""}


def _check(rows: Sequence[LabelledRow], intents: Sequence[str]) -> list[LabelledRow]:
    """The labelled rows, labels as the domain spells them; BadLabels naming every row to fix."""
    known = {intent.lower(): intent for intent in intents}
    problems: list[str] = []
    labelled: list[LabelledRow] = []
    for row in rows:
        label = row.label.strip()
        if not label:
            continue
        if not clean(row.text):
            problems.append(
                f"Dòng {row.row}: có nhãn {label!r} nhưng không có tin nhắn. "
                "Anh/chị xóa nhãn hoặc điền lại tin nhắn giúp em ạ."
            )
        elif label.lower() not in known:
            close = get_close_matches(label.lower(), known, n=1)
            hint = f" Có phải anh/chị muốn chọn {known[close[0]]!r}?" if close else ""
            problems.append(
                f"Dòng {row.row}: nhãn {label!r} không có trong danh sách ý định.{hint} "
                "Anh/chị chọn một ý định ở trang danh sách ý định giúp em ạ."
            )
        else:
            labelled.append(LabelledRow(row.row, row.text, known[label.lower()]))
    if problems:
        raise BadLabels(problems)
    return labelled


def import_labelled(
    rows: Sequence[LabelledRow],
    *,
    training_dir: Path = TRAINING_DIR,
    held_out: Sequence[Path] = HELD_OUT_FILES,
    domain: Path = DOMAIN_FILE,
) -> Imported:
    """Append the labelled rows to `training_dir`/reviewed.yml, except those a held-out set
    or the training data already has (or an earlier row). BadLabels, and nothing written, when
    a label is not an intent of the domain or a labelled row has no message."""
    intents = labelable_intents(domain)
    labelled = _check(rows, intents)
    normalise = Normalizer.load()
    held_out_examples = [example for path in held_out for example in load_examples(path)]
    refused = {key for example in held_out_examples for key in _keys(example.text, normalise)}
    trained: dict[str, str] = {}
    for example in load_training_examples(training_dir):
        for key in _keys(example.text, normalise):
            trained.setdefault(key, example.intent)
    done = Imported(unlabelled=[r.row for r in rows if clean(r.text) and not r.label.strip()])
    seen: set[str] = set()
    for row in labelled:
        text = clean(row.text)
        keys = _keys(text, normalise)
        if keys & refused:
            done.held_out.append(row.row)
        elif known := next((trained[key] for key in keys if key in trained), None):
            done.known[row.row] = known
        elif keys & seen:
            done.repeated.append(row.row)
        else:
            done.added.setdefault(row.label, []).append(text)
        seen |= keys
    if done.added:
        _append(training_dir / REVIEWED_FILE, done.added, intents)
    return done


def _append(path: Path, added: dict[str, list[str]], intents: Sequence[str]) -> None:
    """Rewrite `path` with its examples and the `added` ones, intents in the domain's order."""
    examples: dict[str, list[str]] = {}
    if path.is_file():
        for example in load_examples(path):
            examples.setdefault(example.intent, []).append(example.text)
    for intent, texts in added.items():
        examples.setdefault(intent, []).extend(texts)
    order = {name: n for n, name in enumerate(intents)}
    lines = [REVIEWED_HEADER.rstrip("\n")]
    for intent in sorted(examples, key=lambda name: (order.get(name, len(order)), name)):
        lines += [f"  - intent: {intent}", "    examples: |"]
        lines += [f"      - {text}" for text in examples[intent]]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
