"""Regression check: the trained model on the held-out set, per style.

Thresholds sit a little under what `make bench-nlu` measured (docs/benchmarks/nlu.md),
so a change that makes the NLU worse fails the build.
"""

from __future__ import annotations

import pytest

from cns.nlu_eval import HELD_OUT_FILE, accuracy, by_style, load_examples, parse_all
from tests.stack import RunningStack

pytestmark = pytest.mark.e2e

MIN_ACCURACY = {"diacritics": 0.94, "plain": 0.94, "teencode": 0.93}


def test_held_out_accuracy_per_style(stack: RunningStack) -> None:
    predictions = parse_all(stack.rasa_url, load_examples(HELD_OUT_FILE), token=stack.rasa_token)
    measured = {style: accuracy(group) for style, group in by_style(predictions).items()}
    failing = {s: round(a, 3) for s, a in measured.items() if a < MIN_ACCURACY[s]}
    assert failing == {}, f"held-out accuracy fell: {measured}"
