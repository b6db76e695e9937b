"""Communes, wards, special zones and provinces in force since 1 July 2025, and resolving them
from the free text residents type (with or without diacritics, abbreviated, in a sentence).

Data: the SQLite file bundled with the `vietnamadminunits` package (3,321 commune-level units
in 34 provinces), read directly; the package's parser is not used. Its list of the 63 former
provinces and the old-to-new province table are read too, so that "Bình Dương" still means
Thành phố Hồ Chí Minh.
"""

from __future__ import annotations

import json
import re
import sqlite3
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from functools import cache
from importlib.resources import as_file, files

DATA_PACKAGE = "vietnamadminunits"
KINDS = ("Xã", "Phường", "Đặc khu")
ANY_KIND = "*"  # a former unit word ("thị trấn", "thị xã") that may now be any kind
PROVINCE_KIND = "tỉnh"

# Combining tone marks after NFD: grave, acute, tilde, hook above, dot below. The other
# combining marks (circumflex, breve, horn) belong to the letter, not to the tone.
_TONE_MARKS = frozenset("\u0300\u0301\u0303\u0309\u0323")
_APOSTROPHES = re.compile(r"['’‘`ʼ]")
_WORD = re.compile(r"[^\W_]+")

# Words before a name that say what kind of unit it is: diacritic-free token sequences, the
# kind, and the words as spelt (typed with another tone, "xá" is not "xã" but part of a name).
_TYPE_WORDS: dict[tuple[str, ...], tuple[str, str]] = {
    ("dac", "khu"): ("Đặc khu", "đặc khu"),
    ("dackhu",): ("Đặc khu", "đặckhu"),
    ("thi", "tran"): (ANY_KIND, "thị trấn"),
    ("thi", "xa"): (ANY_KIND, "thị xã"),
    ("xa",): ("Xã", "xã"),
    ("x",): ("Xã", "x"),
    ("phuong",): ("Phường", "phường"),
    ("phg",): ("Phường", "phg"),
    ("ph",): ("Phường", "ph"),
    ("p",): ("Phường", "p"),
    ("f",): ("Phường", "f"),
    ("tinh",): (PROVINCE_KIND, "tỉnh"),  # "tỉnh Tây Ninh" is never a commune
}
# Other unit words, skipped when looking for "ở" before a name ("ở tp Thủ Đức"); before a
# one-word province name they make it one ("tp Huế").
_UNIT_WORDS: frozenset[tuple[str, ...]] = frozenset(
    {("thanh", "pho"), ("tp",), ("tx",), ("huyen",), ("quan",), ("tinh",)}
)
# A bare name (no type word, no province) counts when one of these comes right before it ...
_LOCATIVE_WORDS = frozenset({"o", "tai", "thuoc", "ve", "vao", "sang"})
# ... or when everything else in the message is one of these words.
_FILLER_TEXT = """
toi tui minh mik mk em e anh chi c bac chau con co chu ong ba cu di thim ad admin ban
nha nhe nhen nhan ne nek a ah ak da vang oi o tai thuoc song dang hien nay gio bay la
roi r que day do cua va voi thi cho ve vao sang moi chuyen qua den nhap sau truoc khu
vuc dia tru tam thuong dzay vay z xin chao cam on thanh pho tp tinh tx huyen
quan tran xa phuong p f ph phg dac
"""
# Commune names that are everyday words: a bare mention needs a type word or the province.
_EVERYDAY_TEXT = """
an toan, thanh cong, doan ket, thong nhat, hanh phuc, doc lap, thuan loi, dan chu, trung tam,
chien thang, quyet thang, thang loi, binh an, an binh, yen binh, binh yen, hoa thuan,
dong thuan, hung thinh, an lac, tien phong, tan tien, binh minh, phu quy, bao la, hoa hop
"""
# Commune names that look like everyday words when typed without diacritics ("la gi" / "là
# gì", "con co" / "còn có"): the same, unless typed with the name's own diacritics ("La Gi").
_LOOKALIKE_TEXT = """
la gi, gia dinh, tien dien, dong tien, ban co, con co, nhan co, co ma, ba gia, van an,
tri qua, ban ho, ban may, nhan ly, cua ong, can dang, cho quan, phu trach, ky thuong,
hong chau, dong ha, dai dong, minh tam, bao an
"""


