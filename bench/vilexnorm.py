"""ViLexNorm in `make bench-nlu`: the normaliser (`nlu/vietnamese.py`) scored on public data.

ViLexNorm (Nguyen, Le and Nguyen, EACL 2024) pairs Vietnamese social-media comments with their
hand-normalised form (`original`, `normalized`; 8,372 train / 1,050 dev / 1,045 test). Its files
are read from var/datasets/vilexnorm/ (see bench/datasets.py; never committed).

The scoring, as the corpus's authors score it (their ERR code, `evaluation/err.py` of the
follow-up repositories synlexnorm_finetuning / EnhancingViLexNorm; the ViLexNorm repository
itself ships data only):
- Both sides are split into words on whitespace, and a system's word errors in a comment are
  the word-level edit distance (insertions, deletions, substitutions) between the gold words
  and the system's words. This is not a 1:1 token alignment: one typed token may stand for
  several words ("sv" → "sinh viên"; 206 of the 1,045 test pairs differ in length).
- word accuracy = 1 − (sum of word errors) / (number of gold words), over the test split.
- ERR = (accuracy − baseline accuracy) / (1 − baseline accuracy), where the baseline leaves
  every comment as typed (Leave-As-Is; van der Goot 2019): the share of the baseline's errors
  the system removes. Negative when the system breaks more than it mends.

One change, so that what the normaliser does by design is not counted as an error: before
comparing, every text (typed, gold and system output alike) goes through the same fixed view —
Unicode NFC, lower case, words only (`\\w+`: punctuation, and with it emoticons such as ":))"
and "=))", is not compared), laughter and crying written out left out ("haha", "hihi", "hjhj",
"keke", "huhu", "kkk": sounds, not words; a regular expression written here), digit runs of
four or more replaced by the normaliser's number token, and one tone-mark convention
(`place_tone_mark`: "hoà" = "hòa"). The view is written here, not taken from the normaliser,
so changing the normaliser cannot change the yardstick.

The second baseline, "most frequent correction": each typed word of the train split is aligned
to its gold word(s) (`difflib` opcodes over the viewed words: equal runs and same-length
replacements 1:1, a single word replaced by several → that word's expansion; other
replacements are skipped), and at test time each word becomes its most frequent correction in
train (kept as typed when train never saw it).
"""

from __future__ import annotations

import argparse
import csv
import difflib
import re
import sys
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.datasets import DATASETS_DIR, VILEXNORM
from nlu.vietnamese import MASKED_DIGITS, NUMBER_TOKEN, Normalizer, place_tone_mark

HEADING = "## ViLexNorm (public benchmark): the normaliser"
_WORD = re.compile(r"\w+")
# Laughter and crying written out: "haha", "hihi", "hjhj", "keke", "huhu", "kkk", "hhhhh".
_LAUGHTER = re.compile(r"(?:h[aeiouj]|k[ae]|a?hi){2,}h?|([a-zđ])\1+")


@dataclass(frozen=True)
class Pair:
    original: str
    normalized: str


@dataclass(frozen=True)
class Score:
    name: str
    accuracy: float
    err: float


def load_split(split: str, root: Path = DATASETS_DIR) -> list[Pair]:
    with (VILEXNORM.path(root) / f"{split}.csv").open(encoding="utf-8", newline="") as handle:
        return [Pair(row["original"], row["normalized"]) for row in csv.DictReader(handle)]


def view(text: str) -> list[str]:
    """The words a text is compared by (the fixed view of the module docstring)."""
    words = _WORD.findall(unicodedata.normalize("NFC", text).lower())
    return [
        NUMBER_TOKEN if w.isdigit() and len(w) >= MASKED_DIGITS else place_tone_mark(w)
        for w in words
        if not _LAUGHTER.fullmatch(w)
    ]


def word_errors(gold: Sequence[str], other: Sequence[str]) -> int:
    """Word-level edit distance: insertions, deletions and substitutions, each costing 1."""
    previous = list(range(len(other) + 1))
    for i, g in enumerate(gold, start=1):
        current = [i]
        for j, o in enumerate(other, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (g != o)))
        previous = current
    return previous[-1]


def word_accuracy(pairs: Sequence[Pair], system: Callable[[str], str]) -> float:
    """1 − word errors / gold words, over `pairs`, of `system`'s output for each original."""
    errors = words = 0
    for pair in pairs:
        gold = view(pair.normalized)
        errors += word_errors(gold, view(system(pair.original)))
        words += len(gold)
    return 1 - errors / words if words else 1.0


