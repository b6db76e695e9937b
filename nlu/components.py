"""Custom Rasa 3.6 graph components for Vietnamese (named in config.yml).

- `VietnameseTokenizer`: normalises text as residents type it (see `nlu.vietnamese`),
  optionally segments words with pyvi, then splits it like Rasa's WhitespaceTokenizer.
- `AccentInsensitiveCountVectorsFeaturizer`: counts tokens (or character n-grams) with every
  diacritic removed, so "không", "khong" and "ko" (→ "không") share features.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import (
    CountVectorsFeaturizer,
)
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from nlu.vietnamese import ABBREVIATIONS_FILE, Normalizer, strip_diacritics


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class VietnameseTokenizer(WhitespaceTokenizer):
    """Whitespace tokenizer over normalised Vietnamese text."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        config = WhitespaceTokenizer.get_default_config()
        # Path of the abbreviation / teencode table; None = nlu/abbreviations.yml.
        config["abbreviations"] = None
        # None, or "pyvi": join the syllables of compound words ("căn_cước").
        config["word_segmentation"] = None
        return config

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        path = config.get("abbreviations")
        self.normalizer = Normalizer.load(Path(path) if path else ABBREVIATIONS_FILE)
        self.segment: Callable[[str], str] | None = None
        segmentation = config.get("word_segmentation")
        if segmentation == "pyvi":
            from pyvi import ViTokenizer

            self.segment = ViTokenizer.tokenize
        elif segmentation is not None:
            raise ValueError(f"unknown word_segmentation: {segmentation!r}")

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> VietnameseTokenizer:
        return cls(config)

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        text = message.get(attribute)
        if not isinstance(text, str):
            return super().tokenize(message, attribute)
        normalized = self.normalizer(text)
        if self.segment is not None:
            normalized = self.segment(normalized)
        return super().tokenize(Message(data={attribute: normalized}), attribute)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True)
class AccentInsensitiveCountVectorsFeaturizer(CountVectorsFeaturizer):
    """A CountVectorsFeaturizer that sees every token without diacritics."""

    def _get_message_tokens_by_attribute(self, message: Message, attribute: str) -> list[str]:
        tokens = super()._get_message_tokens_by_attribute(message, attribute)
        if attribute != TEXT:
            return tokens
        return [strip_diacritics(token) for token in tokens]
