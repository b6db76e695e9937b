"""Personal numbers and secrets never reach the log output: messages, tracebacks, stacks, any
handler; the Telegram bot token in httpx's request lines and the Rasa token in query strings."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import httpx
import pytest
from pydantic import SecretStr

import core.logging as core_logging
from core.logging import (
    NOISY_LOGGERS,
    REDACTED,
    MaskingFilter,
    configure_logging,
    secret_values,
)
from core.settings import Settings
from tests.pii_corpus import CORPUS

BOT_TOKEN = "7481234567:AAH3kq9ZxYtVbNmLpQrStUvWxYz012345-_"
RASA_TOKEN = "rasa-token-Zq81kP"
PSEUDONYM_KEY = "pseudonym-key-Xy77"


@pytest.fixture
def logs(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Iterator[None]:
    """A fresh logging set-up writing to the captured stderr, undone afterwards."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level, logging.getLogRecordFactory())
    noisy = {name: logging.getLogger(name).level for name in NOISY_LOGGERS}
    monkeypatch.setattr(core_logging, "_secrets", set())
    root.handlers = [h for h in root.handlers if type(h).__module__.startswith("_pytest")]
    capsys.readouterr()
    yield
    root.handlers, root.level = saved[0], saved[1]
    logging.setLogRecordFactory(saved[2])
    for name, level in noisy.items():
        logging.getLogger(name).setLevel(level)


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


def _fail(words: str) -> None:
    raise ValueError(f"could not store {words!r}")


def _leaks(output: str) -> list[str]:
    return [sample.text for sample in CORPUS if sample.leaks(output)]


@pytest.mark.usefixtures("logs")
def test_a_traceback_with_personal_numbers_is_masked(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO")
    log = logging.getLogger("tests.traceback")
    for sample in CORPUS:
        try:
            _fail(sample.text)
        except ValueError:
            log.exception("update failed")
    try:
        _fail("cccd 001083004567, sđt 0912-345-678")  # the source line is in the traceback too
    except ValueError:
        log.exception("update failed")
    output = capsys.readouterr().err
    assert output.count("Traceback (most recent call last)") == len(CORPUS) + 1
    assert _leaks(output) == []
    assert "[số định danh], sđt [số điện thoại]" in output


@pytest.mark.usefixtures("logs")
def test_a_stack_with_personal_numbers_is_masked(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO")
    log = logging.getLogger("tests.stack")

    def where(phone: str) -> None:
        log.warning("here", stack_info=True)

    where("0912 345 678")  # shown in the stack's source lines
    output = capsys.readouterr().err
    assert "Stack (most recent call last)" in output
    assert "0912 345 678" not in output


@pytest.mark.usefixtures("logs")
def test_every_handler_gets_clean_records() -> None:
    """A library's own handler (uvicorn's, say) with no filter of ours, not propagating."""
    configure_logging("INFO")
    stream = io.StringIO()
    own = logging.getLogger("tests.own_handler")
    own.propagate = False
    own.addHandler(logging.StreamHandler(stream))
    try:
        try:
            _fail("otp la: 4814, cccd 001083004567")
        except ValueError:
            own.exception("failed for %s", "0912.345.678")
    finally:
        own.handlers.clear()
        own.propagate = True
    output = stream.getvalue()
    assert "Traceback" in output
    for secret in ("4814", "001083004567", "0912.345.678"):
        assert secret not in output


@pytest.mark.usefixtures("logs")
def test_httpx_request_lines_never_show_the_bot_token(capsys: pytest.CaptureFixture[str]) -> None:
    """Telegram's Bot API puts the token in every URL, which httpx logs at INFO."""
    settings = Settings(telegram_bot_token=SecretStr(BOT_TOKEN), rasa_token=RASA_TOKEN)
    configure_logging("INFO", secrets=secret_values(settings))
    telegram = httpx.Client(transport=httpx.MockTransport(lambda _: httpx.Response(200)))
    telegram.post(f"https://api.telegram.org/bot{BOT_TOKEN}/getUpdates")
    assert logging.getLogger("httpx").getEffectiveLevel() == logging.WARNING
    assert BOT_TOKEN not in capsys.readouterr().err

    configure_logging("DEBUG")  # even when the HTTP clients are heard
    telegram.post(f"https://api.telegram.org/bot{BOT_TOKEN}/getUpdates")
    telegram.post(f"http://127.0.0.1:5005/conversations/r1/tracker?token={RASA_TOKEN}")
    output = capsys.readouterr().err
    assert f"https://api.telegram.org/bot{REDACTED}/getUpdates" in output
    assert f"http://127.0.0.1:5005/conversations/r1/tracker?token={REDACTED}" in output
    assert BOT_TOKEN.split(":")[1] not in output
    assert RASA_TOKEN not in output


@pytest.mark.usefixtures("logs")
@pytest.mark.parametrize(
    ("line", "secret"),
    [
        (f"GET /bot{BOT_TOKEN}/sendMessage", BOT_TOKEN.split(":")[1]),
        ("Telegram polling: Conflict (token 1234567:AAFakeTokenFakeTokenFakeToken12345)", "AAFake"),
        ("POST /webhooks/rest/webhook?token=abc123secret&x=1", "abc123secret"),
        ('refresh answered {"access_token": "zAT-98765", "refresh_token": "zRT-4321"}', "zRT-4321"),
        ("X-Telegram-Bot-Api-Secret-Token: hook-secret-77", "hook-secret-77"),
        ("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.abc", "eyJhbGci"),
        ("connect postgresql+psycopg://cns:db-pass-1@db:5432/cns", "db-pass-1"),
        (f"key in use: {PSEUDONYM_KEY}", PSEUDONYM_KEY),
    ],
)
def test_secrets_are_redacted(line: str, secret: str, capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", secrets=[PSEUDONYM_KEY])
    logging.getLogger("tests.secrets").warning("%s", line)
    output = capsys.readouterr().err
    assert secret not in output
    assert REDACTED in output


def test_every_secret_setting_is_registered() -> None:
    settings = Settings(
        telegram_bot_token=SecretStr(BOT_TOKEN),
        telegram_webhook_secret=SecretStr("hook-secret-77"),
        rasa_token=SecretStr(RASA_TOKEN),
        zalo_app_secret=SecretStr("zalo-app-secret"),
        zalo_oa_secret_key=SecretStr("zalo-oa-key"),
        zalo_access_token=SecretStr("zalo-access"),
        zalo_refresh_token=SecretStr("zalo-refresh"),
        pseudonym_key=SecretStr(PSEUDONYM_KEY),
    )
    assert set(secret_values(settings)) >= {
        BOT_TOKEN,
        "hook-secret-77",
        RASA_TOKEN,
        "zalo-app-secret",
        "zalo-oa-key",
        "zalo-access",
        "zalo-refresh",
        PSEUDONYM_KEY,
    }
