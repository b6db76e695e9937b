"""PhoATIS in `make bench-nlu`: a public Vietnamese intent benchmark the project never wrote.

PhoATIS (Dao, Truong and Nguyen, INTERSPEECH 2021; VinAI's JointIDSF repository) is ATIS
translated into Vietnamese: flight questions, 4,478 train / 500 dev / 893 test utterances at
syllable level, lower-case and written with diacritics. Its files are read from
var/datasets/phoatis/ (see bench/datasets.py; never committed).

What is measured: each pipeline (our `config.yml` unchanged — its normaliser and features
included —, the previous `config.yml` and Rasa's default pipeline) is trained on the train split
(dev unused: nothing here selects a model), then every test utterance goes through
`/model/parse` twice, as written and with every diacritic stripped (`strip_diacritics`), as
residents often type. A label is a class as written, multi-intent labels included
(`airfare#flight`), as JointIDSF scores it; an intent that never occurs in train (4 test
utterances) and a fallback answer count as wrong. Reference: JointIDSF (PhoBERT encoder)
reports 97.6 % intent accuracy on this test split.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from bench.datasets import DATASETS_DIR, PHOATIS
from bench.rasa_nlu import DEFAULT_CONFIG, OUR_CONFIG, PREVIOUS_CONFIG, serve, train
from cns.nlu_eval import Example, Prediction, accuracy, fallback_rate, parse_all, percentile
from nlu.vietnamese import strip_diacritics

JOINTIDSF_ACCURACY = 0.976  # the published result on the test split (PhoBERT encoder)
WARMUP_MESSAGES = 20
HEADING = "## PhoATIS (public benchmark)"
DEFAULT, PREVIOUS, OURS = "rasa init default", "previous config.yml", "ours (config.yml)"
# Each pipeline by its column's name, in the order the columns appear.
CONFIGS = {DEFAULT: DEFAULT_CONFIG, PREVIOUS: PREVIOUS_CONFIG, OURS: OUR_CONFIG}


@dataclass(frozen=True)
class PhoatisResult:
    name: str
    train_seconds: float
    marked: list[Prediction]  # the test split as written
    stripped: list[Prediction]  # the same with every diacritic removed


def load_split(split: str, root: Path = DATASETS_DIR) -> list[Example]:
    """One split's utterances (`seq.in`) with their intent labels (`label`), line by line."""
    directory = PHOATIS.path(root) / split
    texts = (directory / "seq.in").read_text(encoding="utf-8").splitlines()
    labels = (directory / "label").read_text(encoding="utf-8").splitlines()
    if len(texts) != len(labels):
        raise ValueError(f"{directory}: {len(texts)} utterances but {len(labels)} labels")
    return [
        Example(text=text.strip(), intent=label.strip())
        for text, label in zip(texts, labels, strict=True)
        if text.strip()
    ]


def to_rasa_nlu(examples: Iterable[Example]) -> str:
    """Rasa NLU YAML: one block per label, each utterance once, in first-seen order."""
    by_intent: dict[str, dict[str, None]] = {}
    for example in examples:
        by_intent.setdefault(example.intent, {})[example.text] = None
    blocks = [
        {"intent": intent, "examples": "".join(f"- {text}\n" for text in texts)}
        for intent, texts in by_intent.items()
    ]
    return yaml.safe_dump(
        {"version": "3.1", "nlu": blocks}, allow_unicode=True, sort_keys=False, width=1000
    )


def stripped(examples: Sequence[Example]) -> list[Example]:
    return [Example(text=strip_diacritics(e.text), intent=e.intent) for e in examples]


