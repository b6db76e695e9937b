"""The training data and the held-out set: every intent covered, and never overlapping."""

from __future__ import annotations

from collections import Counter

from actions.intent_labels import BUTTON_ONLY_INTENTS
from cns.nlu_eval import (
    HELD_OUT_FILE,
    STYLES,
    load_examples,
    load_training_examples,
    overlap_key,
)
from tests.domain import domain_intents

MIN_TRAINING_EXAMPLES = 30
MIN_HELD_OUT_PER_INTENT = 10


def test_every_typed_domain_intent_is_trained_and_tested() -> None:
    intents = domain_intents() - BUTTON_ONLY_INTENTS
    assert len(intents) == 44
    trained = Counter(e.intent for e in load_training_examples())
    tested = Counter(e.intent for e in load_examples(HELD_OUT_FILE))
    assert set(trained) == intents
    assert set(tested) == intents
    assert {i: n for i, n in trained.items() if n < MIN_TRAINING_EXAMPLES} == {}
    assert {i: n for i, n in tested.items() if n < MIN_HELD_OUT_PER_INTENT} == {}


def test_held_out_set_has_all_three_styles_per_intent() -> None:
    styles: dict[str, set[str | None]] = {}
    for example in load_examples(HELD_OUT_FILE):
        styles.setdefault(example.intent, set()).add(example.style)
    assert {i: s for i, s in styles.items() if s != set(STYLES)} == {}
    plain = [e.text for e in load_examples(HELD_OUT_FILE) if e.style == "plain"]
    assert [t for t in plain if not t.isascii()] == []


def test_no_held_out_message_appears_in_training_data() -> None:
    training = {overlap_key(e.text) for e in load_training_examples()}
    leaked = [e.text for e in load_examples(HELD_OUT_FILE) if overlap_key(e.text) in training]
    assert leaked == []


def test_no_training_example_is_given_two_intents() -> None:
    intents: dict[str, set[str]] = {}
    for example in load_training_examples():
        intents.setdefault(example.text.strip().lower(), set()).add(example.intent)
    assert {t: i for t, i in intents.items() if len(i) > 1} == {}
