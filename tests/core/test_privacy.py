"""Masking of personal numbers and pseudonymous ids."""

from __future__ import annotations

import pytest

from core.privacy import ID_MASK, NUMBER_MASK, PHONE_MASK, SECRET_MASK, mask_pii, pseudonymize


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
