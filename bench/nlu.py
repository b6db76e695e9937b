"""`make bench-nlu`: train Rasa's default pipeline and ours, evaluate both on the held-out sets.

For each pipeline: `rasa train nlu` (timed), `rasa run --enable-api` on a free port, every
message of the project's held-out set and of the independent one through `/model/parse` one at
a time (accuracy, top-2 accuracy, macro-F1, fallback rate, confusions, latency; per style,
and per voice on the independent set). Then the public benchmarks when their data is in
var/datasets/ (see bench/datasets.py): PhoATIS's intent accuracy (bench/phoatis.py) and the
normaliser's ERR on ViLexNorm (bench/vilexnorm.py). Prints the tables, issue 17's targets
first, and writes docs/benchmarks/nlu.md.
"""

from __future__ import annotations

import argparse
import platform
import re
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from bench import phoatis, vilexnorm
from bench.lexicon import with_lexicon
from bench.rasa_nlu import DEFAULT_CONFIG, OUR_CONFIG, PREVIOUS_CONFIG, serve, train
from cns.nlu_eval import (
    HELD_OUT_FILE,
    INDEPENDENT_2_FILE,
    INDEPENDENT_FILE,
    STYLES,
    TRAINING_DIR,
    TUNING_FILE,
    Prediction,
    accuracy,
    by_style,
    by_voice,
    confusions,
    fallback_rate,
    load_examples,
    load_training_examples,
    macro_f1,
    parse_all,
    percentile,
    top2_accuracy,
)
from core.settings import PROJECT_ROOT
from nlu.vietnamese import Normalizer, strip_diacritics

DEFAULT = "rasa init default"
PREVIOUS = "previous config.yml and data"
OURS = "ours (config.yml)"
SEGMENTED = "ours + pyvi word segmentation"
# Training files added by issue 17 (residents' voices, messages with numbers, the learning
# loop's reviewed messages): the previous pipeline's column is trained without them.
ADDED_BY_ISSUE_17 = frozenset(
    {
        "voices_conversation.yml",
        "voices_services.yml",
        "voices_second_batch_conversation.yml",
        "voices_second_batch_services.yml",
        "numbers.yml",
        "reviewed.yml",
    }
)
REPORT = PROJECT_ROOT / "docs" / "benchmarks" / "nlu.md"
# The columns PhoATIS is trained for, by their names in the main table and in its own.
PHOATIS_COLUMNS = {DEFAULT: phoatis.DEFAULT, PREVIOUS: phoatis.PREVIOUS, OURS: phoatis.OURS}
NORMALISER = "our normaliser (nlu/vietnamese.py)"
WARMUP_MESSAGES = 20


@dataclass(frozen=True)
class Result:
    name: str
    train_seconds: float
    predictions: list[Prediction]  # the project's held-out set
    independent: list[Prediction]  # the first independent held-out set
    independent_2: list[Prediction]  # the second one, written when the first had been seen
    tuning: list[Prediction]  # the tuning set (chooses configurations)


@dataclass(frozen=True)
class Pipeline:
    """A configuration and the training data it is trained on."""

    config: Path
    nlu: Path = TRAINING_DIR


def variant(config: Path, out: Path, name: str, change: Callable[[dict[str, Any]], None]) -> Path:
    """A copy of `config` (written to `out/name.yml`) with `change` applied to its data."""
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    change(data)
    target = out / f"{name}.yml"
    target.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return target


def _component(data: dict[str, Any], suffix: str) -> dict[str, Any]:
    return next(c for c in data["pipeline"] if str(c["name"]).endswith(suffix))


def _segmented(data: dict[str, Any]) -> None:
    _component(data, "VietnameseTokenizer")["word_segmentation"] = "pyvi"


def _no_transformer(data: dict[str, Any]) -> None:
    _component(data, "DIETClassifier")["number_of_transformer_layers"] = 0


def _regex_featurizer(data: dict[str, Any]) -> None:
    tokenizer = data["pipeline"].index(_component(data, "VietnameseTokenizer"))
    data["pipeline"].insert(tokenizer + 1, {"name": "RegexFeaturizer", "case_sensitive": False})