def _phrases(text: str, separator: str) -> frozenset[str]:
    return frozenset(" ".join(p.split()) for p in text.split(separator) if p.strip())


_FILLER_WORDS = _phrases(_FILLER_TEXT.replace("\n", " "), " ")
_EVERYDAY_NAMES = _phrases(_EVERYDAY_TEXT, ",")
_LOOKALIKE_NAMES = _phrases(_LOOKALIKE_TEXT, ",")

# Province names residents use besides the official ones (diacritic-free, space-separated).
# Strong aliases filter the communes outright; weak ones only when that leaves some.
_STRONG_PROVINCE_ALIASES: dict[str, tuple[str, ...]] = {
    "01": ("hn", "hnoi", "tphn"),
    "79": ("hcm", "tphcm", "hcmc", "sai gon", "saigon"),
    "31": ("hphong",),
    "48": ("dnang",),
    "92": ("ctho",),
    "46": ("thua thien hue", "tthue", "tt hue"),
    "66": ("dac lac", "dak lac", "dac lak", "daclac", "daklac", "daclak"),
    "22": ("qninh",),
    "51": ("qngai",),
    "44": ("qtri",),
    "80": ("tninh",),
    "24": ("bninh",),
    "82": ("dthap",),
    "86": ("vlong",),
    "08": ("tquang",),
    "19": ("tnguyen",),
    "20": ("lson",),
    "15": ("lcai",),
    "12": ("lchau",),
    "96": ("cmau",),
    "75": ("dnai",),
    "42": ("htinh",),
    "25": ("ptho",),
    "52": ("glai",),
    "68": ("ldong", "dac nong"),
    "33": ("hyen",),
    "91": ("agiang",),
    "04": ("cbang",),
    "11": ("dbien",),
}
_WEAK_PROVINCE_ALIASES: dict[str, tuple[str, ...]] = {
    "79": ("sg", "brvt"),
    "31": ("hp",),
}

Sig = tuple[str, str]  # a syllable's letters (with vowel marks and đ) and its tone mark


@dataclass(frozen=True)
class Province:
    """A province or centrally-run city."""

    code: str  # "01"
    name: str  # "Thành phố Hà Nội"
    short: str  # "Hà Nội"


@dataclass(frozen=True)
class Commune:
    """A commune-level unit: xã, phường or đặc khu."""

    code: str  # "00004"
    name: str  # "Phường Ba Đình"
    short: str  # "Ba Đình"
    kind: str  # "Xã" | "Phường" | "Đặc khu"
    province: Province

    @property
    def label(self) -> str:
        """The name and province ("Phường Ba Đình, Hà Nội"), for buttons and confirmations."""
        return f"{self.name}, {self.province.short}"


@dataclass(frozen=True)
class PlaceMatch:
    """What a text names: the best commune candidates (best first) and the province, if any."""

    communes: tuple[Commune, ...] = ()
    province: Province | None = None

    @property
    def unique(self) -> Commune | None:
        """The one commune when exactly one matched."""
        return self.communes[0] if len(self.communes) == 1 else None


# --- text ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    plain: str  # lowercase, diacritic-free ("phuong")
    sig: Sig | None  # None when typed without any diacritic
    upper: bool  # typed in capitals ("NB")


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.lower())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", bare).replace("đ", "d")


def _sig(word: str) -> Sig:
    """Letters and tone apart, so that "hoà" and "hòa" (two tone placements) are equal."""
    decomposed = unicodedata.normalize("NFD", word.lower())
    tone = "".join(c for c in decomposed if c in _TONE_MARKS)
    letters = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in _TONE_MARKS))
    return letters, tone


