"""Regression check: the trained model on the three held-out sets, per style.

Thresholds sit a little under what `make bench-nlu` measured (docs/benchmarks/nlu.md; the
independent set's first measurement in docs/benchmarks/nlu-independent.md), so a change that
makes the NLU worse fails the build. They are floors, never targets to tune for: the
independent set is frozen and must not guide model choices.
"""

from __future__ import annotations

import pytest

from cns.nlu_eval import (
    HELD_OUT_FILE,
    INDEPENDENT_2_FILE,
    INDEPENDENT_FILE,
    Prediction,
    accuracy,
    by_style,
    load_examples,
    parse_all,
    top2_accuracy,
)
from tests.stack import RunningStack

pytestmark = pytest.mark.e2e

MIN_ACCURACY = {"diacritics": 0.95, "plain": 0.95, "teencode": 0.95}
# Measured 95.0 / 93.1 / 94.3 % on 2026-12-04 (1,299 messages) with one transformer layer and
# the residents'-voices data (issue 17; 93.2 / 90.1 / 86.5 % before them).
MIN_INDEPENDENT_ACCURACY = {"diacritics": 0.92, "plain": 0.90, "teencode": 0.91}
# Top-2 (the right intent among the two the fallback offers), measured 2026-12-04:
# 98.2 / 99.5 / 99.1 % on the project's set, 98.6 / 96.8 / 96.7 % on the independent one.
MIN_TOP2 = {"diacritics": 0.96, "plain": 0.97, "teencode": 0.97}
MIN_INDEPENDENT_TOP2 = {"diacritics": 0.96, "plain": 0.94, "teencode": 0.94}
# The second independent set (1,331 messages), measured 2026-12-05 with the committed
# config.yml: 98.9 / 97.1 / 97.5 % top-1, 99.8 / 99.3 / 99.5 % top-2. The floors leave about
# two points for DIET's run-to-run variance: every CI run trains afresh.
MIN_INDEPENDENT_2_ACCURACY = {"diacritics": 0.96, "plain": 0.94, "teencode": 0.94}
MIN_INDEPENDENT_2_TOP2 = {"diacritics": 0.97, "plain": 0.97, "teencode": 0.97}


def _below(
    predictions: list[Prediction], floors: dict[str, float], top2_floors: dict[str, float]
) -> tuple[dict[str, object], dict[str, tuple[float, float]]]:
    """Styles under a floor (top-1 or top-2), and what was measured: (top-1, top-2) by style."""
    measured = {
        style: (round(accuracy(group), 3), round(top2_accuracy(group), 3))
        for style, group in by_style(predictions).items()
    }
    failing: dict[str, object] = {
        s: m for s, m in measured.items() if m[0] < floors[s] or m[1] < top2_floors[s]
    }
    return failing, measured


def test_held_out_accuracy_per_style(stack: RunningStack) -> None:
    predictions = parse_all(stack.rasa_url, load_examples(HELD_OUT_FILE), token=stack.rasa_token)
    failing, measured = _below(predictions, MIN_ACCURACY, MIN_TOP2)
    assert failing == {}, f"held-out accuracy fell (top-1, top-2): {measured}"


def test_independent_accuracy_per_style(stack: RunningStack) -> None:
    examples = load_examples(INDEPENDENT_FILE)
    predictions = parse_all(stack.rasa_url, examples, token=stack.rasa_token)
    failing, measured = _below(predictions, MIN_INDEPENDENT_ACCURACY, MIN_INDEPENDENT_TOP2)
    assert failing == {}, f"independent held-out accuracy fell (top-1, top-2): {measured}"


def test_second_independent_accuracy_per_style(stack: RunningStack) -> None:
    examples = load_examples(INDEPENDENT_2_FILE)
    predictions = parse_all(stack.rasa_url, examples, token=stack.rasa_token)
    failing, measured = _below(predictions, MIN_INDEPENDENT_2_ACCURACY, MIN_INDEPENDENT_2_TOP2)
    assert failing == {}, f"second independent set's accuracy fell (top-1, top-2): {measured}"
