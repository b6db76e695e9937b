"""Masking of personal numbers and secrets (tables, the PII corpus, property-based tests of
every format) and pseudonymous ids."""

from __future__ import annotations

import re
import unicodedata
from datetime import date

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from core.privacy import ID_MASK, NUMBER_MASK, PHONE_MASK, SECRET_MASK, mask_pii, pseudonymize
from tests.pii_corpus import CORPUS, PiiSample


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("cccd cua toi 001203004567 nhe", f"cccd cua toi {ID_MASK} nhe"),
        ("số định danh 001 203 004 567", f"số định danh {ID_MASK}"),
        ("so dt 0912345678", f"so dt {PHONE_MASK}"),
        ("gọi 0912 345 678 giúp", f"gọi {PHONE_MASK} giúp"),
        ("sdt 0912.345.678", f"sdt {PHONE_MASK}"),
        ("+84912345678 đây", f"{PHONE_MASK} đây"),
        ("84912345678", PHONE_MASK),
        ("ma otp la 123456", f"ma otp la {NUMBER_MASK}"),
        ("passcode 654321.", f"passcode {NUMBER_MASK}."),
        ("stk 19036512345019", f"stk {NUMBER_MASK}"),
        ("năm 2025 phí 20.000đ", "năm 2025 phí 20.000đ"),
        ("xã mã 00004", "xã mã 00004"),
        ("ma otp 4821", f"ma otp {SECRET_MASK}"),
        ("mã xác nhận là 0912", f"mã xác nhận là {SECRET_MASK}"),
        ("mật khẩu của tôi là Hoa@abc", f"mật khẩu của tôi là {SECRET_MASK}"),
        ("pass: hoa1975, giúp với", f"pass: {SECRET_MASK}, giúp với"),
        ("MK 2468", f"MK {SECRET_MASK}"),
        ("quên mật khẩu vneid", "quên mật khẩu vneid"),
        ("mat khau la gi?", "mat khau la gi?"),
        ("mật khẩu 8 ký tự", "mật khẩu 8 ký tự"),
        ("", ""),
        ("http://127.0.0.1:5005/webhooks", "http://127.0.0.1:5005/webhooks"),
        ("2026-11-23 14:20:46 rasa 3.6.21", "2026-11-23 14:20:46 rasa 3.6.21"),
        ("ngày 1.5 và 12 34", "ngày 1.5 và 12 34"),
        ("không có số nào", "không có số nào"),
    ],
)
def test_mask_pii(text: str, expected: str) -> None:
    assert mask_pii(text) == expected


def test_mask_pii_masks_every_occurrence() -> None:
    masked = mask_pii("001203004567 và 0987654321 và 111222")
    assert masked == f"{ID_MASK} và {PHONE_MASK} và {NUMBER_MASK}"


def test_pseudonym_is_stable_per_channel_and_keyed() -> None:
    first = pseudonymize("telegram", "12345", key="k1")
    assert first == pseudonymize("telegram", "12345", key="k1")
    assert first != pseudonymize("zalo", "12345", key="k1")
    assert first != pseudonymize("telegram", "12345", key="k2")
    assert "12345" not in first
    assert len(first) == 32


# --- the corpus of real formats -----------------------------------------------------------------


def test_the_corpus_is_large_and_each_sample_holds_its_secrets() -> None:
    assert len(CORPUS) >= 60
    for sample in CORPUS:
        assert sample.leaks(sample.text) == list(sample.secrets), sample.text
        for secret in filter(str.isdecimal, sample.secrets):
            years = [secret[i : i + 4] for i in range(len(secret) - 3)]
            assert not any(re.fullmatch(r"19[5-9]\d|20[0-3]\d", y) for y in years), secret


@pytest.mark.parametrize("sample", CORPUS, ids=lambda sample: sample.text)
def test_every_corpus_format_is_masked(sample: PiiSample) -> None:
    masked = mask_pii(sample.text)
    assert sample.leaks(masked) == [], masked
    assert mask_pii(masked) == masked


@pytest.mark.parametrize(
    "text",
    [
        "ngày 2026-11-23 em đi làm căn cước",
        "hẹn 23/11/2026 lúc 14:20 ạ",
        "hạn nộp 23-11-2026, còn 23.11.26 là ngày cũ",
        "từ 5/11 đến 23/11",
        "2026-11-23T14:20:46.123456Z INFO",
        "2026-11-23 14:20:46,123 WARNING outbox telegram: retrying in 2.0s",
        "lệ phí 20.000đ, làm online 10.000 đồng",
        "phí 1.500.000 đồng một năm, hoặc 150000đ một tháng, 2 triệu",
        "giá 1,500,000 VND",
        "xã mã 00004 và phường 00008",
        "năm 2025 và năm học 2025-2026",
        "tôi 67 tuổi, nhà có 3 người, bước 4 bị lỗi 404",
        "GET http://127.0.0.1:5005/webhooks/rest/webhook 200",
        "connect to 10.0.0.12:5432 failed; redis://127.0.0.1:6379/15",
        "https://dichvucong.gov.vn/p/home/dvc-trang-chu.html",
        "quên mật khẩu vneid thì làm sao",
        "mật khẩu 8 ký tự trở lên, có chữ hoa và số",
        "mật khẩu phải có ít nhất 8 ký tự",
        "mk ở xã 00004 nha",
        "otp không về máy",
        "rasa 3.6.21, python 3.11.9",
        "mật khẩu đổi ngày 23/11/2026 rồi",
        "pin điện thoại còn 15%",
    ],
)
def test_dates_times_prices_codes_and_addresses_stay(text: str) -> None:
    assert mask_pii(text) == text