def _words(text: str) -> list[str]:
    """Lowercase NFC words; apostrophes dropped ("H'Leo" → "hleo"), other punctuation splits."""
    text = _APOSTROPHES.sub("", unicodedata.normalize("NFC", text))
    return _WORD.findall(text)


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    for raw in _words(text):
        word = raw.lower()
        if len(word) > 1 and word[0] == "f" and word[1].isalpha():
            word = "ph" + word[1:]  # teencode "fường", "fú" → "phường", "phú"
        plain = _plain(word)
        upper = len(raw) > 1 and raw.isupper()
        tokens.append(_Token(plain, _sig(word) if plain != word else None, upper))
    return tokens


def _name_variants(short: str) -> list[tuple[tuple[str, ...], tuple[Sig, ...]]]:
    """Token sequences (with their syllables' accents) under which a name may be typed."""
    cleaned = unicodedata.normalize("NFC", short).lower()
    variants: list[tuple[tuple[str, ...], tuple[Sig, ...]]] = []
    spellings = {_APOSTROPHES.sub("", cleaned), _APOSTROPHES.sub(" ", cleaned)}
    for spelling in sorted(spellings):
        words = _WORD.findall(spelling)
        variants.append((tuple(_plain(w) for w in words), tuple(_sig(w) for w in words)))
    return variants


# --- data ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _CommuneName:
    tokens: tuple[str, ...]
    sigs: tuple[Sig, ...] | None  # None: no accent check (names typed without spaces)
    commune: Commune
    weight: int  # words in the name it stands for; longer names win
    weak: bool  # needs a type word or the province next to it
    lookalike: bool = False  # weak unless typed with its own diacritics ("Ô Môn", not "ở môn")


@dataclass(frozen=True)
class _ProvinceName:
    tokens: tuple[str, ...]
    sigs: tuple[Sig, ...]
    province: Province
    strong: bool
    upper_only: bool  # initials, counted only when typed in capitals ("NB")
    everyday: bool  # a one-word name that is also a word ("Huế" / "Huệ"): accents checked


@dataclass(frozen=True)
class _Data:
    provinces: tuple[Province, ...]
    communes: tuple[Commune, ...]
    province_by_code: dict[str, Province]
    commune_by_code: dict[str, Commune]
    commune_names: dict[str, tuple[_CommuneName, ...]]  # by first token
    commune_names_by_second: dict[str, tuple[_CommuneName, ...]]  # for a typo in the first
    province_names: dict[str, tuple[_ProvinceName, ...]]  # by first token


def _read_rows() -> tuple[list[sqlite3.Row], list[sqlite3.Row], dict[str, list[str]]]:
    data_dir = files(DATA_PACKAGE) / "data"
    with as_file(data_dir / "dataset.db") as path:
        connection = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
        try:
            connection.row_factory = sqlite3.Row
            units = connection.execute(
                "SELECT province, provinceShort, provinceCode, provinceKey, ward, wardShort, "
                "wardType, wardCode FROM admin_units ORDER BY wardCode"
            ).fetchall()
            legacy = connection.execute(
                "SELECT DISTINCT province, provinceShort, provinceKey, provinceAlias "
                "FROM admin_units_legacy"
            ).fetchall()
        finally:
            connection.close()
    converter = json.loads((data_dir / "converter_2025.json").read_text(encoding="utf-8"))
    merged: dict[str, list[str]] = converter["DICT_PROVINCE"]
    return units, legacy, merged


def _group(items: Iterable[tuple[str, _CommuneName]]) -> dict[str, tuple[_CommuneName, ...]]:
    grouped: defaultdict[str, list[_CommuneName]] = defaultdict(list)
    for key, item in items:
        grouped[key].append(item)
    return {k: tuple(sorted(v, key=lambda n: -len(n.tokens))) for k, v in grouped.items()}