def previous_training_data(out: Path) -> Path:
    """The training data as it was before issue 17: without the files it added."""
    directory = out / "nlu_previous"
    directory.mkdir()
    for path in sorted(TRAINING_DIR.glob("*.yml")):
        if path.name not in ADDED_BY_ISSUE_17:
            shutil.copy(path, directory / path.name)
    return directory


def pipelines(out: Path) -> dict[str, Pipeline]:
    """Every pipeline the full bench trains, by the name its column carries."""
    return {
        DEFAULT: Pipeline(DEFAULT_CONFIG),
        PREVIOUS: Pipeline(PREVIOUS_CONFIG, previous_training_data(out)),
        OURS: Pipeline(OUR_CONFIG),
        "ours without transformer layers": Pipeline(
            variant(OUR_CONFIG, out, "ours_no_transformer", _no_transformer)
        ),
        "ours + lexicon of places and service names": Pipeline(
            variant(OUR_CONFIG, out, "ours_lexicon", _regex_featurizer), with_lexicon(out)
        ),
        SEGMENTED: Pipeline(variant(OUR_CONFIG, out, "ours_pyvi", _segmented)),
    }


def marked_only_training_data(out: Path) -> Path:
    """The training examples written with diacritics and without any abbreviation."""
    abbreviations = set(Normalizer.load().abbreviations)
    by_intent: dict[str, list[str]] = {}
    for example in load_training_examples():
        words = set(re.findall(r"\w+", example.text.lower()))
        if strip_diacritics(example.text) != example.text and not words & abbreviations:
            by_intent.setdefault(example.intent, []).append(example.text)
    blocks = [
        {"intent": intent, "examples": "".join(f"- {t}\n" for t in texts)}
        for intent, texts in by_intent.items()
    ]
    directory = out / "nlu_marked"
    directory.mkdir()
    (directory / "marked.yml").write_text(
        yaml.safe_dump({"version": "3.1", "nlu": blocks}, allow_unicode=True), encoding="utf-8"
    )
    return directory


def evaluate(
    model: Path,
) -> tuple[list[Prediction], list[Prediction], list[Prediction], list[Prediction]]:
    """The model's predictions on the project's held-out set, the two independent ones and
    the tuning set."""
    with serve(model) as url:
        examples = load_examples(HELD_OUT_FILE)
        parse_all(url, examples[:WARMUP_MESSAGES])  # first calls build TensorFlow graphs
        return (
            parse_all(url, examples),
            parse_all(url, load_examples(INDEPENDENT_FILE)),
            parse_all(url, load_examples(INDEPENDENT_2_FILE)),
            parse_all(url, load_examples(TUNING_FILE)),
        )


def _pct(value: float) -> str:
    return f"{100 * value:.1f}"


def render(results: list[Result], command: str = "make bench-nlu", targets: str = "") -> str:
    """The report's head: the project's held-out set per column, `targets` (a section) right
    after it, then each column's costliest confusions."""
    names = [r.name for r in results]
    total = len(results[0].predictions)
    lines = [
        f"# NLU benchmark (`{command}`)",
        "",
        f"Held-out set: `tests/nlu/test_nlu.yml`, {total} messages, never trained on. "
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, "
        f"Python {platform.python_version()}, rasa 3.6.21; parse latency measured through "
        "`POST /model/parse`, one request at a time.",
        "",
        "| metric | " + " | ".join(names) + " |",
        "| --- |" + " --- |" * len(names),
    ]

    def row(label: str, values: list[str]) -> None:
        lines.append(f"| {label} | " + " | ".join(values) + " |")

    row("intent accuracy, all (%)", [_pct(accuracy(r.predictions)) for r in results])
    for style in STYLES:
        row(
            f"accuracy, {style} (%)",
            [_pct(accuracy(by_style(r.predictions)[style])) for r in results],
        )
    row("top-2 accuracy, all (%)", [_pct(top2_accuracy(r.predictions)) for r in results])
    for style in STYLES:
        row(
            f"top-2 accuracy, {style} (%)",
            [_pct(top2_accuracy(by_style(r.predictions)[style])) for r in results],
        )
    row("macro-F1, all (%)", [_pct(macro_f1(r.predictions)) for r in results])
    for style in STYLES:
        row(
            f"macro-F1, {style} (%)",
            [_pct(macro_f1(by_style(r.predictions)[style])) for r in results],
        )
    row("fallback rate (%)", [_pct(fallback_rate(r.predictions)) for r in results])
    row("training time (s)", [f"{r.train_seconds:.0f}" for r in results])
    for q in (50, 95):
        row(
            f"/model/parse p{q} (ms)",
            [f"{1000 * percentile([p.seconds for p in r.predictions], q):.1f}" for r in results],
        )
    lines.append(targets)
    for r in results:
        lines += _confusion_table(f"## Costliest confusions: {r.name}", r.predictions)
    return "\n".join(lines) + "\n"


