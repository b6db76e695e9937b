"""The glossary: validated, cited, one short line per word, and the words residents stumble on."""

from __future__ import annotations

from core.content.glossary import MEANING_LIMIT, first_uses, load_glossary


def test_the_glossary_explains_the_usual_jargon_in_one_line() -> None:
    glossary = load_glossary()
    words = {term.term for term in glossary.terms}
    for must in ("VNeID", "tài khoản mức 2", "Cổng Dịch vụ công", "OTP", "CCCD", "mã hồ sơ"):
        assert must in words
    assert "ký số" in words
    assert all("\n" not in t.meaning and len(t.meaning) <= MEANING_LIMIT for t in glossary.terms)
    assert len(words) == len(glossary.terms)
    assert glossary.sources
    assert glossary.as_of.year >= 2026


def test_a_word_counts_once_at_its_first_use_in_any_spelling() -> None:
    uses = first_uses(
        [
            "Mở ứng dụng vneid.",
            "Đăng nhập VNeID, nhập mã OTP.",
            "Vào dichvucong.gov.vn; không đọc OTP cho ai.",
            "Tài khoản định danh điện tử mức 2.",
        ]
    )
    assert [[term.term for term in found] for found in uses] == [
        ["VNeID"],
        ["OTP"],
        ["Cổng Dịch vụ công"],
        ["tài khoản mức 2"],
    ]
    assert first_uses(["MOTPX không phải OTP"])[0][0].term == "OTP"
    assert first_uses(["MOTPX"]) == [[]]
