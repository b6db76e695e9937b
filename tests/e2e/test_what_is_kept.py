"""End-to-end: personal numbers and secrets that residents type, in every format of the PII
corpus (tests/pii_corpus.py), leave no trace in any store the product writes — no table of
the database, no Redis key or value, no Rasa tracker, no log line of the three processes, no
report in any format — while the resident agreed to have their words kept (so everything
that can be kept, is) and while they talk to a volunteer. Before a resident agrees, none of
their words are kept at all.

A secret counts as leaked when a password appears as typed, or seven consecutive digits of a
number (all of a shorter one) appear in one run of digits, whatever separators are left.
Columns and keys that hold machine identifiers (ids, hashes, platform update ids) are not
read: their digits would match a short code by chance."""

from __future__ import annotations

import io
import os
import re
import string
import time
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import redis
from sqlalchemy import JSON, MetaData, String, Text, select

from actions.privacy_notice import QUESTIONS, Moment, consent_buttons
from core.db import make_engine
from core.models import InboundUpdate
from core.repositories.desk import link_desk
from reports.metrics import commune_report, province_report
from reports.model import Period
from reports.render import FORMATS, render
from tests.pii_corpus import CORPUS
from tests.stack import RunningStack

pytestmark = pytest.mark.e2e

COMMUNE = "00070"  # Phường Hoàn Kiếm, Hà Nội

WINDOW = 7  # consecutive digits of a secret that count as a leak (see PiiSample.leaks); six
# would match the bot's own advice "không dùng dãy 123456" inside 0912345678
# Columns that hold identifiers made by machines (hashes, platform ids), not anyone's words:
# their digits would match a short code by chance.
IDENTIFIERS = re.compile(r"(^|_)(id|key|hash|token|code)$")


# A run of this many hex digits or more is an identifier: uuid4().hex is 32, an inbox
# replica's id (secrets.token_hex(6), the value of Redis's `inbound:…:owner`) is 12 — one
# read "…5831…" as the corpus's OTP 5831 in CI.
HEX_ID = 12


def _in_hex_id(haystack: str, match: re.Match[str]) -> bool:
    start, end = match.start(), match.end()
    while start > 0 and haystack[start - 1] in string.hexdigits:
        start -= 1
    while end < len(haystack) and haystack[end] in string.hexdigits:
        end += 1
    return end - start >= HEX_ID


def _leaks(haystack: str) -> list[str]:
    """The corpus secrets found in `haystack`: a password as typed, WINDOW digits in a row of
    a long number, a short code (an OTP) only as a number of its own — as part of a longer
    run it would be found in any timestamp."""
    found = []
    for sample in CORPUS:
        for secret in sample.secrets:
            if secret.isdecimal() and len(secret) < WINDOW:
                # Not the decimals of a number (Rasa's confidences read 3.4321e-05), nor a
                # piece of a random hex id (Rasa's message ids: "…a7461f…" turns up by chance).
                pattern = rf"(?<!\d)(?<!\d\.){secret}(?!\d)"
                if any(not _in_hex_id(haystack, m) for m in re.finditer(pattern, haystack)):
                    found.append(secret)
            elif secret in sample.leaks(haystack, WINDOW):
                found.append(secret)
    return found


def _resident_side(tracker: object) -> str:
    """Every string in the tracker but the bot's own utterances (our content, which may well
    say "do not use 123456"): the resident's words reach Rasa as user events, slots and action
    data, always as strings — the numbers (timestamps, confidences) are left out."""
    if isinstance(tracker, dict):
        if tracker.get("event") == "bot":
            return ""
        return " ".join(_resident_side(value) for value in tracker.values())
    if isinstance(tracker, list):
        return " ".join(_resident_side(value) for value in tracker)
    return tracker if isinstance(tracker, str) else ""


def _database_text(stack: RunningStack) -> Iterator[tuple[str, str]]:
    engine = make_engine(stack.database_url)
    metadata = MetaData()
    metadata.reflect(engine)
    try:
        with engine.connect() as connection:
            for table in metadata.sorted_tables:
                columns = [
                    column
                    for column in table.columns
                    if isinstance(column.type, String | Text | JSON)
                    and not IDENTIFIERS.search(column.name)
                ]
                if columns:
                    for row in connection.execute(select(*columns)):
                        yield table.name, " | ".join(str(value) for value in row)
    finally:
        engine.dispose()


def _redis_text(url: str) -> Iterator[tuple[str, str]]:
    client = redis.Redis.from_url(url, decode_responses=True)
    try:
        for key in client.scan_iter(count=500):
            kind = client.type(key)
            if kind == "string":
                value: object = client.get(key)
            elif kind == "list":
                value = client.lrange(key, 0, -1)
            elif kind == "hash":
                value = client.hgetall(key)
            elif kind == "set":
                value = client.smembers(key)
            elif kind == "zset":
                value = client.zrange(key, 0, -1)
            elif kind == "stream":
                value = client.xrange(key)
            else:
                value = ""
            yield key, str(value)
    finally:
        client.close()