def _commune_names(communes: Sequence[Commune]) -> list[_CommuneName]:
    vocabulary = {t for c in communes for v in _name_variants(c.short) for t in v[0]}
    names: list[_CommuneName] = []
    for commune in communes:
        words = [_plain(w) for w in _words(commune.short)]  # "M'Drắk" is one word
        weight = len(words)
        for tokens, sigs in _name_variants(commune.short):
            phrase = " ".join(tokens)
            weak = weight == 1 or phrase in _EVERYDAY_NAMES
            lookalike = phrase in _LOOKALIKE_NAMES or tokens[0] == "o"  # "o" is also "ở"
            names.append(_CommuneName(tokens, sigs, commune, weight, weak, lookalike))
        parts = [p for p in re.split(r"\s+-\s+", commune.short) if p != commune.short]
        for part in parts:  # "Lâm Viên - Đà Lạt" is also typed "Lâm Viên" or "Đà Lạt"
            for tokens, sigs in _name_variants(part):
                names.append(_CommuneName(tokens, sigs, commune, len(tokens), len(tokens) == 1))
        joined = "".join(words)
        if weight > 1 and len(joined) >= 5 and joined not in vocabulary:
            names.append(_CommuneName((joined,), None, commune, weight, weak=True))
    return names


def _province_names(
    by_key: dict[str, Province], legacy: Sequence[sqlite3.Row], merged: dict[str, list[str]]
) -> list[_ProvinceName]:
    provinces = sorted(by_key.values(), key=lambda p: p.code)
    by_code = {p.code: p for p in provinces}
    names: dict[tuple[tuple[str, ...], str], _ProvinceName] = {}

    def add(text: str, province: Province, *, strong: bool = True, upper: bool = False) -> None:
        for tokens, sigs in _name_variants(text):
            everyday = len(tokens) == 1 and _plain(text) != text
            name = _ProvinceName(tokens, sigs, province, strong, upper, everyday)
            names.setdefault((tokens, province.code), name)

    new_of_key: dict[str, Province] = {}
    for province in provinces:
        add(province.short, province)
        add(_plain(province.short).replace(" ", ""), province)
        for alias in _STRONG_PROVINCE_ALIASES.get(province.code, ()):
            add(alias, province)
        for alias in _WEAK_PROVINCE_ALIASES.get(province.code, ()):
            add(alias, province, strong=False)
    for row in legacy:
        new = next((by_key[k] for k, olds in merged.items() if row["provinceKey"] in olds), None)
        if new is None:
            continue
        new_of_key[row["provinceKey"]] = new
        add(row["provinceShort"], new)
        add(_plain(row["provinceShort"]).replace(" ", ""), new)
        for alias in json.loads(row["provinceAlias"] or "[]"):
            add(str(alias), new)
    # Initials ("NB" for Ninh Bình), when they point to one province and are typed in capitals.
    initials: defaultdict[str, set[str]] = defaultdict(set)
    for short, province in [(p.short, p) for p in provinces] + [
        (r["provinceShort"], new_of_key[r["provinceKey"]])
        for r in legacy
        if r["provinceKey"] in new_of_key
    ]:
        words = _words(_plain(short))
        if len(words) > 1:
            initials["".join(w[0] for w in words)].add(province.code)
    for letters, codes in initials.items():
        if len(codes) == 1:
            add(letters, by_code[next(iter(codes))], strong=False, upper=True)
    return list(names.values())


@cache
def _data() -> _Data:
    units, legacy, merged = _read_rows()
    provinces: dict[str, Province] = {}
    by_key: dict[str, Province] = {}
    communes: list[Commune] = []
    for row in units:
        code = row["provinceCode"]
        if code not in provinces:
            provinces[code] = Province(code, row["province"], row["provinceShort"])
            by_key[row["provinceKey"]] = provinces[code]
        # Four rows have a wardType that contradicts their name (Phường Việt Hòa is 'Xã');
        # the name is right, so the kind comes from it.
        kind = next((k for k in KINDS if row["ward"].startswith(k + " ")), row["wardType"])
        communes.append(
            Commune(row["wardCode"], row["ward"], row["wardShort"], kind, provinces[code])
        )
    ordered = tuple(sorted(provinces.values(), key=lambda p: p.code))
    names = _commune_names(communes)
    province_names: defaultdict[str, list[_ProvinceName]] = defaultdict(list)
    for pname in _province_names(by_key, legacy, merged):
        province_names[pname.tokens[0]].append(pname)
    return _Data(
        provinces=ordered,
        communes=tuple(communes),
        province_by_code={p.code: p for p in ordered},
        commune_by_code={c.code: c for c in communes},
        commune_names=_group((n.tokens[0], n) for n in names),
        commune_names_by_second=_group((n.tokens[1], n) for n in names if len(n.tokens) > 1),
        province_names={k: tuple(v) for k, v in province_names.items()},
    )


