"""Logging set-up: one format everywhere; personal numbers masked and secrets redacted in every
record — its message, its traceback and its stack — whichever logger or handler writes it.

Records are cleaned when they are made (a log record factory), so handlers that other
libraries install (uvicorn's, pytest's) get clean records too. Secrets are the values of the
settings' secret fields, registered by `configure_logging`, plus anything shaped like one: a
Telegram bot token in a Bot API URL, `token=` / `access_token=` / `secret=` values, a
password in a URL, a bearer token. The HTTP client loggers (httpx, httpcore), whose INFO lines
carry every URL, are quiet below WARNING unless LOG_LEVEL is DEBUG. `describe_settings` is the
start-up line of the serving processes: every setting, secrets reduced to "set" or "unset";
`replaced_settings` the warning naming settings a mode sets itself whatever the operator set
(`cns run`, and docker compose through `COMPOSE_IGNORED_VARIABLE`).
"""

from __future__ import annotations

import ipaddress
import logging
import os
import re
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote

from pydantic import SecretStr

from core.privacy import mask_pii
from core.settings import Settings

REDACTED = "[đã ẩn]"
SHOWN_SECRET = "***"  # a secret or a URL's password in `describe_settings`
NOISY_LOGGERS = ("httpx", "httpcore")
MIN_SECRET_LENGTH = 4

_BOT_TOKEN_RE = re.compile(r"(?<![A-Za-z0-9])(bot)\d+:[A-Za-z0-9_-]+|\b\d{6,}:[A-Za-z0-9_-]{30,}")
_SECRET_FIELD_RE = re.compile(
    r"(?P<key>[\w-]*(?:token|secret|password|passwd|api[_-]?key|signature)[\"']?)"
    r"(?P<sep>\s*[:=]\s*[\"']?)(?P<value>[^\s&#\"',;)}\]]+)",
    re.IGNORECASE,
)
_URL_PASSWORD_RE = re.compile(r"(?P<user>://[^/\s:@]*):[^/\s@]+@")
_BEARER_RE = re.compile(r"\b(?P<scheme>bearer|basic)\s+[\w.~+/=-]{8,}", re.IGNORECASE)

_secrets: set[str] = set()
_FORMATTER = logging.Formatter()


def register_secrets(values: Iterable[str | None]) -> None:
    """Never let these values into a log line (nor their URL-encoded form)."""
    for value in values:
        if value and len(value) >= MIN_SECRET_LENGTH:
            _secrets.update({value, quote(value, safe="")})


def secret_values(settings: Settings) -> list[str]:
    """The values of every secret setting (tokens, app secrets, the pseudonym key)."""
    values = (getattr(settings, name) for name in type(settings).model_fields)
    return [value.get_secret_value() for value in values if isinstance(value, SecretStr)]


def is_secret_setting(name: str) -> bool:
    """Whether the setting named `name` (any case) holds a secret (a SecretStr field)."""
    field = Settings.model_fields.get(name.lower())
    return field is not None and "SecretStr" in str(field.annotation)


def shown_value(name: str, value: object) -> str:
    """A setting's value as it may be shown: `***` for a set secret, "unset" for none, a URL's
    password as `***`, ID and phone numbers in text masked (addresses and numbers stay)."""
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if value is None or value == "":
        return "unset"
    if is_secret_setting(name):
        return SHOWN_SECRET
    text = _URL_PASSWORD_RE.sub(lambda m: m.group("user") + ":" + SHOWN_SECRET + "@", str(value))
    return text if not isinstance(value, str) or _addresses(text) else mask_pii(text)


def _addresses(text: str) -> bool:
    """Whether `text` is a comma-separated list of IP addresses or networks ("*" for any)."""
    try:
        for part in text.split(","):
            if part.strip() != "*":
                ipaddress.ip_network(part.strip(), strict=False)
    except ValueError:
        return False
    return True


def describe_settings(settings: Settings) -> str:
    """One line naming every setting with its value as `shown_value` shows it; secrets are
    listed by name only, as set or unset."""
    values = {name.upper(): getattr(settings, name) for name in type(settings).model_fields}
    plain = [f"{name}={shown_value(name, value)}" for name, value in values.items()
             if not is_secret_setting(name)]  # fmt: skip
    secrets = {name: shown_value(name, value) != "unset"
               for name, value in values.items() if is_secret_setting(name)}  # fmt: skip
    set_names = ", ".join(name for name, present in secrets.items() if present) or "none"
    unset_names = ", ".join(name for name, present in secrets.items() if not present) or "none"
    return f"Settings: {' '.join(plain)}; secrets set: {set_names}; secrets unset: {unset_names}"