def _report_text(data: bytes, fmt: str) -> str:
    if fmt != "xlsx":
        return data.decode("utf-8", errors="replace")
    with zipfile.ZipFile(io.BytesIO(data)) as book:  # the sheets' XML, shared strings included
        return " ".join(book.read(name).decode("utf-8") for name in book.namelist())


def _processed_telegram_updates(stack: RunningStack) -> int:
    with stack.session() as session:
        return len(
            session.scalars(
                select(InboundUpdate.id).where(
                    InboundUpdate.channel == "telegram", InboundUpdate.processed_at.is_not(None)
                )
            ).all()
        )


def _telegram(stack: RunningStack, texts: list[str]) -> None:
    """A Telegram resident writes `texts`; returns once each has been handled (answered, or
    passed to the desk when one of them opened a ticket)."""
    before = _processed_telegram_updates(stack)
    user = stack.telegram.user("Bác Tư")
    stack.telegram.private_chat(user)
    for text in texts:
        stack.telegram.user_text(user, text)
    deadline = time.monotonic() + 120
    while _processed_telegram_updates(stack) < before + len(texts):
        assert time.monotonic() < deadline, "the Telegram resident's messages were not handled"
        time.sleep(0.2)


def test_no_personal_number_or_secret_is_kept_anywhere(stack: RunningStack) -> None:
    sender = "e2e-pii-corpus"
    agree = consent_buttons(None)[0]["payload"]
    stack.chat(sender, agree)  # keep the words: every store gets them
    for entry in CORPUS:
        stack.chat(sender, entry.text)
    # The commune's own desk group: the relayed conversation keeps to that group's pace (20
    # messages a minute) instead of delaying the shared fallback desk of the other tests.
    group = stack.telegram.forum_group("Tổ công nghệ số Hoàn Kiếm")
    with stack.session() as session:
        link_desk(session=session, chat_id=group["id"], communes=[COMMUNE])
    stack.chat(sender, "gặp người hỗ trợ")
    opened = stack.chat(sender, "phuong hoan kiem ha noi")
    assert any("đã báo" in str(m["text"]) for m in opened), opened
    for entry in CORPUS:  # during the handoff: the volunteer's conversation store
        stack.chat(sender, entry.text)
    stack.chat(sender, "/cancel_handoff")  # the kept conversation stays; the queue is free
    _telegram(stack, [entry.text for entry in CORPUS[:10]])  # and over Telegram

    places: dict[str, list[str]] = {}
    for table, row in _database_text(stack):
        if leaked := _leaks(row):
            places.setdefault(f"table {table}", []).extend(leaked)
    if redis_url := os.environ.get("TEST_REDIS_URL"):
        for key, value in _redis_text(redis_url):
            if leaked := _leaks(value):
                places.setdefault(f"redis {key}", []).extend(leaked)
    tracker = _resident_side(stack.tracker(sender))
    if leaked := _leaks(tracker):
        places["rasa tracker"] = leaked
    if leaked := _leaks(stack.logs()):
        places["logs"] = leaked
    period = Period.containing(datetime.now(UTC))
    with stack.session() as session:
        reports = {
            "commune": commune_report(session=session, commune_code=COMMUNE, period=period),
            "province": province_report(session=session, province_code="01", period=period),
        }
    for scope, report in reports.items():
        for fmt in FORMATS:
            if leaked := _leaks(_report_text(render(report, fmt), fmt)):
                places[f"{scope} report {fmt}"] = leaked
    assert not places, places


def test_nothing_of_a_resident_is_kept_before_they_agree(stack: RunningStack) -> None:
    """A first-time resident's words (a question the bot misses, a service, their place) reach
    no table, no Redis key and not Rasa's tracker; the first handoff asks before anything."""
    sender = "e2e-before-consent"
    said = ["con trâu nhà Bé Na bị ốm ở xóm Đông Lâu", "làm giấy khai sinh cho bé Na"]
    for text in said:
        stack.chat(sender, text)
    asked = stack.chat(sender, "cho tôi gặp người hỗ trợ")
    assert [m["text"] for m in asked] == [QUESTIONS[Moment.HANDOFF]]
    words = ("trâu", "Đông Lâu", "Bé Na", "bé Na")

    def found(text: str) -> list[str]:
        return [w for w in words if w in text]

    places = {f"table {t}": hit for t, row in _database_text(stack) if (hit := found(row))}
    if redis_url := os.environ.get("TEST_REDIS_URL"):
        places |= {f"redis {k}": hit for k, v in _redis_text(redis_url) if (hit := found(v))}
    if hit := found(_resident_side(stack.tracker(sender))):
        places["rasa tracker"] = hit
    assert not places, places