def _confusion_table(heading: str, predictions: list[Prediction]) -> list[str]:
    """A section: `heading`, then the costliest (true, predicted) pairs with their counts."""
    return [
        "",
        heading,
        "",
        "| true intent | predicted | count |",
        "| --- | --- | --- |",
        *(f"| {t} | {p} | {n} |" for t, p, n in confusions(predictions)),
    ]


INDEPENDENT_INTRO = (
    "`tests/nlu/independent.yml`, {total} messages written from `docs/intents.md` alone by "
    "writers who never saw the training data or the project's held-out set, in voices the "
    "training data lacks; frozen on 2026-12-04 before any tuning (tuning on it would make it "
    "one more development set: then write another). No configuration was chosen by it, but "
    "the lexicon option's numbers on it were in view when that option was weighed, so the "
    "second independent set below is the yardstick for issue 17's targets."
)
INDEPENDENT_2_INTRO = (
    "`tests/nlu/independent_2.yml`, {total} messages written from `docs/intents.md` alone by "
    "five other writers who never saw the training data or any evaluation set, in the same "
    "voices and all 46 typed intents; frozen on 2026-12-05 before any configuration was "
    "chosen, and never looked at while choosing one."
)
TUNING_INTRO = (
    "`tests/nlu/tuning.yml`, {total} messages written the same way by another writer, in the "
    "same voices, to CHOOSE between configurations (issue 17 chose config.yml's transformer "
    "layer on it and on the project's held-out set): a development set, not a held-out measure."
)


def _error_reduction(value: float, default: float) -> float | None:
    """How much of the default pipeline's error a column removes (None if it made none)."""
    return (value - default) / (1 - default) if default < 1 else None


def render_set(
    results: list[Result], which: str, heading: str, intro: str, *, with_confusions: bool
) -> str:
    """One evaluation set (`which`: a Result field): accuracy and top-2 per style and per
    voice, the error reduction against Rasa's default pipeline, and the confusions."""
    sets: list[list[Prediction]] = [getattr(r, which) for r in results]
    lines = [
        "",
        heading,
        "",
        intro.format(total=len(sets[0])),
        "",
        "| accuracy (%) | " + " | ".join(r.name for r in results) + " |",
        "| --- |" + " --- |" * len(results),
    ]

    def row(label: str, values: list[str]) -> None:
        lines.append(f"| {label} | " + " | ".join(values) + " |")

    styles = [by_style(predictions) for predictions in sets]
    voices = [by_voice(predictions) for predictions in sets]
    row("all", [_pct(accuracy(predictions)) for predictions in sets])
    for style in STYLES:
        row(style, [_pct(accuracy(groups[style])) for groups in styles])
    row("top-2, all", [_pct(top2_accuracy(predictions)) for predictions in sets])
    for style in STYLES:
        row(f"top-2, {style}", [_pct(top2_accuracy(groups[style])) for groups in styles])
    for voice in voices[0]:
        row(f"voice: {voice}", [_pct(accuracy(groups[voice])) for groups in voices])
    row("macro-F1, all", [_pct(macro_f1(predictions)) for predictions in sets])
    row("fallback rate", [_pct(fallback_rate(predictions)) for predictions in sets])
    names = [r.name for r in results]
    if DEFAULT in names:
        baseline = styles[names.index(DEFAULT)]
        for style in STYLES:
            default = accuracy(baseline[style])
            reductions = [_error_reduction(accuracy(g[style]), default) for g in styles]
            row(
                f"error reduction vs default, {style}",
                ["—" if r is None else _pct(r) for r in reductions],
            )
    if with_confusions:
        for r, predictions in zip(results, sets, strict=True):
            lines += _confusion_table(
                f"### Costliest confusions, {heading[3:]}: {r.name}", predictions
            )
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Target:
    """One of issue 17's targets: a bound on a number measured for every column."""

    label: str
    bound: float
    at_most: bool = False  # a ceiling (latency, training time) rather than a floor

    def met(self, value: float) -> bool:
        return value <= self.bound if self.at_most else value >= self.bound


