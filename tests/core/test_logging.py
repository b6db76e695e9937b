"""Personal numbers never reach the log output."""

from __future__ import annotations

import logging

import pytest

from core.logging import MaskingFilter


def test_masking_filter_rewrites_messages_and_args() -> None:
    record = logging.LogRecord(
        "t", logging.INFO, __file__, 1, "user %s sent %s", ("a", "0912345678"), None
    )
    assert MaskingFilter().filter(record)
    assert record.getMessage() == "user a sent [số điện thoại]"


def test_masked_in_real_output(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("tests.masking")
    logger.addFilter(MaskingFilter())
    with caplog.at_level(logging.INFO, logger="tests.masking"):
        logger.info("cccd %s", "001203004567")
    assert "001203004567" not in caplog.text
    assert "[số định danh]" in caplog.text