def error_reduction(accuracy: float, baseline: float) -> float:
    """ERR: the share of the leave-as-is baseline's word errors a system removes."""
    return (accuracy - baseline) / (1 - baseline) if baseline < 1 else 0.0


def leave_as_is(text: str) -> str:
    return text


def most_frequent_corrections(pairs: Sequence[Pair]) -> dict[str, str]:
    """Each typed word's most frequent gold correction in `pairs` (itself included)."""
    seen: dict[str, Counter[str]] = {}
    for pair in pairs:
        typed, gold = view(pair.original), view(pair.normalized)
        matcher = difflib.SequenceMatcher(None, typed, gold, autojunk=False)
        for op, i1, i2, j1, j2 in matcher.get_opcodes():
            if op == "equal" or (op == "replace" and i2 - i1 == j2 - j1):
                aligned = zip(typed[i1:i2], gold[j1:j2], strict=True)
            elif op == "replace" and i2 - i1 == 1:
                aligned = zip([typed[i1]], [" ".join(gold[j1:j2])], strict=True)
            else:
                continue
            for word, correction in aligned:
                seen.setdefault(word, Counter())[correction] += 1
    return {word: counts.most_common(1)[0][0] for word, counts in seen.items()}


def correct_by_table(table: dict[str, str]) -> Callable[[str], str]:
    def corrected(text: str) -> str:
        return " ".join(table.get(word, word) for word in view(text))

    return corrected


def score(test: Sequence[Pair], systems: dict[str, Callable[[str], str]]) -> list[Score]:
    """Leave-as-is first, then each system, with its ERR against leave-as-is."""
    baseline = word_accuracy(test, leave_as_is)
    scores = [Score("leave as is (baseline)", baseline, 0.0)]
    for name, system in systems.items():
        measured = word_accuracy(test, system)
        scores.append(Score(name, measured, error_reduction(measured, baseline)))
    return scores


def run(root: Path = DATASETS_DIR) -> list[Score]:
    """The normaliser and the most-frequent-correction baseline on the test split."""
    table = most_frequent_corrections(load_split("train", root))
    return score(
        load_split("test", root),
        {
            "most frequent correction in train": correct_by_table(table),
            "our normaliser (nlu/vietnamese.py)": Normalizer.load(),
        },
    )


def render(scores: list[Score], test_pairs: int) -> str:
    """The ViLexNorm section of docs/benchmarks/nlu.md."""
    lines = [
        "",
        HEADING,
        "",
        f"ViLexNorm's test split, {test_pairs} comments. Word accuracy = 1 − word-level edit "
        "distance to the gold normalisation / gold words, after one fixed view of every text "
        "(NFC, lower case, words only: no punctuation or emoticons, written-out laughter left "
        "out, long numbers masked, one tone-mark convention); ERR = (accuracy − baseline) / "
        "(1 − baseline), the baseline leaving the "
        "text as typed. The full scoring is written in `bench/vilexnorm.py`'s docstring.",
        "",
        "| system | word accuracy (%) | ERR (%) |",
        "| --- | --- | --- |",
    ]
    for s in scores:
        err = "—" if s.name.startswith("leave as is") else f"{100 * s.err:.1f}"
        lines.append(f"| {s.name} | {100 * s.accuracy:.1f} | {err} |")
    return "\n".join(lines) + "\n"


def measure(root: Path = DATASETS_DIR) -> list[Score] | None:
    """The scores, or None (saying why and how to get the data) without the dataset."""
    absent = VILEXNORM.missing(root)
    if absent:
        print(absent, flush=True)
        return None
    return run(root)


def section(scores: list[Score] | None, root: Path = DATASETS_DIR) -> str:
    """The ViLexNorm section: the measured table, or why it was skipped and how to get it."""
    if scores is None:
        return f"\n{HEADING}\n\n{VILEXNORM.missing(root)}\n"
    return render(scores, len(load_split("test", root)))


def main(argv: list[str] | None = None) -> int:
    """ViLexNorm alone (`python -m bench.vilexnorm`): prints its section of the NLU bench."""
    argparse.ArgumentParser(description=__doc__).parse_args(argv)
    print(section(measure()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