def target_values(
    results: list[Result],
    phoatis_results: list[phoatis.PhoatisResult] | None,
    normaliser_err: float | None,
) -> list[tuple[Target, list[float | None]]]:
    """Issue 17's targets, each with its value per column (None: not measured or not
    applicable). Rates in [0, 1], latency in ms, training in s."""
    names = [r.name for r in results]
    styles = [by_style(r.independent_2) for r in results]
    rows: list[tuple[Target, list[float | None]]] = []
    for style, bound in zip(STYLES, (0.97, 0.95, 0.93), strict=True):
        rows.append(
            (
                Target(f"second independent set, {style}", bound),
                [accuracy(groups[style]) for groups in styles],
            )
        )
    rows.append(
        (
            Target("second independent set, top-2", 0.99),
            [top2_accuracy(r.independent_2) for r in results],
        )
    )
    for style in STYLES[1:]:
        default = accuracy(styles[names.index(DEFAULT)][style]) if DEFAULT in names else None
        rows.append(
            (
                Target(f"error reduction vs default, second independent set, {style}", 0.40),
                [
                    None if default is None else _error_reduction(accuracy(g[style]), default)
                    for g in styles
                ],
            )
        )
    by_name = {p.name: p for p in phoatis_results or []}
    measured = [by_name.get(PHOATIS_COLUMNS.get(name, "")) for name in names]
    rows.append(
        (
            Target("PhoATIS, with diacritics", 0.96),
            [None if p is None else accuracy(p.marked) for p in measured],
        )
    )
    rows.append(
        (
            Target("PhoATIS, diacritics stripped", 0.95),
            [None if p is None else accuracy(p.stripped) for p in measured],
        )
    )
    rows.append(
        (
            Target("ViLexNorm, normaliser ERR", 0.60),
            [normaliser_err if name in (PREVIOUS, OURS) else None for name in names],
        )
    )
    rows.append(
        (
            Target("/model/parse p95, every set (ms)", 50, at_most=True),
            [
                1000
                * percentile(
                    [p.seconds for p in r.predictions + r.independent + r.independent_2 + r.tuning],
                    95,
                )
                for r in results
            ],
        )
    )
    rows.append(
        (
            Target("training time (s)", 300, at_most=True),
            [r.train_seconds for r in results],
        )
    )
    return rows


def render_targets(
    results: list[Result],
    phoatis_results: list[phoatis.PhoatisResult] | None,
    normaliser_err: float | None,
) -> str:
    """Issue 17's targets next to every column's number, and whether ours meets each."""
    names = [r.name for r in results]
    lines = [
        "",
        "## Issue 17's targets",
        "",
        "Every target next to each column's number; “met” is said of ours. Error reduction: "
        "the share of the default pipeline's errors a column avoids, per style of the second "
        "independent set. ViLexNorm scores the normaliser (`nlu/vietnamese.py`), which the "
        "previous `config.yml` runs too; Rasa's default has none. — : not measured in this run "
        "(its dataset absent from var/datasets/, or its column not trained).",
        "",
        "| target | bound | " + " | ".join(names) + " | met |",
        "| --- | --- |" + " --- |" * (len(names) + 1),
    ]
    for target, values in target_values(results, phoatis_results, normaliser_err):
        percent = not target.at_most
        shown = [
            "—" if v is None else (_pct(v) if percent else f"{v:.{1 if v < 100 else 0}f}")
            for v in values
        ]
        bound = ("≤ " if target.at_most else "≥ ") + (
            f"{100 * target.bound:.0f} %" if percent else f"{target.bound:g}"
        )
        ours = values[names.index(OURS)] if OURS in names else None
        met = "—" if ours is None else ("yes" if target.met(ours) else "**no**")
        lines.append(f"| {target.label} | {bound} | " + " | ".join(shown) + f" | {met} |")
    return "\n".join(lines) + "\n"


