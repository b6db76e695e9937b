"""Vietnamese text as residents type it, made regular: pure functions, no Rasa import.

Used by the custom Rasa components in `nlu.components` (inside .venv-rasa, Python 3.10 in the
rasa/rasa image) and importable from the main environment for tests and benchmarks.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ABBREVIATIONS_FILE = Path(__file__).with_name("abbreviations.yml")

# Combining tone marks (NFD): grave, acute, tilde, hook above, dot below.
TONE_MARKS = frozenset("\u0300\u0301\u0303\u0309\u0323")
# Open syllables whose tone mark has two conventions (hoà / hòa, thuỷ / thủy, khoẻ / khỏe).
# We put it on the first vowel ("hòa", "thủy", "khỏe"), the default of Vietnamese keyboards.
# "qu" + y is not such a syllable: the u belongs to the consonant ("quý").
_OPEN_DIPHTHONG = re.compile(r"(?<!q)(o[ae]|uy)$")
_STRETCHED = re.compile(r"([^\W\d_])\1{2,}")
# A vowel typed twice at the end of a word is stretching too ("nhaa", "đii", "dạa", "nhée"):
# no Vietnamese word ends in the same vowel twice (tone marks aside; "ưu" is two vowels).
# "o" and "e" only in a word with a Vietnamese mark, so English "free", "zoo" keep theirs.
_VOWELS = frozenset("aăâeêioôơuưy")
_VIETNAMESE_MARKED = re.compile(r"[ăâêôơưđà-ỹ]")
_TOKEN = re.compile(r"\w+|[^\w\s]+")
_NUMBER_SUFFIX = re.compile(r"^(\d+)([^\W\d_]+)$")
NUMBER_TOKEN = "xxso"
MASKED_DIGITS = 4  # runs this long (IDs, phones, OTPs, account numbers) never become features

# Emoticons typed with punctuation are removed before tokens are read (on the text as typed,
# so "xD" is a face and "XD" may still be "xây dựng"): ":v" must not become "v" (= vậy),
# ":D" not a "d". A face with a letter or digit mouth (":v", ":D", ":3") stands alone, so
# "8:30" and "https://" are untouched; a bracket mouth (":))", "=((") may follow a word.
_EMOTICON = re.compile(
    r"[:;=]['\-^]?[)(\]\[|<>]+"  # :) :)) =)) :( ;) :> :-)
    r"|(?<![\w:;=])[:;=]['\-^]?(?:[dDpPvVoO3]+|\*)(?![\w/])"  # :v :D :P :o :3 :*
    r"|(?<!\w)xD+(?!\w)"  # xD
    r"|\^[_.o-]?\^+"  # ^^ ^_^ ^.^ ^o^
    r"|(?<!\w)(?:[tT]_+[tT]|[oO]_[oO])(?!\w)"  # T_T o_O
    r"|[-=;@][_.][-=;@]|>[_.]?<|@@"  # -_- =.= ;_; @_@ >.< @@
)
# Hearts, once the other faces are gone: only at the end of the message ("trẻ <3 tuổi").
_HEART = re.compile(r"</?3+(?=[\s<3/]*$)")
# Expressive tokens (laughter, crying, sighs), matched with diacritics removed and stretched
# letters collapsed: "hihi", "hahaha", "kakaka", "keke", "hjhj", "ahihi", "huhu", "hic",
# "haizz", "hmm". No Vietnamese word is a syllable typed twice in one token.
_EXPRESSIVE = re.compile(
    r"[ae]?([hk])([aeiouy]|j)(?:\1+\2+)+[hkaeiouyj]{0,2}"  # haha hihi kaka hjhj ahihi huhu
    r"|(?:h[ij][ckx]+)+"  # hic hix hjc hichic
    r"|hai?z+|hm+"  # haizz hmm
)
# One consonant typed 3+ times ("kkk", "hhhhh", "zzz", "mmm") is laughter or noise; collapsed,
# it would read as the one-letter abbreviations k = không, h = giờ, z = vậy, r = rồi.
_CONSONANT_RUN = re.compile(r"([b-df-hj-np-tv-xz])\1{2,}|k{2,}")


def strip_diacritics(text: str) -> str:
    """Remove every Vietnamese diacritic ("Đăng ký" → "Dang ky")."""
    decomposed = unicodedata.normalize("NFD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", bare).replace("đ", "d").replace("Đ", "D")


def place_tone_mark(word: str) -> str:
    """One tone-mark convention for oa / oe / uy open syllables ("hoà" → "hòa")."""
    decomposed = unicodedata.normalize("NFD", word)
    tones = [c for c in decomposed if c in TONE_MARKS]
    if len(tones) != 1:
        return word
    base = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in TONE_MARKS))
    match = _OPEN_DIPHTHONG.search(base)
    if match is None:
        return word
    cut = match.start() + 1
    return unicodedata.normalize("NFC", base[:cut] + tones[0] + base[cut:])


def collapse_stretched(text: str) -> str:
    """Letters typed three or more times in a row count once ("alooo" → "alo")."""
    return _STRETCHED.sub(r"\1", text)


def without_tone(letter: str) -> str:
    """A letter without its tone mark ("ạ" → "a", "ố" → "ô"; "ư" stays "ư")."""
    decomposed = unicodedata.normalize("NFD", letter)
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in TONE_MARKS))


def collapse_doubled_end(word: str) -> str:
    """A vowel doubled at the end of a word counts once, keeping its tone mark ("nhaa" → "nha",
    "dạa" → "dạ", "chàoo" → "chào"); "oo" / "ee" only in a word with Vietnamese marks
    ("free", "zoo" are kept)."""
    while len(word) >= 2:
        last, before = word[-1], word[-2]
        base = without_tone(last)
        if base not in _VOWELS or base != without_tone(before):
            break
        if base in "oe" and not _VIETNAMESE_MARKED.search(word):
            break
        word = word[:-2] + (before if last == base else last)
    return word


def remove_emoticons(text: str) -> str:
    """Drop emoticons typed with punctuation (":))", "=))", ":v", ":D", "^^", "T_T", "<3")."""
    return _HEART.sub(" ", _EMOTICON.sub(" ", text))


def is_expressive(token: str) -> bool:
    """Whether a token is laughter, crying, a sigh or a run of one consonant ("kkk", "hihi",
    "hjhj", "huhu", "hhhhh"): a sound, never a word or an abbreviation."""
    bare = strip_diacritics(token.lower())
    return bool(_CONSONANT_RUN.fullmatch(bare) or _EXPRESSIVE.fullmatch(collapse_stretched(bare)))


@dataclass(frozen=True)
class ContextRule:
    """An abbreviation whose meaning depends on whether a number comes right before it."""

    default: str | None
    after_number: str | None


@dataclass(frozen=True)
class Normalizer:
    """NFC, emoticons, laughter and other expressive runs removed, lowercase, long numbers
    masked, abbreviations and teencode expanded to standard words, stretched letters
    collapsed, one tone-mark convention."""

    abbreviations: Mapping[str, str] = field(default_factory=dict)
    context: Mapping[str, ContextRule] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path = ABBREVIATIONS_FILE) -> Normalizer:
        with path.open(encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
        context = {
            str(token): ContextRule(rule.get("default"), rule.get("after_number"))
            for token, rule in (data.get("context") or {}).items()
        }
        return cls(
            abbreviations={str(k): str(v) for k, v in data["abbreviations"].items()},
            context=context,
        )

    def __call__(self, text: str) -> str:
        text = remove_emoticons(unicodedata.normalize("NFC", text)).lower()
        out: list[str] = []
        for token in self._tokens(text):
            previous = out[-1] if out else ""
            out.append(self._expand(token, previous))
        return " ".join(t for t in out if t)

    def _tokens(self, text: str) -> list[str]:
        tokens: list[str] = []
        for token in _TOKEN.findall(text):
            split = _NUMBER_SUFFIX.match(token)
            if split and split.group(2) in self.context:
                tokens.extend(split.groups())  # "50k" → "50", "k"
            else:
                tokens.append(token)
        return tokens

    def _expand(self, token: str, previous: str) -> str:
        if token.isdigit():
            return NUMBER_TOKEN if len(token) >= MASKED_DIGITS else token
        if is_expressive(token):
            return ""
        # As typed first ("cccd"), then with stretched letters collapsed ("khummm" → "khum",
        # "tuii" → "tui"), each also in the table's tone-mark convention ("đoá" → "đóa").
        plain = collapse_doubled_end(collapse_stretched(token))
        candidates = (token, place_tone_mark(token), plain, place_tone_mark(plain))
        for candidate in dict.fromkeys(candidates):
            rule = self.context.get(candidate)
            if rule is not None:
                after_number = previous.isdigit() or previous == NUMBER_TOKEN
                chosen = rule.after_number if after_number else rule.default
                return chosen if chosen is not None else candidate
            expanded = self.abbreviations.get(candidate)
            if expanded is not None:
                return expanded
        return place_tone_mark(plain)