def run(pipelines: dict[str, Path], out: Path, root: Path = DATASETS_DIR) -> list[PhoatisResult]:
    """Train each pipeline on PhoATIS's train split and parse its test split both ways."""
    data = out / "phoatis_nlu"
    data.mkdir(parents=True, exist_ok=True)
    (data / "train.yml").write_text(to_rasa_nlu(load_split("train", root)), encoding="utf-8")
    test = load_split("test", root)
    results = []
    for name, config in pipelines.items():
        print(f"==> PhoATIS, {name}: training", flush=True)
        model, seconds = train(config, out / "phoatis_models", nlu=data)
        print(f"==> PhoATIS, {name}: trained in {seconds:.0f} s; evaluating", flush=True)
        with serve(model) as url:
            parse_all(url, test[:WARMUP_MESSAGES])  # first calls build TensorFlow graphs
            results.append(
                PhoatisResult(name, seconds, parse_all(url, test), parse_all(url, stripped(test)))
            )
    return results


def _pct(value: float) -> str:
    return f"{100 * value:.1f}"


def render(results: list[PhoatisResult], train_examples: int, command: str) -> str:
    """The PhoATIS section of docs/benchmarks/nlu.md."""
    test = len(results[0].marked)
    lines = [
        "",
        HEADING,
        "",
        f"VinAI's PhoATIS, syllable level (`{command}`): trained on the {train_examples} "
        "utterances of its train split (one repeated under the same label kept once), "
        f"{test} test utterances parsed as written and with "
        "every diacritic stripped. Labels scored as written, multi-intent ones included "
        "(`airfare#flight`), like JointIDSF; a fallback is wrong. How to get the data: "
        "`bench/datasets.py`.",
        "",
        "| metric | " + " | ".join(r.name for r in results) + " | JointIDSF (published) |",
        "| --- |" + " --- |" * (len(results) + 1),
    ]

    def row(label: str, values: list[str], reference: str = "—") -> None:
        lines.append(f"| {label} | " + " | ".join(values) + f" | {reference} |")

    row(
        "intent accuracy, with diacritics (%)",
        [_pct(accuracy(r.marked)) for r in results],
        _pct(JOINTIDSF_ACCURACY),
    )
    row("intent accuracy, diacritics stripped (%)", [_pct(accuracy(r.stripped)) for r in results])
    row("fallback rate, with diacritics (%)", [_pct(fallback_rate(r.marked)) for r in results])
    row("fallback rate, stripped (%)", [_pct(fallback_rate(r.stripped)) for r in results])
    row("training time (s)", [f"{r.train_seconds:.0f}" for r in results])
    row(
        "/model/parse p95 (ms)",
        [f"{1000 * percentile([p.seconds for p in r.marked], 95):.1f}" for r in results],
    )
    return "\n".join(lines) + "\n"


def measure(
    pipelines: dict[str, Path], out: Path, root: Path = DATASETS_DIR
) -> list[PhoatisResult] | None:
    """Every pipeline measured, or None (saying why and how to get the data) without it."""
    absent = PHOATIS.missing(root)
    if absent:
        print(absent, flush=True)
        return None
    return run(pipelines, out, root)


def section(results: list[PhoatisResult] | None, command: str, root: Path = DATASETS_DIR) -> str:
    """The PhoATIS section: the measured table, or why it was skipped and how to get the data."""
    if results is None:
        return f"\n{HEADING}\n\n{PHOATIS.missing(root)}\n"
    columns = sorted(results, key=lambda r: list(CONFIGS).index(r.name))
    return render(columns, len(load_split("train", root)), command)


def main(argv: list[str] | None = None) -> int:
    """PhoATIS alone (`python -m bench.phoatis`): prints its section of the NLU benchmark."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--only",
        type=lambda names: names.split(","),
        default=list(CONFIGS),
        help="only these columns, comma-separated (Rasa's default trains for half an hour or "
        f"more); all by default: {','.join(CONFIGS)}",
    )
    args = parser.parse_args(argv)
    command = "python -m bench.phoatis"
    chosen = {name: CONFIGS[name] for name in args.only}
    with tempfile.TemporaryDirectory(prefix="bench-phoatis-") as tmp:
        print(section(measure(chosen, Path(tmp)), command))
    return 0


if __name__ == "__main__":
    sys.exit(main())
