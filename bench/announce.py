"""`make bench-announce`: one province announcement to 100,000 Telegram subscribers (issue 18);
writes docs/benchmarks/announcements.md.

On 127.0.0.1, on a scratch PostgreSQL database of TEST_DATABASE_URL and Redis database 14 of
TEST_REDIS_URL (both required), against the fake Bot API enforcing Telegram's flood limits
(1 message a second per chat, 30 a second in all, 429 with retry_after beyond them):

1. Fan-out and delivery under chat load. The whole stack runs (bench.turns: Rasa, the action
   server, the gateway, Telegram in webhook mode). 100,000 consented residents of the
   province's communes, subscribed on Telegram, are seeded in two INSERT … SELECT. Residents
   chat at 5 turns/s (open loop, half web, half Telegram; bench.turns.Load) for a window
   without any announcement (the baseline), then for a window of the same length that starts
   with a province warning being approved. Measured: the time from its start until every
   subscriber has a delivery row (queued in PostgreSQL; the outbox holds at most the worker's
   backlog of them, see bot/announcements.py), the messages/s the fake received over the
   window's steady part, its 429s, and the residents' answer latency in both windows.
   100,000 messages at 30/s take about an hour: the delivery is measured over that bounded
   window, not to the end.
2. Kill and restart. A smaller announcement (3,000 subscribers) is sent by a gateway process
   (tests/gateway_process.py, Rasa unreachable: only the sending machinery runs) that is
   SIGKILLed when about a third has gone out and started again; from the fake's record of
   what it received: residents missed, residents who received it twice.

`--quick` runs everything small (a smoke run for tests/test_bench_announce.py).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import platform
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, func, select, text
from sqlalchemy.orm import Session

from bench.results import write_results
from bench.turns import (
    Load,
    StackConfig,
    Turn,
    bench_redis_url,
    clear_bench_redis,
    load_average,
    running,
    single,
    stack_env,
    telegram_latencies,
)
from bench.turns_model import load_phrasings, percentile
from cns.stack import free_port
from cns.training import ensure_model
from core.db import make_engine
from core.models import Announcement, AnnouncementCategory, Delivery, DeliveryStatus
from core.places import communes
from core.repositories.announcements import Draft, approve_announcement, create_announcement
from core.repositories.staff import add_staff
from core.settings import PROJECT_ROOT
from tests.databases import postgres_base_url, scratch_database
from tests.fakes.telegram_api import FakeTelegram
from tests.gateway_process import Gateway, gateway_process_env

REPORT = PROJECT_ROOT / "docs" / "benchmarks" / "announcements.md"
PROVINCE = "01"  # Hà Nội: 126 communes and wards
CHAT_RATE = 5.0  # resident turns/s, offered during both windows
TELEGRAM_SHARE = 0.5
STEADY_AFTER = 5.0  # seconds of the window left out of the delivery rate (fan-out, ramp)
TARGETS = {
    "queued": 10.0,  # seconds
    "rate": 28.0,  # messages/s
    "latency": 1.20,  # p95 with the announcement / without
}
TEXT = (
    "Mưa lớn kéo dài từ chiều nay đến hết ngày mai, nguy cơ ngập úng và sạt lở ở các xã ven "
    "sông. Bà con không đi qua ngầm, tràn; theo dõi loa phát thanh của xã, phường."
)


@dataclass(frozen=True)
class Options:
    subscribers: int
    seconds: float  # each chat window
    warm_up: float  # chat before the baseline, not measured (Rasa's first answers are slow)
    kill_subscribers: int
    out: Path


@dataclass
class Received:
    """What the fake Bot API received for the announcement (its subscribers' chats), timed;
    other messages (the residents' answers) go on to the chat load."""

    subscribers: set[int] = field(default_factory=set)
    announcement: list[tuple[float, int]] = field(default_factory=list)
    others: list[float] = field(default_factory=list)
    forward: Callable[[str, dict[str, Any]], None] | None = None

    def on_send(self, method: str, message: dict[str, Any]) -> None:
        chat = int(message["chat"]["id"])
        if chat in self.subscribers:
            self.announcement.append((time.perf_counter(), chat))
            return
        self.others.append(time.perf_counter())
        if self.forward is not None:
            self.forward(method, message)

    def between(self, start: float, end: float) -> tuple[int, int]:
        """(announcement messages, all messages) received in [start, end)."""
        mine = sum(start <= t < end for t, _ in self.announcement)
        return mine, mine + sum(start <= t < end for t in self.others)


# ----------------------------------------------------------------------------- data


def subscriber_chats(telegram: FakeTelegram, count: int) -> list[int]:
    """`count` Telegram users who started the bot: their chat ids."""
    chats = []
    for n in range(count):
        user = telegram.user(f"Cư dân {n}")
        telegram.private_chat(user)
        chats.append(int(user["id"]))
    return chats


def seed(database_url: str, chats: Sequence[int], prefix: str) -> float:
    """Consented residents spread over the province's communes, each subscribed on Telegram
    with one of `chats`; the seconds it took."""
    codes = [c.code for c in communes() if c.province.code == PROVINCE]
    started = time.perf_counter()
    engine = make_engine(database_url)
    with Session(engine) as session, session.begin():
        residents = text(
            "INSERT INTO residents (id, commune_code, consent, consent_at, created_at, updated_at)"
            " SELECT :prefix || n, codes[1 + n % cardinality(codes)], true, now(), now(), now()"
            " FROM generate_series(0, :count - 1) AS n, CAST(:codes AS text[]) AS codes"
        ).bindparams(bindparam("codes", codes))
        session.execute(residents, {"prefix": prefix, "count": len(chats)})
        subscriptions = text(
            "INSERT INTO subscriptions (resident_id, channel, channel_user_id, created_at)"
            " SELECT :prefix || (n - 1), 'telegram', chat::text, now()"
            " FROM unnest(CAST(:chats AS bigint[])) WITH ORDINALITY AS t(chat, n)"
        ).bindparams(bindparam("chats", list(chats)))
        session.execute(subscriptions, {"prefix": prefix})
    engine.dispose()
    return time.perf_counter() - started


def announce(database_url: str, title: str) -> int:
    """A province-wide warning (warnings go at any hour), written and approved by two province
    staff members, due now: the gateway's worker starts it within a second."""
    engine = make_engine(database_url)
    with Session(engine) as session, session.begin():
        people = [
            add_staff(
                session=session,
                username=f"{name}-{title[:20]}-{time.time_ns()}",
                display_name=name,
                password="mat-khau-rat-dai-1",
                province_code=PROVINCE,
            )
            for name in ("Lan", "Hoa")
        ]
        now = datetime.now(UTC)
        draft = Draft(
            title=title,
            text=TEXT,
            category=AnnouncementCategory.WARNING,
            send_at=now,
            expires_at=now + timedelta(days=1),
            province_code=PROVINCE,
        )
        made = create_announcement(session=session, author=people[0], draft=draft)
        approve_announcement(
            session=session, announcement_id=made.id, approver=people[1], second_person=True
        )
        announcement_id = made.id
    engine.dispose()
    return announcement_id


@dataclass
class FanOut:
    """When the announcement started and when every subscriber had a delivery row."""

    approved: float  # perf_counter
    started: float | None = None
    queued: float | None = None
    rows: int = 0


async def watch_fan_out(database_url: str, announcement_id: int, fan: FanOut, want: int) -> None:
    """Polls the database (every 0.1 s) until `want` delivery rows exist."""
    engine = make_engine(database_url)
    try:
        while fan.queued is None:
            with Session(engine) as session:
                started = session.scalar(
                    select(Announcement.started_at).where(Announcement.id == announcement_id)
                )
                rows = session.scalar(
                    select(func.count())
                    .select_from(Delivery)
                    .where(Delivery.announcement_id == announcement_id)
                )
            now = time.perf_counter()
            if started is not None and fan.started is None:
                fan.started = now
            fan.rows = int(rows or 0)
            if fan.rows >= want:
                fan.queued = now
            await asyncio.sleep(0.1)
    finally:
        engine.dispose()


def refusals(telegram: FakeTelegram, subscribers: set[int]) -> Counter[str]:
    """The fake's 429 answers, by whom the message was for: a subscriber (the announcement),
    the volunteers' desk group (a group's chat id is negative), or another resident (a
    reply)."""
    found = Counter[str]()
    for call in telegram.calls():
        if not call["ok"] and "Too Many Requests" in call.get("error", ""):
            chat = call["params"].get("chat_id")
            if chat in subscribers:
                found["announcement"] += 1
            else:
                found["desk" if str(chat).startswith("-") else "reply"] += 1
    return found


def statuses(database_url: str, announcement_id: int) -> Counter[str]:
    engine = make_engine(database_url)
    with Session(engine) as session:
        rows = session.execute(
            select(Delivery.status, func.count())
            .where(Delivery.announcement_id == announcement_id)
            .group_by(Delivery.status)
        ).tuples()
        found = Counter({status: count for status, count in rows})
    engine.dispose()
    return found


# ----------------------------------------------------------------------------- run 1


@dataclass
class Window:
    """One chat window: the residents' turns, and what the fake received meanwhile."""

    turns: list[Turn]
    start: float
    end: float
    load_average: float

    def latencies(self, channel: str) -> list[float]:
        return [
            t.latency
            for t in self.turns
            if t.channel == channel and t.latency is not None and t.error is None
        ]

    def errors(self) -> int:
        return sum(t.error is not None for t in self.turns)


@dataclass
class DeliveryRun:
    subscribers: int
    seed_seconds: float
    baseline: Window
    loaded: Window
    fan: FanOut
    announcement_messages: int  # in the steady part of the loaded window
    all_messages: int
    steady_seconds: float
    rate_limited: Counter[str]  # 429s by whom the message was for
    statuses: Counter[str]


async def chat_window(load: Load, seconds: float, database_url: str) -> Window:
    start = time.perf_counter()
    turns = await load.run(CHAT_RATE, seconds)
    end = start + seconds
    telegram_latencies(turns, load, database_url)
    return Window(turns, start, end, load_average())


async def windows(
    load: Load, database_url: str, options: Options
) -> tuple[Window, Window, FanOut, int]:
    await load.run(CHAT_RATE, options.warm_up)
    baseline = await chat_window(load, options.seconds, database_url)
    announcement_id = await asyncio.to_thread(announce, database_url, "Cảnh báo mưa lũ")
    fan = FanOut(time.perf_counter())
    watcher = asyncio.create_task(
        watch_fan_out(database_url, announcement_id, fan, options.subscribers)
    )
    loaded = await chat_window(load, options.seconds, database_url)
    with contextlib.suppress(TimeoutError):  # never all queued: the report says so
        async with asyncio.timeout(60):
            await watcher
    watcher.cancel()
    return baseline, loaded, fan, announcement_id


def delivery_run(options: Options) -> DeliveryRun:
    model = ensure_model()
    phrasings = load_phrasings(PROJECT_ROOT / "data" / "nlu")
    asyncio.run(clear_bench_redis())
    received = Received()
    with (
        tempfile.TemporaryDirectory() as tmp,
        scratch_database("postgresql", Path(tmp)) as database_url,
        FakeTelegram(enforce_limits=True, auto_webhook=False, on_send=received.on_send) as telegram,
    ):
        chats = subscriber_chats(telegram, options.subscribers)
        received.subscribers.update(chats)
        seed_seconds = seed(database_url, chats, "bench-")
        desk = telegram.forum_group("Tổ công nghệ số — bàn hỗ trợ chung")
        env = stack_env(database_url, telegram, int(desk["id"]))
        log_path = Path(tempfile.gettempdir()) / "bench-announce.log"
        with (
            log_path.open("w", encoding="utf-8") as log,
            running(single, StackConfig(model, env, Path(tmp) / "var"), log) as (topology, _),
        ):
            load = Load(topology.gateway_url, telegram, phrasings, telegram_share=TELEGRAM_SHARE)
            received.forward = load.on_send
            baseline, loaded, fan, announcement_id = asyncio.run(
                windows(load, database_url, options)
            )
            steady = (loaded.start + STEADY_AFTER, loaded.end)
            mine, everything = received.between(*steady)
            rate_limited = refusals(telegram, received.subscribers)
            found = statuses(database_url, announcement_id)
    return DeliveryRun(
        options.subscribers,
        seed_seconds,
        baseline,
        loaded,
        fan,
        mine,
        everything,
        steady[1] - steady[0],
        rate_limited,
        found,
    )


# ----------------------------------------------------------------------------- run 2


@dataclass
class KillRun:
    crash: bool  # SIGKILL (a crash, a power cut); else SIGTERM (a restart, a deploy)
    subscribers: int
    killed_after: int  # announcement messages received before the kill
    received: int
    missed: int
    twice: int
    rate_limited: Counter[str]
    seconds: float
    statuses: Counter[str]


def kill_run(count: int, *, crash: bool) -> KillRun:
    """Stop the gateway when about a third of `count` subscribers had it, start it again and
    wait for everyone: by SIGTERM, as `docker compose restart` or a deploy stops it, or
    (`crash`) by SIGKILL, as a crash or a power cut does."""
    asyncio.run(clear_bench_redis())
    received = Received()
    with (
        tempfile.TemporaryDirectory() as tmp,
        scratch_database("postgresql", Path(tmp)) as database_url,
        FakeTelegram(enforce_limits=True, on_send=received.on_send) as telegram,
    ):
        chats = subscriber_chats(telegram, count)
        received.subscribers.update(chats)
        seed(database_url, chats, "kill-")
        env = gateway_process_env(
            database_url, telegram, bench_redis_url(), TELEGRAM_MODE="polling"
        )
        gateway = Gateway(env, free_port())
        gateway.start()
        started = time.perf_counter()
        try:
            announcement_id = announce(database_url, "Cảnh báo mưa lũ (khởi động lại)")
            wait_until(lambda: len(received.announcement) >= count // 3, 120 + count / 10)
            # Mid-stream: rows claimed, some in the outbox, a few sends under way.
            if crash:
                gateway.kill()  # its OCR workers too
            else:
                gateway.terminate()
            killed_after = len(received.announcement)
            gateway.start()
            wait_until(lambda: len({c for _, c in received.announcement}) >= count, 60 + count / 5)
            time.sleep(3)  # anything sent twice shows up by now
            wait_until(lambda: not unsettled(database_url, announcement_id), 30)
        finally:
            gateway.stop()
        seconds = time.perf_counter() - started
        per_chat = Counter(chat for _, chat in received.announcement)
        return KillRun(
            crash,
            count,
            killed_after,
            len(received.announcement),
            sum(per_chat[c] == 0 for c in chats),
            sum(per_chat[c] > 1 for c in chats),
            refusals(telegram, received.subscribers),
            seconds,
            statuses(database_url, announcement_id),
        )


def unsettled(database_url: str, announcement_id: int) -> int:
    """Deliveries still waiting for the platform's answer (claimed or queued)."""
    found = statuses(database_url, announcement_id)
    return found[DeliveryStatus.CLAIMED] + found[DeliveryStatus.QUEUED]


def wait_until(done: Callable[[], bool], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not done() and time.monotonic() < deadline:
        time.sleep(0.1)


# ----------------------------------------------------------------------------- report


def ms(value: float) -> str:
    return "–" if math.isnan(value) else f"{value * 1000:.0f}"


def too_many(found: Counter[str]) -> str:
    """ "3 × 429 (announcement 2, reply 1)", or "0 × 429"."""
    detail = ", ".join(f"{kind} {count}" for kind, count in sorted(found.items()))
    return f"{sum(found.values())} × 429" + (f" ({detail})" if detail else "")


def summary(run: DeliveryRun) -> str:
    p95 = {
        f"{name} {channel}": ms(percentile(window.latencies(channel), 0.95))
        for name, window in (("baseline", run.baseline), ("loaded", run.loaded))
        for channel in ("web", "telegram")
    }
    return (
        f"{run.fan}, {run.announcement_messages}/{run.all_messages} messages in "
        f"{run.steady_seconds:.0f} s, 429s {dict(run.rate_limited)}, p95 ms {p95}, "
        f"deliveries {dict(run.statuses)}"
    )


def p95_ratio(run: DeliveryRun, channel: str) -> float:
    before = percentile(run.baseline.latencies(channel), 0.95)
    return percentile(run.loaded.latencies(channel), 0.95) / before if before else math.nan


def stop_row(stop: KillRun) -> str:
    how = "killed (SIGKILL, a crash)" if stop.crash else "stopped (SIGTERM, a restart)"
    return (
        f"| gateway {how} and started again mid-way: 0 missed, 0 twice | "
        f"{stop.subscribers:,} subscribers, stopped after {stop.killed_after:,} had it: "
        f"{stop.missed} missed, {stop.twice} received it twice ({too_many(stop.rate_limited)}) "
        f"| {'yes' if stop.missed == 0 and stop.twice == 0 else '**no**'} |"
    )


def stop_bounds(stop: KillRun) -> str:
    how = (
        "SIGKILL (its OCR workers too): no shutdown code runs"
        if stop.crash
        else "SIGTERM: the outbox lets the sends under way finish before the process ends"
    )
    return (
        f"- {'Crash' if stop.crash else 'Restart'}: {stop.subscribers:,} subscribers (all "
        f"delivered, {stop.seconds:.0f} s in all, restart included); a gateway process with "
        f"Rasa unreachable, {how}, when about a third had it. Deliveries at the end: "
        + ", ".join(f"{status} {count:,}" for status, count in sorted(stop.statuses.items()))
        + "."
    )


def write_report(
    run: DeliveryRun, stops: Sequence[KillRun], options: Options, minutes: float
) -> str:
    fan = run.fan
    queued = (fan.queued - (fan.started or fan.approved)) if fan.queued else math.nan
    rate = run.announcement_messages / run.steady_seconds
    total = run.all_messages / run.steady_seconds
    worst = max(p95_ratio(run, "web"), p95_ratio(run, "telegram"))

    def met(ok: bool) -> str:
        return "yes" if ok else "**no**"

    lines = [
        "# Announcements benchmark (`make bench-announce`)",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, {os.cpu_count()} "
        "cores **shared with other jobs** (numbers are noisy), "
        f"Python {platform.python_version()}; PostgreSQL and Redis on 127.0.0.1; "
        f"{minutes:.0f} min in all. Load average (1 min) at the end of the baseline window "
        f"{run.baseline.load_average:.1f}, of the announcement window "
        f"{run.loaded.load_average:.1f}.",
        "",
        f"{run.subscribers:,} consented residents of the {PROVINCE} province's communes, "
        f"subscribed on Telegram (seeded in {run.seed_seconds:.1f} s); a province warning, "
        "approved, due at once. Residents chat at "
        f"{CHAT_RATE:g} turns/s ({TELEGRAM_SHARE:.0%} over the Telegram webhook, the rest "
        f"through `POST /api/chat`): {options.warm_up:g} s to warm up (not counted), "
        f"{options.seconds:g} s without it, then {options.seconds:g} s from its approval on. "
        "The fake Bot API enforces Telegram's limits (1/s per chat, 30/s in all; 429 with "
        "retry_after beyond them).",
        "",
        "## Targets",
        "",
        "| target | measured | met |",
        "| --- | --- | --- |",
        f"| {run.subscribers:,} subscribers queued in ≤ {TARGETS['queued']:g} s | every "
        f"subscriber's delivery row claimed {queued:.1f} s after the announcement started "
        f"({(fan.started or fan.approved) - fan.approved:.1f} s after approval: the worker "
        "polls each second); queued means claimed in PostgreSQL, of which the outbox's bulk "
        "stream holds the worker's backlog (300) at a time | "
        f"{met(queued <= TARGETS['queued'])} |",
        f"| delivered at ≥ {TARGETS['rate']:g} msg/s, 0 × 429 | {total:.1f} msg/s to the fake "
        f"in all over the last {run.steady_seconds:.0f} s of the window, of which "
        f"{rate:.1f}/s the announcement and the rest the residents' answers (which go first); "
        f"{too_many(run.rate_limited)} "
        f"| {met(total >= TARGETS['rate'] and not sum(run.rate_limited.values()))} |",
        f"| chatting residents' p95 within 20 % of the run without it | web p95 "
        f"{ms(percentile(run.baseline.latencies('web'), 0.95))} → "
        f"{ms(percentile(run.loaded.latencies('web'), 0.95))} ms, Telegram p95 "
        f"{ms(percentile(run.baseline.latencies('telegram'), 0.95))} → "
        f"{ms(percentile(run.loaded.latencies('telegram'), 0.95))} ms (worst ratio {worst:.2f})"
        f" | {met(worst <= TARGETS['latency'])} |",
        *(stop_row(stop) for stop in stops),
        "",
        "## Chat latency",
        "",
        "| window | web turns | web p50 / p95 ms | Telegram turns | Telegram p50 / p95 ms "
        "| errors | load avg |",
        "| --- | ---: | --- | ---: | --- | ---: | ---: |",
    ]
    for name, window in (("without announcement", run.baseline), ("with it", run.loaded)):
        cells = []
        for channel in ("web", "telegram"):
            values = window.latencies(channel)
            p50, p95 = (ms(percentile(values, q)) for q in (0.5, 0.95))
            cells += [str(sum(t.channel == channel for t in window.turns)), f"{p50} / {p95}"]
        lines.append(
            f"| {name} | {' | '.join(cells)} | {window.errors()} | {window.load_average:.1f} |"
        )
    lines += [
        "",
        "## What was bounded",
        "",
        f"- Delivery: {run.subscribers:,} messages at 30/s take "
        f"{run.subscribers / 30 / 60:.0f} min; the rate is measured over the window's last "
        f"{run.steady_seconds:.0f} s (its first {STEADY_AFTER:g} s, the fan-out and the "
        "outbox's ramp, left out). Deliveries at the end: "
        + ", ".join(f"{status} {count:,}" for status, count in sorted(run.statuses.items()))
        + ".",
        *(stop_bounds(stop) for stop in stops),
        "- A message the platform accepted while the gateway died before recording it is sent "
        "again after the restart (bot/outbox.py: at least once, with that one window of a "
        "send's round trip; Telegram takes no idempotency key, so no one can tell afterwards "
        "whether it arrived): a crash that lands in it gives that resident the announcement "
        "twice. A stop by SIGTERM closes the window.",
        "",
    ]
    return "\n".join(lines)


# ----------------------------------------------------------------------------- main


def parse(argv: Sequence[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a small smoke run")
    parser.add_argument("--subscribers", type=int, default=None)
    parser.add_argument("--seconds", type=float, default=None, help="each chat window")
    parser.add_argument("--kill-subscribers", type=int, default=None)
    parser.add_argument("--out", type=Path, default=REPORT)
    args = parser.parse_args(argv)
    small = args.quick
    return Options(
        subscribers=args.subscribers or (2_000 if small else 100_000),
        seconds=args.seconds or (30.0 if small else 150.0),
        warm_up=5.0 if small else 20.0,
        kill_subscribers=args.kill_subscribers or (300 if small else 3_000),
        out=args.out,
    )


@contextmanager
def stopped_on_sigterm() -> Iterator[None]:
    """SIGTERM (a CI timeout) unwinds, so every process started here is stopped."""
    previous = signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: Sequence[str] | None = None) -> None:
    options = parse(argv)
    if not postgres_base_url() or not bench_redis_url():
        raise SystemExit("bench-announce needs TEST_DATABASE_URL and TEST_REDIS_URL")
    started = time.monotonic()
    with stopped_on_sigterm():
        run = delivery_run(options)
        print(f"delivery: {summary(run)}", flush=True)
        stops = [kill_run(options.kill_subscribers, crash=crash) for crash in (False, True)]
        for stop in stops:
            print(f"stop: {stop}", flush=True)  # short: no lists in it
    report = write_report(run, stops, options, (time.monotonic() - started) / 60)
    write_results(options.out, report)
    print(report)


if __name__ == "__main__":
    main()