def provinces() -> tuple[Province, ...]:
    """The 34 provinces and centrally-run cities, by code."""
    return _data().provinces


def communes() -> tuple[Commune, ...]:
    """The 3,321 communes, wards and special zones, by code."""
    return _data().communes


def commune_by_code(code: str) -> Commune | None:
    """The commune with this 5-digit code, if any."""
    return _data().commune_by_code.get(code.strip())


def province_by_code(code: str) -> Province | None:
    """The province with this 2-digit code, if any."""
    return _data().province_by_code.get(code.strip())


# --- matching --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Span:
    start: int
    end: int  # exclusive

    def overlaps(self, other: _Span) -> bool:
        return self.start < other.end and other.start < self.end

    def contains(self, other: _Span) -> bool:
        return self.start <= other.start and other.end <= self.end

    def strictly_contains(self, other: _Span) -> bool:
        return self.contains(other) and self != other


@dataclass(frozen=True)
class _ProvinceMention:
    span: _Span
    province: Province
    strong: bool
    initials: bool = False  # "NB": narrows communes down, never named on its own


@dataclass(frozen=True)
class _CommuneMention:
    span: _Span
    name: _CommuneName
    kind: str | None  # the type word before it: a kind, ANY_KIND, PROVINCE_KIND or None
    type_start: int  # where the type word starts (== span.start without one)
    exact: int  # syllables typed with exactly its diacritics
    conflicts: int  # syllables typed with other diacritics
    fuzzy: bool  # one word mistyped

    @property
    def commune(self) -> Commune:
        return self.name.commune

    @property
    def typed(self) -> bool:
        return self.kind is not None

    @property
    def weak(self) -> bool:
        """Needs a type word or the province: see _EVERYDAY_TEXT and _LOOKALIKE_TEXT."""
        spelt = self.exact == len(self.name.tokens)
        return self.name.weak or (self.name.lookalike and not spelt)


def _accents(tokens: Sequence[_Token], sigs: tuple[Sig, ...] | None) -> tuple[int, int]:
    """Syllables typed with exactly these diacritics, and with other ones.

    In a name typed with diacritics, a bare syllable is taken as meant bare: "Văn Lang" is
    exactly Văn Lang and not quite Văn Lăng (but does not conflict with it either).
    """
    if sigs is None:
        return 0, 0
    accented = any(t.sig is not None for t in tokens)
    exact = conflicts = 0
    for token, sig in zip(tokens, sigs, strict=True):
        if token.sig is None:
            exact += int(accented and sig == (token.plain, ""))
        elif token.sig == sig:
            exact += 1
        else:
            conflicts += 1
    return exact, conflicts


def _words_before(tokens: Sequence[_Token], start: int, n: int) -> tuple[str, ...]:
    return tuple(t.plain for t in tokens[start - n : start]) if start >= n else ()


def _type_before(tokens: Sequence[_Token], start: int) -> tuple[str | None, int]:
    """The kind named by the word(s) right before `start`, and where they start."""
    for n in (2, 1):
        entry = _TYPE_WORDS.get(_words_before(tokens, start, n))
        if entry is None:
            continue
        kind, spelt = entry
        typed = tokens[start - n : start]
        if all(
            t.sig is None or t.sig[1] == _sig(w)[1]
            for t, w in zip(typed, spelt.split(), strict=True)
        ):
            return kind, start - n
    return None, start


def _unit_word_length(tokens: Sequence[_Token], start: int) -> int:
    for n in (2, 1):
        if _words_before(tokens, start, n) in _UNIT_WORDS:
            return n
    return 0