# Set by docker-compose.yml in the app containers: `NAME=value` lines holding what .env says for
# each setting the compose file fixes itself (blank when .env leaves it unset).
COMPOSE_IGNORED_VARIABLE = "CNS_COMPOSE_IGNORED"


def _text_of(value: object) -> str:
    return value.get_secret_value() if isinstance(value, SecretStr) else str(value)


def replaced_settings(who: str, pairs: Iterable[tuple[str, object, object]]) -> str | None:
    """One warning line naming each (name, value set, value used) whose two values differ,
    both shown as `shown_value` shows them; None when none differs."""
    replaced = [
        f"{name}={shown_value(name, given)} (using {shown_value(name, used)})"
        for name, given, used in pairs
        if _text_of(given) != _text_of(used)
    ]
    if not replaced:
        return None
    return f"{who} sets these itself and ignores your values: " + "; ".join(replaced) + "."


def ignored_by_compose(settings: Settings, declared: str | None) -> str | None:
    """The warning for the settings .env sets that docker compose replaces: `declared` is
    `COMPOSE_IGNORED_VARIABLE`'s value; blank and unknown names are left out."""
    pairs = []
    for line in (declared or "").splitlines():
        name, sep, given = line.strip().partition("=")
        if sep and given and name.lower() in Settings.model_fields:
            pairs.append((name, given, getattr(settings, name.lower())))
    return replaced_settings("docker compose (docker-compose.yml)", pairs)


def announce_settings(settings: Settings, log: logging.Logger) -> None:
    """Log the configuration a serving process runs with, and warn about what .env sets
    that docker compose ignored."""
    log.info(describe_settings(settings))
    if warning := ignored_by_compose(settings, os.environ.get(COMPOSE_IGNORED_VARIABLE)):
        log.warning(warning)


def redact_secrets(text: str) -> str:
    for secret in sorted(_secrets, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    text = _BOT_TOKEN_RE.sub(lambda m: (m.group(1) or "") + REDACTED, text)
    text = _SECRET_FIELD_RE.sub(lambda m: m.group("key") + m.group("sep") + REDACTED, text)
    text = _URL_PASSWORD_RE.sub(lambda m: m.group("user") + ":" + REDACTED + "@", text)
    return _BEARER_RE.sub(lambda m: m.group("scheme") + " " + REDACTED, text)


def clean(text: str) -> str:
    """A log text with secrets redacted and personal numbers masked."""
    return mask_pii(redact_secrets(text))


def clean_record(record: logging.LogRecord) -> None:
    """Clean a record in place: its message (arguments merged in), traceback and stack."""
    try:
        message = record.getMessage()
    except Exception:  # wrong arguments: the handler would print them raw in its error report
        message = f"{record.msg} {record.args!r}"
    cleaned = clean(message)
    if cleaned != message:
        record.msg, record.args = cleaned, None
    if record.exc_info and not record.exc_text:
        record.exc_text = _FORMATTER.formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = clean(record.exc_text)
    if record.stack_info:
        record.stack_info = clean(record.stack_info)


class MaskingFilter(logging.Filter):
    """Cleans each record a handler gets (for records not made by the cleaning factory)."""

    def filter(self, record: logging.LogRecord) -> bool:
        clean_record(record)
        return True


class _CleaningRecordFactory:
    """Makes every log record of the process clean, whatever handler it reaches."""

    def __init__(self, base: Callable[..., logging.LogRecord]) -> None:
        self.base = base

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = self.base(*args, **kwargs)
        clean_record(record)
        return record


def configure_logging(level: str = "INFO", *, secrets: Iterable[str | None] = ()) -> None:
    """Send logs to stderr; clean every record; quiet the HTTP clients (idempotent).

    `secrets`: values never to be logged (see `secret_values`)."""
    register_secrets(secrets)
    if not isinstance(logging.getLogRecordFactory(), _CleaningRecordFactory):
        logging.setLogRecordFactory(_CleaningRecordFactory(logging.getLogRecordFactory()))
    root = logging.getLogger()
    root.setLevel(level.upper())
    if not any(isinstance(f, MaskingFilter) for h in root.handlers for f in h.filters):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        handler.addFilter(MaskingFilter())
        root.addHandler(handler)
    quiet = logging.WARNING if root.level > logging.DEBUG else root.level
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(quiet)
