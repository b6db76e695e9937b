"""Web desk passwords: salted scrypt, checked in constant time, short ones refused."""

from __future__ import annotations

import pytest

from core.passwords import WeakPassword, hash_password, verify_password


def test_hashes_are_salted_and_verify() -> None:
    first, second = hash_password("mat-khau-dai-1"), hash_password("mat-khau-dai-1")
    assert first != second
    assert first.startswith("scrypt$")
    assert "mat-khau" not in first
    assert verify_password("mat-khau-dai-1", first)
    assert not verify_password("mat-khau-dai-2", first)


def test_missing_or_malformed_hashes_never_match() -> None:
    for stored in (None, "", "plain", "md5$1$2$3$aa$bb", "scrypt$x$8$1$zz$yy"):
        assert not verify_password("anything-long", stored)


def test_short_passwords_are_refused() -> None:
    with pytest.raises(WeakPassword):
        hash_password("ngan")