def test_a_phone_with_dashes_is_not_a_date() -> None:
    assert mask_pii("0912-345-678") == PHONE_MASK
    assert mask_pii("23-11-2026") == "23-11-2026"
    assert mask_pii("09-12-34-56-78") == PHONE_MASK


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("otp la: 4814", f"otp la: {SECRET_MASK}"),
        ("mã OTP vừa nhận là 4815", f"mã OTP vừa nhận là {SECRET_MASK}"),
        ("mã 4817 nhé", f"mã {SECRET_MASK} nhé"),
        ("ma xac nhan cua em la 123 456", f"ma xac nhan cua em la {NUMBER_MASK}"),
        ("mật khẩu mới là Hoa@1975", f"mật khẩu mới là {SECRET_MASK}"),
        ("mk moi: abc12345", f"mk moi: {SECRET_MASK}"),
        ("pass la hoa1975", f"pass la {SECRET_MASK}"),
        ("4815 là mã OTP của em", f"{SECRET_MASK} là mã OTP của em"),
        ("so tk 8765 4321", f"so tk {NUMBER_MASK}"),
        ("stk 4321", f"stk {NUMBER_MASK}"),
        ("cmnd 123 456 789", f"cmnd {ID_MASK}"),
        ("(+84) 912 345 678 ạ", f"{PHONE_MASK} ạ"),
        ("(024) 3825 6781", PHONE_MASK),
        ("sdt 0912\u00a0345\u00a0678", f"sdt {PHONE_MASK}"),
    ],
)
def test_labels_and_formats_found_in_the_review(text: str, expected: str) -> None:
    assert mask_pii(text) == expected


def test_decomposed_vietnamese_is_read_like_composed() -> None:
    typed = unicodedata.normalize("NFD", "mật khẩu mới là Hoa@1975")
    assert mask_pii(typed) == f"mật khẩu mới là {SECRET_MASK}"


# --- property-based: numbers in every format inside random sentences ----------------------------

_PLAIN = (
    "bác ơi em gọi giúp với nhé ạ số của tôi là cho hỏi làm sao được không vneid ủy ban xã "
    "dạ cảm ơn nha con cháu ông bà anh chị mẹ bố đăng ký tài khoản căn cước điện thoại ngân hàng"
)
WORDS = tuple(_PLAIN.split())
# With the names of secrets too: a number after them is masked either way.
LABELLED_WORDS = (*WORDS, "mã", "otp", "mật", "khẩu", "stk", "pin", "mk", "sđt", "cccd")
SEPARATORS = (
    " ",
    ".",
    "-",
    "/",
    "_",
    ",",
    " - ",
    ". ",
    "\u00a0",  # no-break space (copied from Zalo, Word)
    "\u202f",  # narrow no-break space
    "\u2009",  # thin space
    "\u2007",  # figure space
    "\u3000",  # ideographic space
    "\u200b",  # zero-width space
    "\u2013",  # en dash
    "\u2011",  # non-breaking hyphen
)
PHONE_PREFIXES = ("", "+84 ", "+84", "(+84) ", "84", "(84) ", "0084 ")


def _digits(size: int, first: str = "0123456789") -> st.SearchStrategy[str]:
    return st.tuples(
        st.sampled_from(first), st.text("0123456789", min_size=size - 1, max_size=size - 1)
    ).map("".join)


@st.composite
def grouped(draw: st.DrawFn, digits: str) -> str:
    """`digits` split into groups of 1–5 joined by one separator, as a person writes them."""
    separator = draw(st.sampled_from(SEPARATORS))
    groups, rest = [], digits
    while rest:
        size = draw(st.integers(1, 5))
        groups.append(rest[:size])
        rest = rest[size:]
    return separator.join(groups)


