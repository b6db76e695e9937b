"""Regression check: the trained model on both held-out sets, per style.

Thresholds sit a little under what `make bench-nlu` measured (docs/benchmarks/nlu.md; the
independent set's first measurement in docs/benchmarks/nlu-independent.md), so a change that
makes the NLU worse fails the build. They are floors, never targets to tune for: the
independent set is frozen and must not guide model choices.
"""

from __future__ import annotations

import pytest

from cns.nlu_eval import (
    HELD_OUT_FILE,
    INDEPENDENT_FILE,
    accuracy,
    by_style,
    load_examples,
    parse_all,
)
from tests.stack import RunningStack

pytestmark = pytest.mark.e2e

MIN_ACCURACY = {"diacritics": 0.94, "plain": 0.94, "teencode": 0.93}
# Measured 93.2 / 90.1 / 86.5 % on 2026-12-04 (1,299 messages).
MIN_INDEPENDENT_ACCURACY = {"diacritics": 0.91, "plain": 0.88, "teencode": 0.84}


def test_held_out_accuracy_per_style(stack: RunningStack) -> None:
    predictions = parse_all(stack.rasa_url, load_examples(HELD_OUT_FILE), token=stack.rasa_token)
    measured = {style: accuracy(group) for style, group in by_style(predictions).items()}
    failing = {s: round(a, 3) for s, a in measured.items() if a < MIN_ACCURACY[s]}
    assert failing == {}, f"held-out accuracy fell: {measured}"


def test_independent_accuracy_per_style(stack: RunningStack) -> None:
    examples = load_examples(INDEPENDENT_FILE)
    predictions = parse_all(stack.rasa_url, examples, token=stack.rasa_token)
    measured = {style: accuracy(group) for style, group in by_style(predictions).items()}
    failing = {s: round(a, 3) for s, a in measured.items() if a < MIN_INDEPENDENT_ACCURACY[s]}
    assert failing == {}, f"independent held-out accuracy fell: {measured}"
