"""The custom Rasa components, run inside .venv-rasa (`make test` runs this file there).

The main test run ignores this file: the main environment never imports rasa.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu.components import AccentInsensitiveCountVectorsFeaturizer, VietnameseTokenizer
from nlu.vietnamese import NUMBER_TOKEN

TOKENS = "text_tokens"


def _tokenizer() -> VietnameseTokenizer:
    return VietnameseTokenizer(VietnameseTokenizer.get_default_config())


def _tokens(text: str) -> list[str]:
    message = Message(data={TEXT: text})
    _tokenizer().process([message])
    return [t.text for t in message.get(TOKENS)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Xin CHÀO", ["xin", "chào"]),
        ("Ko dc", ["không", "được"]),
        ("hoà bình, thuỷ lợi!", ["hòa", "bình", "thủy", "lợi"]),
        ("alooo", ["alo"]),
        ("mã otp 123456", ["mã", "otp", NUMBER_TOKEN]),
        ("phí 20k", ["phí", "20", "nghìn"]),
        ("ok kkk :v", ["ok"]),  # laughter and faces are dropped, not read as "không" / "vậy"
        ("2h chieu", ["2", "giờ", "chieu"]),
    ],
)
def test_tokenizer_normalises_before_splitting(text: str, expected: list[str]) -> None:
    assert _tokens(text) == expected


def test_pyvi_segmentation_joins_compound_words() -> None:
    config = {**VietnameseTokenizer.get_default_config(), "word_segmentation": "pyvi"}
    message = Message(data={TEXT: "đk khai sinh ở đâu"})
    VietnameseTokenizer(config).process([message])
    assert [t.text for t in message.get(TOKENS)] == ["đăng_ký", "khai_sinh", "ở", "đâu"]


def test_unknown_segmentation_is_refused() -> None:
    config = {**VietnameseTokenizer.get_default_config(), "word_segmentation": "magic"}
    with pytest.raises(ValueError, match="unknown word_segmentation"):
        VietnameseTokenizer(config)


def test_tokenizer_leaves_the_message_text_as_typed() -> None:
    message = Message(data={TEXT: "Ko dc"})
    _tokenizer().process([message])
    assert message.get(TEXT) == "Ko dc"


@pytest.fixture
def featurizer(tmp_path: Path) -> AccentInsensitiveCountVectorsFeaturizer:
    config = {**AccentInsensitiveCountVectorsFeaturizer.get_default_config(), "analyzer": "word"}
    return AccentInsensitiveCountVectorsFeaturizer.create(
        config,
        LocalModelStorage(tmp_path),
        Resource("accent_insensitive"),
        ExecutionContext(GraphSchema({}), "test"),
    )


def _features(featurizer: AccentInsensitiveCountVectorsFeaturizer, text: str) -> np.ndarray:
    message = Message(data={TEXT: text})
    _tokenizer().process([message])
    featurizer.process([message])
    sequence, _ = message.get_sparse_features(TEXT)
    assert sequence is not None
    dense: np.ndarray = sequence.features.toarray()
    return dense


@pytest.mark.parametrize(
    ("marked", "plain"),
    [
        ("không được", "khong duoc"),
        ("đăng ký khai sinh", "dang ky khai sinh"),
        ("ko đc", "khong duoc"),
    ],
)
def test_same_features_with_and_without_diacritics(
    featurizer: AccentInsensitiveCountVectorsFeaturizer, marked: str, plain: str
) -> None:
    training = TrainingData(
        [Message(data={TEXT: t, INTENT: "x"}) for t in ("không được", "đăng ký khai sinh")]
    )
    _tokenizer().process_training_data(training)
    featurizer.train(training)
    with_marks, without = _features(featurizer, marked), _features(featurizer, plain)
    assert with_marks.sum() > 0
    assert np.array_equal(with_marks, without)


def test_laughter_adds_no_features(featurizer: AccentInsensitiveCountVectorsFeaturizer) -> None:
    training = TrainingData(
        [Message(data={TEXT: t, INTENT: "x"}) for t in ("không được", "ok cảm ơn")]
    )
    _tokenizer().process_training_data(training)
    featurizer.train(training)
    # A message of laughter alone is Rasa's one empty token: no feature at all.
    assert _tokens("hihi =)) kkk") == [""]
    assert _features(featurizer, "hihi =)) kkk").sum() == 0
    assert np.array_equal(_features(featurizer, "ok hhhhh :D"), _features(featurizer, "ok"))
    assert _features(featurizer, "ok").sum() > 0
