"""A corpus of personal numbers and secrets as residents really type them, for any test that
must show they never end up stored, logged, sent to Rasa or shown in a report.

Each `PiiSample` is one message a resident might send, with the values in it that must never
appear anywhere (`secrets`): digit strings are given as bare digits ("0912345678" for
"0912 345 678"), passwords as typed ("Hoa@1975"). `sample.leaks(text)` lists the secrets
found in some stored or logged text, whatever separators were left between the digits.

No secret holds a four-digit window that looks like a year (19xx, 20xx), so timestamps in a
table dump cannot be mistaken for a leak.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

LEAK_WINDOW = 4  # this many consecutive digits of a secret must not appear anywhere
# Digits as a scan for leaks reads them: any non-alphanumeric characters (up to 4) between
# digit groups are ignored, so "0912 345 678" and "0912-345-678" both read as "0912345678".
_RUN_RE = re.compile(r"\d+(?:[^\w\[\]]{1,4}\d+)*")


def digit_runs(text: str) -> list[str]:
    """The runs of digits in `text` (in ASCII), separators between their groups removed."""
    return [
        "".join(str(unicodedata.decimal(c)) for c in run if c.isdecimal())
        for run in _RUN_RE.findall(text)
    ]


@dataclass(frozen=True)
class PiiSample:
    text: str
    secrets: tuple[str, ...]
    kind: str  # phone | id | account | otp | password | mixed

    def leaks(self, text: str, window: int = LEAK_WINDOW) -> list[str]:
        """The secrets of this sample that `text` still shows: a password as typed, or any
        `window` consecutive digits of a number (the whole number when it is shorter)."""
        runs = digit_runs(text)
        found = []
        for secret in self.secrets:
            if not secret.isdecimal():
                if secret in text:
                    found.append(secret)
                continue
            size = min(window, len(secret))
            parts = {secret[i : i + size] for i in range(len(secret) - size + 1)}
            if any(part in run for run in runs for part in parts):
                found.append(secret)
        return found


def _s(kind: str, text: str, *secrets: str) -> PiiSample:
    return PiiSample(text, secrets, kind)


PHONES = (
    _s("phone", "số điện thoại của tôi là 0912345678", "0912345678"),
    _s("phone", "gọi lại giúp bác số 0912 345 678 nhé", "0912345678"),
    _s("phone", "sdt 0912.345.678 ạ", "0912345678"),
    _s("phone", "sđt: 0912-345-678", "0912345678"),
    _s("phone", "so dt cua em 0912/345/678", "0912345678"),
    _s("phone", "số máy 0912\u00a0345\u00a0678 (chép từ Zalo)", "0912345678"),
    _s("phone", "sđt con trai 0983\u202f456\u202f781", "0983456781"),
    _s("phone", "bác nhắn vào 0983\u2009456\u2009781 giúp", "0983456781"),
    _s("phone", "liên hệ (+84) 912 345 678 ạ", "912345678"),
    _s("phone", "số mới +84 983 456 781", "983456781"),
    _s("phone", "sdt +84983456781 nhé", "983456781"),
    _s("phone", "(84) 912345678 là số của mẹ", "912345678"),
    _s("phone", "số nhà mạng cũ 0168 345 6781 còn dùng không", "01683456781"),
    _s("phone", "máy bàn ủy ban (024) 3825 6781", "02438256781"),
    _s("phone", "gọi 0243.825.6781 gặp chị Hạnh", "02438256781"),
    _s("phone", "sim chính chủ 0 9 1 2 3 4 5 6 7 8", "0912345678"),
    _s("phone", "số của em 09 12 34 56 78", "0912345678"),
    _s("phone", "SĐT:0386555781", "0386555781"),
    _s("phone", "zalo em: zalo.me/0912345678", "0912345678"),
    _s("phone", "số 0084 912 345 678 gọi từ nước ngoài về", "912345678"),
    _s("phone", "sdt 0912\u200b345\u200b678", "0912345678"),
    _s("phone", "số điện thoại ０９１２３４５６７８", "0912345678"),
    _s("phone", "0912 - 345 - 678 là số em", "0912345678"),
    _s("phone", "so dien thoai 0912_345_678", "0912345678"),
)
IDS = (
    _s("id", "cccd cua toi 001083004567", "001083004567"),
    _s("id", "số định danh 001 083 004 567 ạ", "001083004567"),
    _s("id", "căn cước 001.083.004.567", "001083004567"),
    _s("id", "CCCD: 001-083-004-567", "001083004567"),
    _s("id", "số căn cước công dân của bà là 038183006781", "038183006781"),
    _s("id", "mã định danh 0381 8300 6781", "038183006781"),
    _s("id", "cmnd cũ 123456789 có dùng được không", "123456789"),
    _s("id", "chứng minh thư 123 456 789", "123456789"),
    _s("id", "so cmnd 168.345.781", "168345781"),
    _s("id", "số CCCD\u00a0001\u00a0083\u00a0004\u00a0567", "001083004567"),
    _s("id", "cccd 001/083/004/567 bị sai ngày sinh", "001083004567"),
    _s("id", "tài khoản vneid là 001083004567 mật khẩu quên rồi", "001083004567"),
)
ACCOUNTS = (
    _s("account", "stk 19036512345019", "19036512345019"),
    _s("account", "stk: 1903 6512 3450 19 techcombank", "19036512345019"),
    _s("account", "số tài khoản 0011004123456 vietcombank", "0011004123456"),
    _s("account", "so tai khoan agribank cua em la 1508 2056 7812 3", "1508205678123"),
    _s("account", "so tk 8765 4321", "87654321"),
    _s("account", "chuyển vào tk số 6868.6868.68 mb bank", "6868686868"),
    _s("account", "số thẻ 9704 1234 5678 9012", "9704123456789012"),
    _s("account", "stk 4321", "4321"),
    _s("account", "số tài khoản: 0491-0003-5678-1", "0491000356781"),
)
CODES = (
    _s("otp", "ma otp la 123456", "123456"),
    _s("otp", "otp la: 4814", "4814"),
    _s("otp", "mã OTP vừa nhận là 4815", "4815"),
    _s("otp", "mã 4817 nhé", "4817"),
    _s("otp", "ma xac nhan cua em la 123 456", "123456"),
    _s("otp", "mã xác nhận là 0912", "0912"),
    _s("otp", "OTP: 5 8 3 1", "5831"),
    _s("otp", "passcode 654321.", "654321"),
    _s("otp", "passcode của bác là 7 3 1 5 6 8", "731568"),
    _s("otp", "mã pin 6813", "6813"),
    _s("otp", "pin cua the la 4681", "4681"),
    _s("otp", "Mã xác thực của bạn là 573816, không chia sẻ cho ai", "573816"),
    _s("otp", "4815 là mã OTP của em", "4815"),
    _s("otp", "otp 4-8-1-6", "4816"),
    _s("otp", "mã kích hoạt: 3856", "3856"),
    _s("otp", "code 7461 hết hạn chưa", "7461"),
    _s("otp", "otp4817", "4817"),
)
PASSWORDS = (
    _s("password", "mật khẩu mới là Hoa@1975", "Hoa@1975"),
    _s("password", "mk moi: abc12345", "abc12345"),
    _s("password", "pass la hoa1975", "hoa1975"),
    _s("password", "mật khẩu của tôi là Lan#pass", "Lan#pass"),
    _s("password", "pas: Matkhau_123", "Matkhau_123"),
    _s("password", "mat khau cu la Thu$3368 ma dang nhap khong duoc", "Thu$3368"),
    _s("password", "password: Vneid@2468", "Vneid@2468"),
    _s("password", "MK 2468", "2468"),
    _s("password", "mk: 135790", "135790"),
)
MIXED = (
    _s(
        "mixed",
        "cccd 001083004567, sđt 0912 345 678, otp la 4814",
        "001083004567",
        "0912345678",
        "4814",
    ),
    _s(
        "mixed",
        "Em tên Lan, sdt (+84) 983-456-781, stk 1903 6512 3450 19, mật khẩu là Lan@1968",
        "983456781",
        "19036512345019",
        "Lan@1968",
    ),
    _s(
        "mixed",
        "ngày 23/11/2026 bác gọi 0912.345.678 mà mã 4817 không về",
        "0912345678",
        "4817",
    ),
)

CORPUS: tuple[PiiSample, ...] = PHONES + IDS + ACCOUNTS + CODES + PASSWORDS + MIXED