def render_ablation(results: list[Result], examples: int) -> str:
    lines = [
        "",
        "## Ablation: trained only on examples written with diacritics",
        "",
        f"Both pipelines trained on the {examples} training examples that carry diacritics and "
        "no abbreviation; the same held-out set. This shows what the normaliser and the "
        "accent-insensitive featurizer buy when residents type in ways the data lacks.",
        "",
        "| accuracy (%) | " + " | ".join(r.name for r in results) + " |",
        "| --- |" + " --- |" * len(results),
    ]
    for style in STYLES:
        values = [_pct(accuracy(by_style(r.predictions)[style])) for r in results]
        lines.append(f"| {style} | " + " | ".join(values) + " |")
    lines.append("| all | " + " | ".join(_pct(accuracy(r.predictions)) for r in results) + " |")
    return "\n".join(lines) + "\n"


def render_report(results: list[Result], command: str, targets: str = "") -> str:
    """Every evaluation set's section for the trained columns."""
    return (
        render(results, command, targets)
        + render_set(
            results,
            "independent",
            "## Independent held-out set",
            INDEPENDENT_INTRO,
            with_confusions=True,
        )
        + render_set(
            results,
            "independent_2",
            "## Second independent held-out set",
            INDEPENDENT_2_INTRO,
            with_confusions=True,
        )
        + render_set(results, "tuning", "## Tuning set", TUNING_INTRO, with_confusions=False)
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=REPORT)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="only ours and the previous pipeline (on PhoATIS too), no ablation: "
        "minutes, not hours",
    )
    parser.add_argument(
        "--only",
        type=lambda names: names.split(","),
        default=[],
        help="only the pipelines of these column names, comma-separated (no ablation)",
    )
    args = parser.parse_args(argv)
    command = (
        "python -m bench.nlu --quick"
        if args.quick
        else f'python -m bench.nlu --only "{",".join(args.only)}"'
        if args.only
        else "make bench-nlu"
    )
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-nlu-") as tmp:
        chosen = pipelines(Path(tmp))
        if args.quick:
            chosen = {name: chosen[name] for name in (PREVIOUS, OURS)}
        elif args.only:
            chosen = {name: p for name, p in chosen.items() if name in args.only}
        for name, pipeline in chosen.items():
            print(f"==> {name}: training", flush=True)
            model, seconds = train(pipeline.config, Path(tmp), nlu=pipeline.nlu)
            print(f"==> {name}: trained in {seconds:.0f} s; evaluating", flush=True)
            results.append(Result(name, seconds, *evaluate(model)))
            # What is measured so far, in case a later step (hours of training) fails.
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(render_report(results, command), encoding="utf-8")
        # Ablation: what the Vietnamese components buy when the training data has only
        # examples written with diacritics, as a small team's first data often does.
        marked = marked_only_training_data(Path(tmp))
        marked_examples = len(load_examples(marked / "marked.yml"))
        ablation = []
        for name in [] if args.quick or args.only else [DEFAULT, OURS]:
            print(f"==> {name}, diacritics-only training data: training", flush=True)
            models = Path(tmp) / "marked_models"
            model, seconds = train(chosen[name].config, models, nlu=marked)
            ablation.append(Result(name, seconds, *evaluate(model)))
        # The public benchmarks, each skipped with a message when var/datasets/ lacks it.
        # PhoATIS trains the same columns, when they are among the three it knows; the
        # default (half an hour or more) last.
        phoatis_results = phoatis.measure(
            {
                PHOATIS_COLUMNS[name]: chosen[name].config
                for name in reversed(chosen)
                if name in PHOATIS_COLUMNS
            },
            Path(tmp),
        )
        scores = vilexnorm.measure()
    normaliser_err = next((s.err for s in scores or [] if s.name == NORMALISER), None)
    report = render_report(
        results, command, render_targets(results, phoatis_results, normaliser_err)
    )
    if ablation:
        report += render_ablation(ablation, marked_examples)
    report += phoatis.section(phoatis_results, command) + vilexnorm.section(scores)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report, encoding="utf-8")
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
