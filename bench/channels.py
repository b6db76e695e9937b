"""`make bench-channels`: the channel targets of issue 6, measured; writes
docs/benchmarks/channels.md.

1. Webhook intake: the gateway (a separate uvicorn process, Telegram in webhook mode, the
   fake Bot API on 127.0.0.1 answering instantly) is offered N updates at a fixed rate
   (500/s) over 40 keep-alive connections, as Telegram delivers them; updates/s accepted
   and the acknowledgement latency (p50/p99, from the moment each update was due). The
   gateway answers them too (the busy reply): processing competes with intake.
2. Outbound pacing: M messages to K chats through the outbox against a fake Bot API that
   enforces Telegram's limits (1/s per chat, 30/s overall): messages/s and 429s served.
3. Kill and restart: residents write over Telegram polling while the gateway is killed
   (SIGKILL) mid-stream and started again; every update must get exactly one answer.
   Rasa is deliberately unreachable, so each update's answer is the polite "busy" reply:
   this measures the channel machinery, not the NLU.

PostgreSQL and Redis are used when TEST_DATABASE_URL / TEST_REDIS_URL are set (as on CI),
else SQLite and the in-process Redis stand-in (then only benchmark 2 and the intake run).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from telegram import Bot
from telegram.request import HTTPXRequest

from bench.results import write_results
from bot.channels.telegram_wire import TelegramTransport, queue
from bot.messages import OutboundMessage
from bot.outbox import Outbox
from bot.router import BUSY_REPLY
from cns.stack import free_port
from core.kv import make_redis
from core.settings import PROJECT_ROOT
from tests.databases import postgres_base_url, scratch_database
from tests.fakes.telegram_api import FakeTelegram
from tests.gateway_process import Gateway, gateway_process_env

REPORT = PROJECT_ROOT / "docs" / "benchmarks" / "channels.md"
SECRET = "bench-secret"


def gateway_env(database_url: str, telegram: FakeTelegram, **extra: str) -> dict[str, str]:
    return gateway_process_env(database_url, telegram, bench_redis_url(), **extra)


def bench_redis_url() -> str | None:
    """Real Redis (database 14, away from the tests' 15) when TEST_REDIS_URL is set."""
    url = os.environ.get("TEST_REDIS_URL")
    return url.rsplit("/", 1)[0] + "/14" if url else None


async def clear_bench_redis() -> None:
    redis = make_redis(bench_redis_url())
    await redis.flushdb()
    await redis.aclose()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def intake(
    gateway: Gateway, updates: list[dict[str, Any]], rate: float, connections: int
) -> dict[str, float]:
    """Post the updates at a fixed offered `rate` (updates/s) over `connections` keep-alive
    connections (Telegram opens up to 40 per webhook). Each latency runs from the moment the
    update was due, so a gateway that falls behind is charged for the wait too.

    The client is a few lines of asyncio streams: httpx's own overhead caps at ~200
    requests/s on this machine, which would measure the load generator, not the gateway."""
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    bodies = [json.dumps(update).encode() for update in updates]
    port = int(gateway.url.rsplit(":", 1)[1])
    start = time.perf_counter() + 0.2

    async def sender(lane: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for index in range(lane, len(bodies), connections):
            due = start + index / rate
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            body = bodies[index]
            head = (
                "POST /webhooks/telegram HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                "Content-Type: application/json\r\n"
                f"X-Telegram-Bot-Api-Secret-Token: {SECRET}\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            )
            writer.write(head.encode() + body)
            status, length = _response_head(await reader.readuntil(b"\r\n\r\n"))
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - due)
            statuses[status] += 1
        writer.close()
        await writer.wait_closed()

    await asyncio.gather(*(sender(lane) for lane in range(connections)))
    elapsed = time.perf_counter() - start
    return {
        "updates": len(updates),
        "offered": rate,
        "per_second": len(updates) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "ok": statuses[200],
    }


def _response_head(head: bytes) -> tuple[int, int]:
    """(status, Content-Length) of an HTTP/1.1 response head (the gateway always sends one)."""
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines[1:] if ": " in line)
    return int(lines[0].split()[1]), int(headers["content-length"])


def bench_intake(database_url: str, count: int, rate: float, connections: int) -> dict[str, float]:
    with FakeTelegram(auto_webhook=False) as telegram:
        users = [telegram.user(f"U{n}") for n in range(200)]
        for n in range(count):
            telegram.user_text(users[n % len(users)], f"tin {n}")
        updates = telegram.pending_updates()
        env = gateway_env(
            database_url,
            telegram,
            TELEGRAM_MODE="webhook",
            TELEGRAM_WEBHOOK_URL="https://bench.example/webhooks/telegram",
            TELEGRAM_WEBHOOK_SECRET=SECRET,
        )
        gateway = Gateway(env, free_port())
        gateway.start()
        try:
            return asyncio.run(intake(gateway, updates, rate, connections))
        finally:
            gateway.stop()


async def pacing(count: int, chats: int) -> dict[str, float]:
    with FakeTelegram(enforce_limits=True) as telegram:
        users = [telegram.user(f"U{n}") for n in range(chats)]
        for user in users:
            telegram.private_chat(user)
        redis = make_redis(bench_redis_url())
        outbox = Outbox(redis, namespace=f"bench-{time.time_ns()}")
        for n in range(count):
            await queue(outbox, users[n % chats]["id"], [OutboundMessage(f"tin {n}")])
        bot = Bot(
            telegram.token,
            base_url=f"{telegram.base_url}/bot",
            request=HTTPXRequest(connection_pool_size=64, pool_timeout=30),
        )
        await bot.initialize()
        started = time.perf_counter()
        task = asyncio.create_task(outbox.run("telegram", TelegramTransport(bot)))
        while len(telegram.sent()) < count:  # noqa: ASYNC110 - the fake runs in another thread
            await asyncio.sleep(0.05)
        elapsed = time.perf_counter() - started
        task.cancel()
        await bot.shutdown()
        for key in await redis.keys(f"{outbox.namespace}:*"):
            await redis.delete(key)
        return {
            "messages": count,
            "per_second": count / elapsed,
            "rate_limited": telegram.rate_limited_count,
            "seconds": elapsed,
        }


def bench_restart(database_url: str, residents: int, per_resident: int) -> dict[str, int]:
    with FakeTelegram() as telegram:
        users = [telegram.user(f"R{n}") for n in range(residents)]
        for user in users:
            telegram.private_chat(user)
        env = gateway_env(database_url, telegram, TELEGRAM_MODE="polling")
        gateway = Gateway(env, free_port())
        gateway.start()
        sent = 0
        try:
            for round_ in range(per_resident):
                for user in users:
                    telegram.user_text(user, f"tin {round_}")
                    sent += 1
                if round_ == per_resident // 2:
                    time.sleep(0.3)
                    gateway.kill()  # mid-stream: some updates taken, some replies queued
                    gateway.start()
            deadline = time.monotonic() + 180
            while time.monotonic() < deadline:
                answered = len([m for m in telegram.sent() if m.get("text") == BUSY_REPLY])
                if answered >= sent and not telegram.pending_updates():
                    break
                time.sleep(0.5)
            time.sleep(3)  # anything sent twice shows up by now
        finally:
            gateway.stop()
        replies = Counter(m["chat"]["id"] for m in telegram.sent() if m.get("text") == BUSY_REPLY)
        lost = sum(max(0, per_resident - replies[u["id"]]) for u in users)
        duplicated = sum(max(0, replies[u["id"]] - per_resident) for u in users)
        return {
            "updates": sent,
            "answered": sum(replies.values()),
            "lost": lost,
            "duplicated": duplicated,
        }


def write_report(
    intake_result: dict[str, float], pace: dict[str, float], restart: dict[str, int], backend: str
) -> str:
    lines = [
        "# Channels benchmark (`make bench-channels`)",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}; database: {backend}; "
        f"Redis: {'real' if os.environ.get('TEST_REDIS_URL') else 'in-process stand-in'}.",
        "Fake Bot API on 127.0.0.1 (tests/fakes/telegram_api.py). Rasa unreachable on purpose:",
        'each update is answered with the polite "busy" reply, so the channel path is measured.',
        "",
        "| measure | result | target |",
        "| --- | --- | --- |",
        f"| webhook intake, {intake_result['updates']:.0f} updates offered at "
        f"{intake_result['offered']:.0f}/s | "
        f"{intake_result['per_second']:.0f} updates/s, p50 {intake_result['p50_ms']:.1f} ms, "
        f"p99 {intake_result['p99_ms']:.1f} ms ({intake_result['ok']:.0f} × 200) | "
        "≥ 500/s, p99 ≤ 50 ms |",
        f"| outbound pacing, {pace['messages']:.0f} messages | {pace['per_second']:.1f} msg/s, "
        f"{pace['rate_limited']:.0f} × 429 | 30 msg/s, no 429 |",
        f"| kill -9 and restart under load, {restart['updates']} updates | "
        f"{restart['answered']} answered, {restart['lost']} lost, "
        f"{restart['duplicated']} duplicated | 0 lost, 0 duplicated |",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--updates", type=int, default=3000)
    parser.add_argument("--rate", type=float, default=500.0, help="offered updates/s")
    parser.add_argument("--connections", type=int, default=40)
    parser.add_argument("--messages", type=int, default=600)
    parser.add_argument("--residents", type=int, default=40)
    parser.add_argument("--per-resident", type=int, default=6)
    args = parser.parse_args()
    backend = "postgresql" if postgres_base_url() else "sqlite"
    if bench_redis_url():
        asyncio.run(clear_bench_redis())
    with tempfile.TemporaryDirectory() as tmp:
        with scratch_database(backend, Path(tmp)) as url:
            intake_result = bench_intake(url, args.updates, args.rate, args.connections)
        print("intake", intake_result, flush=True)
        pace = asyncio.run(pacing(args.messages, 100))
        print("pacing", pace, flush=True)
        if bench_redis_url():  # nothing of the intake run may leak into this one
            asyncio.run(clear_bench_redis())
        with scratch_database(backend, Path(tmp)) as url:
            restart = bench_restart(url, args.residents, args.per_resident)
        print("restart", restart, flush=True)
    report = write_report(intake_result, pace, restart, backend)
    write_results(REPORT, report)
    print(report)


if __name__ == "__main__":
    main()
