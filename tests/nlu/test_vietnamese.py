"""The Vietnamese normaliser (pure functions behind the custom Rasa tokenizer)."""

from __future__ import annotations

import re
import unicodedata

import pytest
import yaml

from nlu.vietnamese import (
    ABBREVIATIONS_FILE,
    NUMBER_TOKEN,
    ContextRule,
    Normalizer,
    collapse_stretched,
    place_tone_mark,
    strip_diacritics,
)

FULL = Normalizer.load()
with ABBREVIATIONS_FILE.open(encoding="utf-8") as _handle:
    TABLE = yaml.safe_load(_handle)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Đăng ký khai sinh", "Dang ky khai sinh"),
        ("không được", "khong duoc"),
        ("thuỷ hoà khoẻ", "thuy hoa khoe"),
        ("ĐƯỜNG", "DUONG"),
        ("abc 123", "abc 123"),
    ],
)
def test_strip_diacritics(text: str, expected: str) -> None:
    assert strip_diacritics(text) == expected


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("hoà", "hòa"),
        ("hòa", "hòa"),
        ("thuỷ", "thủy"),
        ("khoẻ", "khỏe"),
        ("loà", "lòa"),
        ("quý", "quý"),  # qu + y: the u belongs to the consonant
        ("hoàn", "hoàn"),  # closed syllable: one convention only
        ("toán", "toán"),
        ("xoè", "xòe"),
        ("hoa", "hoa"),
        ("người", "người"),
    ],
)
def test_one_tone_mark_convention(word: str, expected: str) -> None:
    assert place_tone_mark(unicodedata.normalize("NFC", word)) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("alooo", "alo"),
        ("chàoooo bạn", "chào bạn"),
        ("xoong", "xoong"),
        ("1000", "1000"),
        ("điiiii", "đi"),
    ],
)
def test_stretched_letters(text: str, expected: str) -> None:
    assert collapse_stretched(text) == expected


SMALL = Normalizer(
    abbreviations={"ko": "không", "dc": "được", "cccd": "căn cước công dân"},
    context={"k": ContextRule(default="không", after_number="nghìn")},
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Ko dc", "không được"),
        ("lam CCCD o dau", "lam căn cước công dân o dau"),
        ("k biết", "không biết"),
        ("phí 50k", "phí 50 nghìn"),
        ("phí 50 k", "phí 50 nghìn"),
        ("mã 123456 nè", f"mã {NUMBER_TOKEN} nè"),
        ("số 001203004567", f"số {NUMBER_TOKEN}"),
        ("năm 2025", f"năm {NUMBER_TOKEN}"),
        ("lớp 12", "lớp 12"),
        ("hoà bình", "hòa bình"),
        ("  nhiều   khoảng   trắng ", "nhiều khoảng trắng"),
        ("dc ko???", "được không ???"),
        ("", ""),
        ("Xin Chào", "xin chào"),
        ("xin cha\u0300o", "xin chào"),  # decomposed (NFD) input
    ],
)
def test_normalizer_rules(text: str, expected: str) -> None:
    assert SMALL(text) == expected


def test_table_is_big_enough_and_well_formed() -> None:
    abbreviations: dict[str, str] = TABLE["abbreviations"]
    assert len(abbreviations) >= 150
    for token, expansion in abbreviations.items():
        assert re.fullmatch(r"[0-9a-zà-ỹđ]+", str(token)), token
        assert expansion, token
        assert expansion == expansion.lower(), token


@pytest.mark.parametrize("token", sorted(TABLE["abbreviations"]))
def test_every_abbreviation_expands(token: str) -> None:
    expansion = TABLE["abbreviations"][token]
    assert FULL(token) == FULL(expansion)
    assert FULL(f"tôi {token} nhé") == f"tôi {FULL(expansion)} nhé"


@pytest.mark.parametrize("token", sorted(TABLE.get("never") or []))
def test_real_words_are_never_replaced(token: str) -> None:
    assert token not in TABLE["abbreviations"]
    assert token not in TABLE.get("context", {})
    assert FULL(f"xin {token} nhé") == f"xin {place_tone_mark(token)} nhé"


@pytest.mark.parametrize("token", sorted(TABLE.get("context") or {}))
def test_context_rules_follow_numbers(token: str) -> None:
    rule = TABLE["context"][token]
    if rule.get("default") is not None:
        assert FULL(f"tôi {token} biết") == f"tôi {FULL(rule['default'])} biết"
    if rule.get("after_number") is not None:
        assert FULL(f"5{token}") == f"5 {rule['after_number']}"
        assert FULL(f"5 {token}") == f"5 {rule['after_number']}"


@pytest.mark.parametrize(
    ("typed", "standard"),
    [
        ("ko bít lm cccd ntn", "không biết làm căn cước công dân như thế nào"),
        ("mik mún kích hoạt vneid", "mình muốn kích hoạt vneid"),
        ("alooo ad ơi", "alo ad ơi"),
    ],
)
def test_resident_sentences(typed: str, standard: str) -> None:
    assert FULL(typed) == FULL(standard)