def _find_provinces(tokens: Sequence[_Token], data: _Data) -> list[_ProvinceMention]:
    found: list[_ProvinceMention] = []
    for i, token in enumerate(tokens):
        if token.plain.isdigit():
            before = _words_before(tokens, i, 1)
            province = data.province_by_code.get(token.plain)
            if province and (len(tokens) == 1 or before in {("ma",), ("tinh",), ("tp",)}):
                found.append(_ProvinceMention(_Span(i, i + 1), province, strong=True))
            continue
        for name in data.province_names.get(token.plain, ()):
            n = len(name.tokens)
            window = tokens[i : i + n]
            if len(window) < n or any(
                t.plain != w for t, w in zip(window, name.tokens, strict=True)
            ):
                continue
            if name.upper_only and not all(t.upper for t in window):
                continue
            strong = name.strong
            if name.everyday:
                exact, conflicts = _accents(window, name.sigs)
                if conflicts:
                    continue  # "Huệ" is someone's name, not Huế
                strong = strong and (exact > 0 or _unit_word_length(tokens, i) > 0)
            mention = _ProvinceMention(_Span(i, i + n), name.province, strong, name.upper_only)
            found.append(mention)
    return found


def _within_one_edit(a: str, b: str) -> bool:
    """Damerau-Levenshtein distance of at most 1 (one letter added, dropped, changed, swapped)."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [k for k in range(len(a)) if a[k] != b[k]]
        if len(diff) == 1:
            return True
        k = diff[0]
        return len(diff) == 2 and diff[1] == k + 1 and a[k] == b[k + 1] and a[k + 1] == b[k]
    short, long = (a, b) if len(a) < len(b) else (b, a)
    k = next((k for k in range(len(short)) if short[k] != long[k]), len(short))
    return short[k:] == long[k + 1 :]


def _typo_fits(typed: str, expected: str) -> bool:
    return len(expected) >= 3 and len(typed) >= 2 and _within_one_edit(typed, expected)


def _find_communes(tokens: Sequence[_Token], data: _Data, *, fuzzy: bool) -> list[_CommuneMention]:
    """Names typed word for word or, with `fuzzy`, with exactly one word mistyped."""
    found: list[_CommuneMention] = []

    def add(i: int, name: _CommuneName, typo: int | None = None) -> None:
        n = len(name.tokens)
        kind, type_start = _type_before(tokens, i)
        window, sigs = list(tokens[i : i + n]), name.sigs
        if typo is not None and sigs is not None:
            window, sigs = window[:typo] + window[typo + 1 :], sigs[:typo] + sigs[typo + 1 :]
        exact, conflicts = _accents(window, sigs)
        span, mistyped = _Span(i, i + n), typo is not None
        found.append(_CommuneMention(span, name, kind, type_start, exact, conflicts, mistyped))

    for i, token in enumerate(tokens):
        for name in data.commune_names.get(token.plain, ()):
            rest = name.tokens[1:]
            window = [t.plain for t in tokens[i + 1 : i + len(name.tokens)]]
            if len(window) < len(rest):
                continue
            misses = [k for k, (t, w) in enumerate(zip(window, rest, strict=True)) if t != w]
            if not misses:
                if not fuzzy:
                    add(i, name)
            elif fuzzy and len(misses) == 1 and _typo_fits(window[misses[0]], rest[misses[0]]):
                add(i, name, typo=misses[0] + 1)
        if fuzzy and i + 1 < len(tokens):
            for name in data.commune_names_by_second.get(tokens[i + 1].plain, ()):
                window = [t.plain for t in tokens[i : i + len(name.tokens)]]
                if (
                    len(window) == len(name.tokens)
                    and window[0] != name.tokens[0]
                    and window[2:] == list(name.tokens[2:])
                    and _typo_fits(window[0], name.tokens[0])
                ):
                    add(i, name, typo=0)
    return found


def _untyped_when_part_of_a_name(
    mentions: Sequence[_CommuneMention],
) -> list[_CommuneMention]:
    """A type word that ends another name is none: in "Bạch Xa Tuyên Quang", "xa" is part
    of Bạch Xa and does not make Tuyên Quang a xã."""
    out: list[_CommuneMention] = []
    for m in mentions:
        words = _Span(m.type_start, m.span.start)
        if m.typed and any(
            o.span.overlaps(words) and not o.span.overlaps(m.span) for o in mentions
        ):
            m = replace(m, kind=None, type_start=m.span.start)
        out.append(m)
    return out


def _is_filler_rest(
    tokens: Sequence[_Token], mention: _CommuneMention, provinces: Sequence[_ProvinceMention]
) -> bool:
    """True when the message says nothing but this name, provinces and small talk."""
    covered = set(range(mention.type_start, mention.span.end))
    for p in provinces:
        covered.update(range(p.span.start, p.span.end))
    return all(t.plain in _FILLER_WORDS for k, t in enumerate(tokens) if k not in covered)


def _after_locative(tokens: Sequence[_Token], mention: _CommuneMention) -> bool:
    start = mention.span.start - _unit_word_length(tokens, mention.span.start)
    return start > 0 and tokens[start - 1].plain in _LOCATIVE_WORDS


def _settle(
    tokens: Sequence[_Token],
    mentions: Sequence[_CommuneMention],
    named: Sequence[_ProvinceMention],
    *,
    greedy: bool = False,
) -> tuple[list[_CommuneMention], list[_ProvinceMention]]:
    """Which commune mentions stand, and which province mentions are not part of a commune.

    A name after a type word takes the province names inside it ("phường Bắc Giang"). One that
    only shares words with a province name gives way to it unless `greedy` ("xã Tân Phú, Đồng
    Nai" is Tân Phú in Đồng Nai, not Tân Phú Đông). A bare name that is also a province name
    ("Tây Ninh") stays a province unless another province follows ("Phú Thọ, TP HCM").
    """
    typed: list[_CommuneMention] = []
    bare: list[_CommuneMention] = []
    for m in _untyped_when_part_of_a_name(mentions):
        if m.kind == PROVINCE_KIND or (m.kind in KINDS and m.kind != m.commune.kind):
            continue  # "tỉnh Tây Ninh", "xã Ba Đình" (Ba Đình is a phường)
        if (m.weak or m.fuzzy) and m.conflicts:
            continue  # short everyday words and typos: only with the right diacritics
        (typed if m.typed else bare).append(m)

    left = [p for p in named if not any(m.span.contains(p.span) for m in typed)]
    if greedy:
        left = [p for p in left if not any(m.span.overlaps(p.span) for m in typed)]
    accepted: list[_CommuneMention] = []
    for m in typed:
        if any(m.span.overlaps(p.span) for p in left):
            continue
        if not m.fuzzy or any(p.province == m.commune.province for p in left):
            accepted.append(m)

    for m in sorted(bare, key=lambda m: (m.span.start, -len(m.name.tokens))):
        if any(m.span.overlaps(a.span) and m.span != a.span for a in accepted):
            continue
        inside = [p for p in left if p.span.overlaps(m.span)]
        others = [p for p in left if p not in inside]
        anywhere = [p for p in others if p.province == m.commune.province]
        after = [p for p in anywhere if p.span.start >= m.span.end]
        if (
            any(not m.span.strictly_contains(p.span) for p in inside)  # "Tây Ninh" stays a province
            or m.fuzzy
            or (m.weak and m.name.weight == 1)  # "Láng": only "Láng, Hà Nội"
        ):
            ok = bool(after)
        elif m.weak:  # "thành công": only "Thành Công, Cao Bằng"
            ok = bool(anywhere)
        elif m.conflicts:  # "tiền điện Hà Tĩnh" is not Tiên Điền; "Tân Lạp, Tây Ninh" is Tân Lập
            ok = bool(anywhere) and m.exact >= m.conflicts
        else:
            ok = bool(anywhere) or _after_locative(tokens, m) or _is_filler_rest(tokens, m, others)
        if ok:
            accepted.append(m)
            left = others
    return accepted, left


def _rank(mentions: Sequence[_CommuneMention]) -> list[Commune]:
    """Best first: typed, accents right, longest name; ties by label."""
    pool = list(mentions)
    for better in (
        lambda m: not m.fuzzy,
        lambda m: m.typed,
        lambda m: not m.conflicts,
    ):
        if any(better(m) for m in pool):
            pool = [m for m in pool if better(m)]
    most_exact: dict[_Span, int] = {}
    for m in pool:
        most_exact[m.span] = max(most_exact.get(m.span, 0), m.exact)
    pool = [m for m in pool if m.exact == most_exact[m.span]]  # "Tân Lập" over "Tấn Lập"
    pool = [
        m
        for m in pool
        if not any(o.span.contains(m.span) and o.name.weight > m.name.weight for o in pool)
    ]

    def key(m: _CommuneMention) -> tuple[int, int, str, str]:
        return (-m.name.weight, -m.exact, _plain(m.commune.label), m.commune.code)

    best: dict[str, Commune] = {}
    for m in sorted(pool, key=key):
        best.setdefault(m.commune.code, m.commune)
    return list(best.values())


def _in_provinces(
    mentions: Sequence[_CommuneMention], named: Sequence[_ProvinceMention]
) -> tuple[list[_CommuneMention], list[_ProvinceMention]]:
    """Communes in the named provinces, and the province mentions that did the filtering.

    Full names and common abbreviations filter outright; weak ones ("sg", initials such as
    "NB") only when some commune is left.
    """
    if any(p.strong for p in named):
        allowed = {p.province.code for p in named}
        return [m for m in mentions if m.commune.province.code in allowed], list(named)
    inside = [m for m in mentions if any(p.province == m.commune.province for p in named)]
    if inside or not mentions:
        return inside, list(named)
    return list(mentions), []


def _named_province(
    ranked: Sequence[Commune], used: Sequence[_ProvinceMention], left: Sequence[_ProvinceMention]
) -> Province | None:
    """The province to report: the best commune's if the text names it, else the first named
    (initials such as "NB" only count when they picked the commune)."""
    if ranked and any(p.province == ranked[0].province for p in used):
        return ranked[0].province
    candidates = used if used else ([] if ranked else left)
    named = [p for p in candidates if not p.initials]
    return named[0].province if named else None


def resolve_place(text: str, *, limit: int = 8) -> PlaceMatch:
    """The communes (best first, at most `limit`) and the province that `text` names.

    Accepts names with or without diacritics, type words ("xã", "p.", "phg", "đặc khu"),
    province names, abbreviations and former names ("hn", "tphcm", "Bình Dương"), a 5-digit
    commune code or a 2-digit province code, and one mistyped word in a name when its province
    is named too ("p ba dihn hn"). Bare names that are everyday words need a type word or the
    province ("xã An Toàn", "An Toàn, Gia Lai"; not "an toàn").
    """
    data = _data()
    tokens = _tokenize(text)
    named = _find_provinces(tokens, data)
    by_code = [data.commune_by_code[t.plain] for t in tokens if t.plain in data.commune_by_code]
    if by_code:
        return PlaceMatch(tuple(dict.fromkeys(by_code))[:limit], _named_province([], named, []))

    mentions = _find_communes(tokens, data, fuzzy=False)
    accepted, left = _settle(tokens, mentions, named)
    found, used = _in_provinces(accepted, left)
    real = list(accepted)
    if not found and left:  # a name that runs into the province's name after all
        accepted, left = _settle(tokens, mentions, named, greedy=True)
        found, used = _in_provinces(accepted, left)
        real += accepted
    if not found:  # one mistyped word, where no real name was typed
        typos = [
            m
            for m in _find_communes(tokens, data, fuzzy=True)
            if not any(m.span.overlaps(r.span) for r in real)
            and not any(m.span == r.span for r in mentions)
        ]
        accepted, left = _settle(tokens, typos, named)
        found, used = _in_provinces(accepted, left)
    ranked = _rank(found)[:limit]
    return PlaceMatch(tuple(ranked), _named_province(ranked, used, left))