@st.composite
def personal_numbers(draw: st.DrawFn) -> tuple[str, str]:
    """(how it is written, its digits): a phone, a CCCD or CMND, or a bank account."""
    kind = draw(st.sampled_from(("mobile", "landline", "cccd", "cmnd", "account")))
    if kind in ("mobile", "landline"):
        rest = draw(_digits(9, "35789") if kind == "mobile" else _digits(10, "2"))
        prefix = draw(st.sampled_from(PHONE_PREFIXES))
        if prefix:
            return prefix + draw(grouped(rest)), rest
        return draw(grouped("0" + rest)), "0" + rest
    digits = draw(
        {
            "cccd": _digits(12, "0"),
            "cmnd": _digits(9, "0123"),
            "account": st.integers(6, 19).flatmap(_digits),
        }[kind]
    )
    return draw(grouped(digits)), digits


def _looks_like_a_date_or_years(written: str) -> bool:
    """The formats a number shares with a date ("12/05/26") or a year range ("2019 2020"),
    which masking keeps on purpose."""
    parts = re.split(r"[-/.]", written)
    if len(parts) in (2, 3) and all(p.isdecimal() for p in parts):
        day, month = int(parts[0]), int(parts[1])
        if 1 <= day <= 31 and 1 <= month <= 12 and len(parts[-1]) in (1, 2, 4):
            return True
        if len(parts) == 3 and len(parts[0]) == 4 and 1 <= int(parts[1]) <= 12:
            return True
    years = re.split(r"\D+", written)
    return len(years) == 2 and all(re.fullmatch(r"(19|20)\d\d", y) for y in years)


@settings(max_examples=400, deadline=None)
@given(
    number=personal_numbers(),
    before=st.lists(st.sampled_from(LABELLED_WORDS), max_size=6),
    after=st.lists(st.sampled_from(LABELLED_WORDS), max_size=6),
    end=st.sampled_from(("", ".", "!", "?", ",", " ạ", " nhé.")),
)
def test_no_personal_number_survives_in_any_format(
    number: tuple[str, str], before: list[str], after: list[str], end: str
) -> None:
    written, digits = number
    assume(not _looks_like_a_date_or_years(written))
    sentence = " ".join([*before, written + end, *after])
    sample = PiiSample(sentence, (digits,), "generated")
    masked = mask_pii(sentence)
    assert sample.leaks(masked) == [], masked
    assert mask_pii(masked) == masked
    logged = mask_pii(repr(sentence))  # as a traceback or a %r shows it: "0912\xa0345\xa0678"
    assert sample.leaks(logged) == [], logged


@settings(max_examples=200, deadline=None)
@given(
    label=st.sampled_from(
        ("otp", "mã OTP", "ma otp", "mã xác nhận", "ma xac thuc", "passcode", "mã pin", "OTP:")
    ),
    fillers=st.lists(st.sampled_from(("vừa", "nhận", "là", "của", "em", "la", "moi")), max_size=3),
    code=_digits(4).flatmap(lambda d: st.sampled_from((d, " ".join(d), "-".join(d)))),
    after=st.lists(st.sampled_from(WORDS), max_size=4),
)
def test_a_code_a_few_words_after_its_label_is_masked(
    label: str, fillers: list[str], code: str, after: list[str]
) -> None:
    sentence = " ".join([label, *fillers, code, *after])
    masked = mask_pii(sentence)
    assert PiiSample(sentence, (re.sub(r"\D", "", code),), "otp").leaks(masked) == [], masked


@st.composite
def kept_values(draw: st.DrawFn) -> str:
    """Dates, times, prices, years and commune codes as residents and logs write them."""
    day = draw(st.dates(date(1950, 1, 1), date(2039, 12, 31)))
    price = draw(st.integers(1, 999)) * 1000 * draw(st.sampled_from((1, 10, 100, 1000)))
    return draw(
        st.sampled_from(
            (
                day.isoformat(),
                day.strftime("%d/%m/%Y"),
                day.strftime("%d-%m-%Y"),
                day.strftime("%d.%m.%Y"),
                day.strftime("%d/%m"),
                f"{day.isoformat()} {draw(st.times()).isoformat()}",
                f"{price:,}".replace(",", ".") + "đ",
                f"{price:,}".replace(",", ".") + " đồng",
                f"{price}đ",
                str(day.year),
                f"{draw(st.integers(0, 32999)):05d}",
            )
        )
    )


@settings(max_examples=300, deadline=None)
@given(
    value=kept_values(),
    before=st.lists(st.sampled_from(WORDS), max_size=5),
    after=st.lists(st.sampled_from(WORDS), max_size=5),
)
def test_dates_prices_years_and_commune_codes_are_kept(
    value: str, before: list[str], after: list[str]
) -> None:
    sentence = " ".join([*before, value, *after])
    assert mask_pii(sentence) == sentence


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_masking_is_idempotent_and_total(text: str) -> None:
    masked = mask_pii(text)
    assert mask_pii(masked) == masked


def test_a_number_in_a_url_host_is_still_masked() -> None:
    assert mask_pii("https://0912345678.vn/x") == f"https://{PHONE_MASK}.vn/x"
    assert mask_pii("https://zalo.me/0912345678") == f"https://zalo.me/{PHONE_MASK}"
