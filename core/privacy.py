"""Privacy helpers: pseudonymous resident ids and masking of personal numbers.

Personal Data Protection Law 91/2025/QH15: ID numbers and phone numbers are personal
data; OTPs are credentials. Everything that is logged or stored goes through `mask_pii`.
"""

from __future__ import annotations

import hashlib
import hmac
import re

ID_MASK = "[số định danh]"
PHONE_MASK = "[số điện thoại]"
NUMBER_MASK = "[dãy số]"
SECRET_MASK = "[mã bảo mật]"

# A run of digits, optionally grouped by single spaces or dots into groups of 2+ digits
# ("0912 345 678", "001.203.004.567"), with an optional leading "+" (international phones).
# Dashes are not separators, so dates like 2026-11-23 stay; "127.0.0.1" is not one run.
_DIGIT_RUN_RE = re.compile(r"(?<![\d+])\+?\d+(?:[ .]\d{2,})*(?!\d)")
MIN_MASKED_DIGITS = 6  # OTPs and passcodes have 6 digits


def _classify(run: str) -> str:
    digits = re.sub(r"\D", "", run)
    if len(digits) < MIN_MASKED_DIGITS:
        return run
    if len(digits) == 12 and not digits.startswith("84"):
        return ID_MASK
    if (digits.startswith("0") and len(digits) in (10, 11)) or (
        digits.startswith("84") and len(digits) in (11, 12)
    ):
        return PHONE_MASK
    return NUMBER_MASK


# A short code or a password typed right after its name: "ma otp 4821", "mật khẩu là Abc@12",
# "pass: hoa1975". The secret must hold a digit or a symbol, so "quên mật khẩu vneid" stays.
_SECRET_RE = re.compile(
    r"(?P<label>\b(?:otp|passcode|password|pass|pin|mk|m[aã]\s+x[aá]c\s+(?:nh[aậ]n|th[uự]c)"
    r"|m[aậ]t\s+kh[aẩ]u)\b(?:\s+(?:c[uủ]a\s+(?:t[oô]i|em|tao|m[iì]nh)))?"
    r"(?:\s*(?:l[aà]|:|=)?\s*))(?P<secret>(?=[^\s]*[\d@#$%^&*_])[^\s,;]{4,})",
    re.IGNORECASE,
)


def mask_pii(text: str) -> str:
    """Replace ID numbers, phone numbers, runs of 6+ digits (OTPs) and codes or passwords typed
    after their name ("mã OTP 4821", "mật khẩu là Abc@12") with placeholders."""
    masked = _DIGIT_RUN_RE.sub(lambda m: _classify(m.group(0)), text)
    return _SECRET_RE.sub(lambda m: m.group("label") + SECRET_MASK, masked)


def pseudonymize(channel: str, channel_user_id: str, *, key: str) -> str:
    """A stable pseudonymous id for a resident of a channel, keyed by PSEUDONYM_KEY.

    The same person on the same channel always gets the same id; without the key the id
    cannot be linked back to the channel account.
    """
    digest = hmac.new(key.encode(), f"{channel}:{channel_user_id}".encode(), hashlib.sha256)
    return digest.hexdigest()[:32]
