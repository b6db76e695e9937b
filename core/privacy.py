"""Privacy helpers: pseudonymous resident ids and masking of personal numbers and secrets.

Personal Data Protection Law 91/2025/QH15: ID numbers, phone numbers and bank accounts are
personal data; OTPs, PINs and passwords are credentials. Everything that is logged or stored
goes through `mask_pii` once, at intake; reports mask the free text they show again.

`mask_pii` works in two passes:

1. Digit runs. Digit groups joined by whatever a person types between them (any Unicode or
   zero-width space, `.`, `-`, `/`, `_`, dashes, parentheses, a bare comma: "0912-345-678",
   "(+84) 912 345 678", "001.203.004.567") are one run; a run of 6 or more digits becomes a
   placeholder saying what it looks like (ID number, phone number, other number). Dates,
   times, prices with their currency, IP:port and years are recognised first and kept.
2. Label, then value. A code or password within a few words after its name ("otp la: 4814",
   "mã OTP vừa nhận là 4815", "mật khẩu mới là Hoa@1975", "mk moi: abc12345", "mã 4817 nhé"),
   or a bank account number after "stk" / "số tài khoản", with or without diacritics.

Masking is idempotent, and keeps everything but the masked values as typed (the text is put in
Unicode NFC form first).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata

ID_MASK = "[số định danh]"
PHONE_MASK = "[số điện thoại]"
NUMBER_MASK = "[dãy số]"
SECRET_MASK = "[mã bảo mật]"

MIN_MASKED_DIGITS = 6  # OTPs and passcodes have 6 digits; shorter runs need a label
MIN_SECRET_DIGITS = 4  # the shortest OTP or PIN masked after its label

# --- pass 1: digit runs ------------------------------------------------------------------------

_ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"
# Characters typed between digit groups: hyphens, dashes, minus, dots, slashes, brackets.
_PUNCT = r".\-/\\_·()\u2010-\u2015\u2212\u2027\u30fb"
# The same spaces as escapes, in a repr() or JSON in a log line or traceback ("0912\\xa0345").
_ESCAPE = r"\\(?:x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[nrt])"
_SEP = rf"(?:(?:[\s{_ZERO_WIDTH}{_PUNCT}]|{_ESCAPE}){{1,4}}|,)"
# Not right after a digit and one separator: such a "date" or "price" is part of a longer run.
_ALONE = rf"(?<!\d)(?<!\d[\s{_ZERO_WIDTH}{_PUNCT},])"
_NOT_CONTINUED = rf"(?![{_PUNCT},]?\d)"

_DAY = r"(?:0?[1-9]|[12]\d|3[01])"
_MONTH = r"(?:0?[1-9]|1[0-2])"
_YEAR = r"(?:19|20)\d\d"
_DATE = (
    rf"{_ALONE}(?:{_YEAR}[-/.]{_MONTH}[-/.]{_DAY}"  # 2026-11-23
    rf"|{_DAY}[-/.]{_MONTH}[-/.](?:{_YEAR}|\d\d)"  # 23/11/2026, 23-11-26, 23.11.2026
    rf"|{_DAY}/{_MONTH}){_NOT_CONTINUED}"  # 23/11
)
_TIME = r"(?<!\d)\d{1,2}:\d\d(?::\d\d)?(?:[.,]\d{1,6})?(?!\d)"  # 14:20, 14:20:46.123
_CURRENCY = (
    r"(?:đồng(?!\s*ý)|dong(?!\s*y\b)|vnđ|vnd|nghìn|ngàn|nghin|ngan|triệu|trieu|tỷ|tỉ"
    r"|(?<=\d)[đ₫])"  # "20.000đ": the short sign only right after the number
)
_PRICE = (
    rf"{_ALONE}(?:[1-9]\d{{0,2}}(?:[.,]\d{{3}})+|[1-9]\d*)(?:[.,]\d{{1,2}})?"
    rf"[ \u00a0]?{_CURRENCY}(?![^\W\d_])"
)
_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_IP = rf"(?:{_OCTET}\.){{3}}{_OCTET}"
# A URL's host and port ("//127.0.0.1:6379/15", "//redis:6379"), or an IP:port in a log line.
_URL_HOST = (
    rf"(?<=//)(?:[\w.\-]*@)?(?=[\w.\-]*[^\W\d_]|{_IP})(?![\w.\-]*\d{{{MIN_MASKED_DIGITS}}})"
    rf"[\w.\-]+(?::\d{{1,5}})?(?![\w.\-])"
)
_HOST = rf"{_URL_HOST}|(?<![\d.]){_IP}:\d{{1,5}}(?!\d)"
_KEEP = rf"{_HOST}|{_DATE}|{_TIME}|{_PRICE}"
# "+84 …", "(+84) …", "(024) …": the opening is part of the run when it holds a short prefix.
_LEAD = r"(?:\+\s*|\(\s*\+?\s*(?=\d{1,4}\s*\)))?"
_RUN = rf"(?<!\d){_LEAD}\d+(?:{_SEP}(?!{_KEEP})\d+)*"
_DIGITS_RE = re.compile(rf"(?P<keep>{_KEEP})|(?P<run>{_RUN})", re.IGNORECASE)
_GROUP_RE = re.compile(r"\d+")
_ESCAPE_RE = re.compile(_ESCAPE)


def _digits(text: str) -> str:
    """The decimal digits of `text` as ASCII ("０９" and "٠٩" count as "09")."""
    return "".join(str(unicodedata.decimal(c)) for c in text if c.isdecimal())


def _is_year(group: str) -> bool:
    return len(group) == 4 and _digits(group)[:2] in ("19", "20")


def _classify(run: str) -> str:
    """The placeholder for a digit run, or the run itself when it is short or a year range
    (escaped separators do not count as digits)."""
    run_digits = _ESCAPE_RE.sub(" ", run)
    groups = _GROUP_RE.findall(run_digits)
    digits = _digits(run_digits)
    if len(digits) < MIN_MASKED_DIGITS or (len(groups) == 2 and all(map(_is_year, groups))):
        return run
    if digits.startswith("0084"):
        digits = digits[2:]
    if digits.startswith("84") and len(digits) in (11, 12):
        return PHONE_MASK
    if digits.startswith("0") and len(digits) in (10, 11):
        return PHONE_MASK
    if len(digits) in (9, 12):  # old CMND, CCCD
        return ID_MASK
    return NUMBER_MASK


def _mask_digit_runs(text: str) -> str:
    return _DIGITS_RE.sub(lambda m: m.group() if m.group("keep") else _classify(m.group()), text)


# --- pass 2: labels and the values after them ---------------------------------------------------

_VOWELS = {
    "a": "aàáảãạăằắẳẵặâầấẩẫậ",
    "e": "eèéẻẽẹêềếểễệ",
    "i": "iìíỉĩị",
    "o": "oòóỏõọôồốổỗộơờớởỡợ",
    "u": "uùúủũụưừứửữự",
    "y": "yỳýỷỹỵ",
    "d": "dđ",
}


def _vi(*phrases: str) -> str:
    """A pattern for ASCII phrases typed with or without Vietnamese diacritics, words apart or
    run together ("mat khau" matches "mật khẩu", "Mat Khau", "matkhau")."""

    def word(w: str) -> str:
        return "".join(f"[{_VOWELS[c]}]" if c in _VOWELS else re.escape(c) for c in w)

    spelled = (r"\s*".join(word(w) for w in phrase.split()) for phrase in phrases)
    return "(?:" + "|".join(sorted(spelled, key=len, reverse=True)) + ")"


# Labels whose value is a credential whatever it looks like.
_STRONG_LABELS = _vi(
    "otp",
    "passcode",
    "pass code",
    "password",
    "passwd",
    "pwd",
    "pass",
    "pas",
    "mat khau",
    "ma xac nhan",
    "ma xac thuc",
    "ma kich hoat",
    "ma bao mat",
    "code",
)
# Labels that also mean something else ("mk" is teencode for "mình", "pin" is a battery):
# a 5-digit number after them may be a commune code and stays.
_WEAK_LABELS = _vi("mk", "pin", "pw")
_ACCOUNT_LABELS = _vi("stk", "so tai khoan", "so tk", "tai khoan so", "so the")
_SECRET_VERBS = _vi("otp", "passcode", "ma xac nhan", "ma xac thuc", "pin", "mat khau")

_WORD = r"[^\W\d_]+"
_LABEL_END = r"(?![^\W\d_])"
_FILLERS = rf"(?:(?:\s*[:=]\s*|\s+){_WORD}(?=[\s:=])){{0,4}}"  # "vừa nhận là", "mới", "của em là"
_GAP = r"\s*[:=\-–]?\s*"
_DIGIT_VALUE = rf"\d+(?:{_SEP}\d+)*(?!\d)"
_TOKEN_VALUE = r"(?=[^\s,;]*[\d@#$%^&*_])[^\s,;]{4,}"

_SECRET_RE = re.compile(
    rf"(?P<label>(?<![^\W\d_])(?:(?P<strong>{_STRONG_LABELS})|{_WEAK_LABELS}){_LABEL_END}"
    rf"{_FILLERS}{_GAP})(?P<value>{_DIGIT_VALUE}|{_TOKEN_VALUE})",
    re.IGNORECASE,
)
# "mã 4817 nhé", "mã là 4817": a bare "mã" (code) needs the number right after it.
_BARE_CODE_RE = re.compile(
    rf"(?P<label>(?<![^\W\d_]){_vi('ma')}\s*(?:(?:{_vi('la', 'so')})\s*)?[:=]?\s*)"
    rf"(?P<value>{_DIGIT_VALUE})",
    re.IGNORECASE,
)
_ACCOUNT_RE = re.compile(
    rf"(?P<label>(?<![^\W\d_]){_ACCOUNT_LABELS}{_LABEL_END}{_FILLERS}{_GAP})"
    rf"(?P<value>{_DIGIT_VALUE})",
    re.IGNORECASE,
)
# "4815 là mã OTP": the value first, its name after.
_VALUE_FIRST_RE = re.compile(
    rf"(?<![\d\w])(?P<value>{_DIGIT_VALUE})(?P<label>(?:\s+{_WORD}){{0,2}}?\s+{_SECRET_VERBS})"
    rf"{_LABEL_END}",
    re.IGNORECASE,
)
_KEEP_RE = re.compile(_KEEP, re.IGNORECASE)
_DIGIT_VALUE_RE = re.compile(_DIGIT_VALUE)


def _is_kept(value: str) -> bool:
    """A date, time or price after a label is not a secret ("mật khẩu đổi ngày 23/11/2026")."""
    return _KEEP_RE.fullmatch(value) is not None


def _secret(match: re.Match[str]) -> str:
    value = match.group("value")
    if _is_kept(value):
        return match.group()
    if _DIGIT_VALUE_RE.fullmatch(value):
        digits = len(_digits(value))
        if digits < MIN_SECRET_DIGITS or (digits == 5 and match.group("strong") is None):
            return match.group()  # "mật khẩu 8 ký tự"; "mk ở xã 00004" (a commune code)
    return match.group("label") + SECRET_MASK


def _code_number(match: re.Match[str], mask: str) -> str:
    """A number after "mã" or "stk": masked when it has 4 digits or more (a bare "mã" keeps a
    5-digit number: "xã mã 00004" is a commune code)."""
    digits = _digits(match.group("value"))
    if len(digits) < MIN_SECRET_DIGITS or (mask == SECRET_MASK and len(digits) == 5):
        return match.group()
    return match.group("label") + mask


def _value_first(match: re.Match[str]) -> str:
    if len(_digits(match.group("value"))) < MIN_SECRET_DIGITS or _is_kept(match.group("value")):
        return match.group()
    return SECRET_MASK + match.group("label")


def mask_pii(text: str) -> str:
    """Replace ID, phone and bank account numbers, runs of 6+ digits (OTPs), and codes or
    passwords typed near their name ("mã OTP vừa nhận là 4815", "mật khẩu mới là Hoa@1975")
    with placeholders; dates, times, prices, years, commune codes and IP:port stay."""
    masked = _mask_digit_runs(unicodedata.normalize("NFC", text))
    masked = _ACCOUNT_RE.sub(lambda m: _code_number(m, NUMBER_MASK), masked)
    masked = _SECRET_RE.sub(_secret, masked)
    masked = _BARE_CODE_RE.sub(lambda m: _code_number(m, SECRET_MASK), masked)
    return _VALUE_FIRST_RE.sub(_value_first, masked)


def pseudonymize(channel: str, channel_user_id: str, *, key: str) -> str:
    """A stable pseudonymous id for a resident of a channel, keyed by PSEUDONYM_KEY.

    The same person on the same channel always gets the same id; without the key the id
    cannot be linked back to the channel account.
    """
    digest = hmac.new(key.encode(), f"{channel}:{channel_user_id}".encode(), hashlib.sha256)
    return digest.hexdigest()[:32]
