"""`make bench-turns`: conversation turns per second through the whole stack (issue 14, part 1:
measure first); writes docs/benchmarks/turns.md.

The stack is started here, as `make run` starts it (cns.stack.local_services): Rasa, the
action server and the gateway as separate processes, on a scratch PostgreSQL schema of
TEST_DATABASE_URL and Redis database 14 of TEST_REDIS_URL (SQLite and the in-process stand-in
when they are unset), Telegram in webhook mode against the fake Bot API
(tests/fakes/telegram_api.py) answering instantly, the web chat's rate limits raised.

Residents (new ones and returning ones) hold scripted conversations (bench/turns_model.py:
greetings, walkthroughs with button presses, lessons, things the bot does not understand,
handoff requests; phrasings from data/nlu) through POST /api/chat and the Telegram webhook.
The load is open loop: turns are due at a fixed offered rate whatever the stack does, and each
latency runs from when its turn was due. A web turn ends with the HTTP answer; a Telegram
turn when the fake Bot API received the last message of its answer (a Telegram resident writes
again only after the chat was quiet for QUIET seconds, so what arrives before the chat's next
turn is the answer; the gateway's events tell which turns had one).

Per rate: achieved turns/s, p50/p95/p99 per channel, errors, CPU per process (from /proc),
the stack's resident memory. Before the timed runs, a short calibration through two counting
proxies (gateway → Rasa, Rasa → action server) gives the requests each turn costs; after them,
py-spy samples Rasa and the gateway at one rate (`--profile-rate`).

Knobs (flags, or the environment): BENCH_TURNS_RATES (5,10,20,30,40), BENCH_TURNS_SECONDS
(60), BENCH_TURNS_TOPOLOGIES (single,scaled), BENCH_TURNS_REPLICAS (rasa=2,gateway=2),
BENCH_TURNS_PROFILE_RATE (20; 0: no profile), BENCH_TURNS_TELEGRAM_SHARE (0.5).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import math
import os
import platform
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bench.results import write_results
from bench.turns_model import (
    MIX,
    Button,
    Choice,
    Phrasings,
    Profile,
    Step,
    achieved_rate,
    answer_sizes,
    attribute_answers,
    choose,
    consent_button,
    cpu_percent,
    load_phrasings,
    percentile,
    pick_kind,
    proc_stat_ticks,
    route_of,
    schedule,
    session_steps,
    summarise_profile,
    sustained,
)
from cns.replicas import Replicas
from cns.stack import Ports, free_port, local_services
from cns.supervisor import Service, Stack
from cns.training import ensure_model
from core.db import make_engine
from core.kv import make_redis
from core.models import Event
from core.privacy import pseudonymize
from core.settings import PROJECT_ROOT
from tests.databases import postgres_base_url, scratch_database
from tests.fakes.telegram_api import FakeTelegram

REPORT = PROJECT_ROOT / "docs" / "benchmarks" / "turns.md"
PSEUDONYM_KEY = "bench-turns-pseudonym-key"
WEBHOOK_SECRET = "bench-turns-secret"
TURN_TIMEOUT = 30.0  # a turn unanswered after this is an error
WARM_UP_RATE, WARM_UP_SECONDS = 5.0, 20.0
QUIET = 2.5  # a Telegram resident reads on once the chat was quiet this long (> 2 × pacing)
MAX_CONNECTIONS = 256
NEW_SESSION_SHARE = 0.3  # of due turns, that start a session (the rest go on with one)
NEW_RESIDENT_SHARE = 0.35  # of sessions, started by a resident never seen before
ROLES = ("rasa", "actions", "gateway")
TARGETS = {
    "single": "≥ 20 turns/s with web p95 ≤ 300 ms",
    "scaled": "≥ 30 turns/s",
    "telegram": "p95 ≤ 1.5 s at 10 turns/s (offered in all, both channels)",
    "memory": "≤ 2.5 GB",
}


# ----------------------------------------------------------------------------- topologies


@dataclass(frozen=True)
class Topology:
    """What to start for one topology, and where the load goes."""

    name: str
    services: list[Service]
    gateway_url: str
    roles: dict[str, str]  # service name → role its CPU is counted under (ROLES, "proxy")


@dataclass(frozen=True)
class StackConfig:
    model: Path
    env: dict[str, str]
    workdir: Path  # this stack's own files (the proxy's configuration)
    # An empty database for Rasa's shared tracker store (replicas only).
    tracker_database_url: str | None = None
    # The address the gateway uses for Rasa, and Rasa for the action server, given the real
    # one: the counting proxies of the calibration go in here (identity otherwise).
    rasa_via: Callable[[str], str] = str
    actions_via: Callable[[str], str] = str


def single(config: StackConfig) -> Topology:
    """One Rasa, one action server, one gateway: `make run`."""
    ports = Ports(rasa=free_port(), actions=free_port(), gateway=free_port())
    rasa, actions, gateway = local_services(PROJECT_ROOT, config.model, ports, env=config.env)
    rasa = replace(rasa, env=rasa.env | {"ACTIONS_URL": config.actions_via(actions_url(ports))})
    gateway = replace(gateway, env=gateway.env | {"RASA_URL": config.rasa_via(rasa_url(ports))})
    return Topology(
        "single",
        [rasa, actions, gateway],
        ports.url(ports.gateway),
        {"rasa": "rasa", "actions": "actions", "gateway": "gateway"},
    )


def rasa_url(ports: Ports) -> str:
    return ports.url(ports.rasa)


def actions_url(ports: Ports) -> str:
    return ports.url(ports.actions)


# The replicas of the scaled topology (BENCH_TURNS_REPLICAS, e.g. "rasa=2,gateway=2").
SCALED = Replicas.parse(os.environ.get("BENCH_TURNS_REPLICAS", "rasa=2,gateway=2"))


def scaled(config: StackConfig) -> Topology:
    """SCALED replicas behind HAProxy (`cns run --replicas rasa=2,gateway=2`), Rasa on the
    shared SQL tracker store and the Redis lock store."""
    if config.tracker_database_url is None:
        raise RuntimeError("the scaled topology needs PostgreSQL (TEST_DATABASE_URL)")
    ports = Ports(rasa=free_port(), actions=free_port(), gateway=free_port())
    env = config.env | {"RASA_TRACKER_DATABASE_URL": config.tracker_database_url}
    services = local_services(
        PROJECT_ROOT, config.model, ports, env=env, replicas=SCALED, var_dir=config.workdir
    )
    links = {
        "rasa": {"ACTIONS_URL": config.actions_via(actions_url(ports))},
        "gateway": {"RASA_URL": config.rasa_via(rasa_url(ports))},
    }
    roles = {s.name: s.name.split("-")[0] if s.name != "haproxy" else "proxy" for s in services}
    return Topology(
        "scaled",
        [replace(s, env=s.env | links.get(roles[s.name], {})) for s in services],
        ports.url(ports.gateway),
        roles,
    )


TOPOLOGIES: dict[str, Callable[[StackConfig], Topology]] = {"single": single, "scaled": scaled}


# ----------------------------------------------------------------------------- HTTP client


class HttpError(Exception):
    pass


class Client:
    """Keep-alive HTTP/1.1 connections to one host, a few lines of asyncio streams (httpx's
    own cost would be a sizeable part of the measurement on 2 cores)."""

    def __init__(self, url: str, limit: int = MAX_CONNECTIONS) -> None:
        host_port = url.split("://", 1)[1]
        self.host, port = host_port.rsplit(":", 1)
        self.port = int(port)
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self.slots = asyncio.Semaphore(limit)

    async def post(self, path: str, body: bytes, headers: str = "") -> tuple[int, bytes]:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\n"
            f"Content-Type: application/json\r\n{headers}"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        async with self.slots:
            while True:
                reused = bool(self.idle)
                if reused:
                    reader, writer = self.idle.pop()
                else:
                    reader, writer = await asyncio.open_connection(self.host, self.port)
                try:
                    writer.write(head + body)
                    status, length, keep = response_head(await reader.readuntil(b"\r\n\r\n"))
                    data = await reader.readexactly(length)
                except (asyncio.IncompleteReadError, ConnectionError):
                    writer.close()
                    if reused:  # the server closed an idle keep-alive connection: again
                        continue
                    raise
                except BaseException:
                    writer.close()
                    raise
                if keep:
                    self.idle.append((reader, writer))
                else:
                    writer.close()
                return status, data

    async def close(self) -> None:
        for _, writer in self.idle:
            writer.close()
        self.idle.clear()


def response_head(head: bytes) -> tuple[int, int, bool]:
    """(status, Content-Length, whether the connection stays open) of a response head."""
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines[1:] if ": " in line)
    if "content-length" not in headers:
        raise HttpError(f"no Content-Length in {lines[0]!r}")
    keep = headers.get("connection", "").strip() != "close"
    return int(lines[0].split()[1]), int(headers["content-length"]), keep


# ----------------------------------------------------------------------------- counting proxy


class CountingProxy:
    """Forwards TCP to `upstream` and counts the HTTP requests going through, by route."""

    def __init__(self, upstream: str) -> None:
        self.upstream_host, port = upstream.split("://", 1)[1].rsplit(":", 1)
        self.upstream_port = int(port)
        self.port = free_port()
        self.counts: Counter[str] = Counter()
        self.server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(
                self.upstream_host, self.upstream_port
            )
        except OSError:
            writer.close()
            return
        back = asyncio.create_task(_pipe(up_reader, writer))
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                self.counts[route_of(lines[0])] += 1
                headers = dict(line.lower().split(": ", 1) for line in lines[1:] if ": " in line)
                up_writer.write(head)
                if headers.get("transfer-encoding", "").lower() == "chunked":
                    while True:
                        size_line = await reader.readuntil(b"\r\n")
                        size = int(size_line.split(b";")[0], 16)
                        up_writer.write(size_line + await reader.readexactly(size + 2))
                        if size == 0:
                            break
                else:
                    up_writer.write(await reader.readexactly(int(headers.get("content-length", 0))))
                await up_writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            up_writer.close()
            writer.close()
            back.cancel()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    writer.close()


# ----------------------------------------------------------------------------- residents


@dataclass
class Resident:
    channel: str  # "web" or "telegram"
    name: str
    token: str | None = None  # web: the identity the server issued
    user: dict[str, Any] | None = None  # telegram: the fake's User
    steps: deque[Step] = field(default_factory=deque)
    kind: str = ""
    buttons: list[Button] = field(default_factory=list)
    telegram_messages: list[dict[str, Any]] = field(default_factory=list)  # last answer's
    consented: bool = False
    sessions: int = 0


@dataclass
class Turn:
    channel: str
    kind: str
    new: bool  # the resident's first turn ever
    due: float
    latency: float | None = None
    error: str | None = None
    chat: int | None = None  # telegram

    def completed(self) -> float | None:
        """When the answer was complete (perf_counter), if it came without error."""
        return None if self.latency is None or self.error else self.due + self.latency


@dataclass
class Chat:
    """A Telegram resident's chat as the load generator sees it."""

    resident: Resident
    dues: list[float] = field(default_factory=list)
    sent_at: list[float] = field(default_factory=list)
    waiting: bool = False
    timer: asyncio.TimerHandle | None = None
    turn_started: float = 0.0


class Load:
    """Open-loop load of scripted residents on both channels of one running stack."""

    def __init__(
        self,
        gateway_url: str,
        telegram: FakeTelegram,
        phrasings: Phrasings,
        *,
        telegram_share: float,
        seed: int = 7,
    ) -> None:
        self.client = Client(gateway_url)
        self.telegram = telegram
        self.phrasings = phrasings
        self.telegram_share = telegram_share
        self.rng = random.Random(seed)
        self.ready: dict[str, deque[Resident]] = {"web": deque(), "telegram": deque()}
        self.idle: dict[str, list[Resident]] = {"web": [], "telegram": []}
        self.chats: dict[int, Chat] = {}
        self.numbers = 0
        self.update_id = random.randrange(10**9, 2 * 10**9)
        self.tasks: set[asyncio.Task[None]] = set()
        self.loop: asyncio.AbstractEventLoop | None = None

    # ----- the fake Bot API's side (called in its thread)

    def on_send(self, method: str, message: dict[str, Any]) -> None:
        if self.loop is None:
            return
        chat_id = int(message["chat"]["id"])
        markup = message.get("reply_markup") or {}
        rows = markup.get("inline_keyboard") or []
        buttons = [(b.get("text", ""), b.get("callback_data", "")) for row in rows for b in row]
        stamp = time.perf_counter()
        ref = {"chat": {"id": chat_id}, "message_id": message["message_id"]}
        self.loop.call_soon_threadsafe(self._telegram_sent, chat_id, stamp, ref, buttons)

    def _telegram_sent(
        self, chat_id: int, stamp: float, ref: dict[str, Any], buttons: list[tuple[str, str]]
    ) -> None:
        chat = self.chats.get(chat_id)
        if chat is None:  # a desk group
            return
        chat.sent_at.append(stamp)
        resident = chat.resident
        index = len(resident.telegram_messages)
        resident.telegram_messages.append(ref)
        resident.buttons.extend(Button(t, p, index) for t, p in buttons if p)
        if chat.waiting:
            self._quiet_later(chat)

    def _quiet_later(self, chat: Chat) -> None:
        assert self.loop is not None
        if chat.timer is not None:
            chat.timer.cancel()
        chat.timer = self.loop.call_later(QUIET, self._telegram_done, chat)

    def _telegram_done(self, chat: Chat) -> None:
        chat.waiting = False
        chat.timer = None
        self._next(chat.resident)

    # ----- choosing the next turn

    def _new_resident(self, channel: str) -> Resident:
        self.numbers += 1
        resident = Resident(channel, f"{channel}-{self.numbers}")
        if channel == "telegram":
            resident.user = self.telegram.user(f"Cư dân {self.numbers}")
            self.chats[int(resident.user["id"])] = Chat(resident)
        return resident

    def _start_session(self, channel: str) -> tuple[Resident, bool]:
        pool = self.idle[channel]
        if pool and self.rng.random() >= NEW_RESIDENT_SHARE:
            resident = pool.pop(self.rng.randrange(len(pool)))
        else:
            resident = self._new_resident(channel)
        resident.kind = pick_kind(self.rng)
        resident.steps = deque(session_steps(resident.kind, self.phrasings, self.rng))
        if channel == "telegram" and resident.sessions == 0:
            resident.steps.appendleft(Step("/start"))
        new = resident.sessions == 0
        resident.sessions += 1
        return resident, new

    def _next(self, resident: Resident) -> None:
        """The resident read the answer: on with the session, or back to the idle pool."""
        if not resident.consented and consent_button(resident.buttons):
            resident.steps.appendleft(Step("dong y", press="Đồng ý"))
            resident.consented = True
        if resident.steps:
            self.ready[resident.channel].append(resident)
        else:
            self.idle[resident.channel].append(resident)

    def take(self) -> tuple[Resident, Step, bool]:
        channel = "telegram" if self.rng.random() < self.telegram_share else "web"
        ready = self.ready[channel]
        new = False
        if ready and self.rng.random() >= NEW_SESSION_SHARE:
            resident = ready.popleft()
        else:
            resident, new = self._start_session(channel)
        return resident, resident.steps.popleft(), new

    # ----- running

    async def run(self, rate: float, seconds: float, *, poisson: bool = False) -> list[Turn]:
        self.loop = asyncio.get_running_loop()
        turns: list[Turn] = []
        start = time.perf_counter() + 0.1
        for offset in schedule(rate, seconds, poisson=poisson):
            due = start + offset
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            resident, step, new = self.take()
            turn = Turn(resident.channel, resident.kind, new, due)
            turns.append(turn)
            job = self._web(resident, step, turn) if resident.channel == "web" else None
            task = asyncio.create_task(job or self._telegram(resident, step, turn))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        if self.tasks:
            await asyncio.wait(set(self.tasks), timeout=TURN_TIMEOUT + 5)
        await self._drain_telegram()
        return turns

    async def _drain_telegram(self) -> None:
        deadline = time.perf_counter() + TURN_TIMEOUT + QUIET
        while time.perf_counter() < deadline:  # the chats' own timers end their waits
            if not any(chat.waiting for chat in self.chats.values()):
                return
            await asyncio.sleep(0.2)

    async def _web(self, resident: Resident, step: Step, turn: Turn) -> None:
        choice = choose(step, resident.buttons)
        body: dict[str, str] = {"text": choice.text}
        if resident.token is not None:
            body["sender"] = resident.token
        try:
            async with asyncio.timeout(TURN_TIMEOUT):
                status, data = await self.client.post("/api/chat", json.dumps(body).encode())
        except (TimeoutError, OSError, asyncio.IncompleteReadError, HttpError) as exc:
            turn.error = type(exc).__name__
            self._next(resident)
            return
        turn.latency = time.perf_counter() - turn.due
        if status != 200:
            turn.error = f"HTTP {status}"
            self._next(resident)
            return
        answer = json.loads(data)
        resident.token = answer.get("sender") or resident.token
        resident.buttons = [
            Button(b["title"], b["payload"], index)
            for index, message in enumerate(answer.get("messages", []))
            for b in message.get("buttons") or []
        ]
        self._next(resident)

    async def _telegram(self, resident: Resident, step: Step, turn: Turn) -> None:
        assert resident.user is not None
        choice = choose(step, resident.buttons)
        chat_id = int(resident.user["id"])
        turn.chat = chat_id
        chat = self.chats[chat_id]
        update = self._telegram_update(resident, resident.user, choice)
        self.update_id += 1
        update["update_id"] = self.update_id
        resident.buttons, resident.telegram_messages = [], []
        chat.dues.append(turn.due)
        chat.waiting = True
        try:
            async with asyncio.timeout(TURN_TIMEOUT):
                status, _ = await self.client.post(
                    "/webhooks/telegram",
                    json.dumps(update).encode(),
                    f"X-Telegram-Bot-Api-Secret-Token: {WEBHOOK_SECRET}\r\n",
                )
        except (TimeoutError, OSError, asyncio.IncompleteReadError, HttpError) as exc:
            status, turn.error = 0, type(exc).__name__
        if status != 200:
            turn.error = turn.error or f"webhook HTTP {status}"
            chat.dues.remove(turn.due)  # not stored: the gateway will not answer it
        # No answer at all within TURN_TIMEOUT: the resident goes on (the turn is an error).
        if chat.timer is None:
            assert self.loop is not None
            chat.timer = self.loop.call_later(TURN_TIMEOUT, self._telegram_done, chat)

    def _telegram_update(
        self, resident: Resident, user: dict[str, Any], choice: Choice
    ) -> dict[str, Any]:
        """The update Telegram would send: a button press (callback query), /start, or text."""
        button = choice.button
        if button is not None and button.message < len(resident.telegram_messages):
            message = resident.telegram_messages[button.message]
            with contextlib.suppress(ValueError):  # the button is gone: type its payload
                return {"callback_query": self.telegram.press(user, message, data=button.payload)}
        if choice.text == "/start":
            return {"message": self.telegram.user_command(user, "start")}
        return {"message": self.telegram.user_text(user, choice.text)}


def telegram_latencies(turns: Sequence[Turn], load: Load, database_url: str) -> None:
    """Sets each Telegram turn's latency from the messages the fake Bot API received, cut
    into answers by the chat's next turn (bench.turns_model.attribute_answers)."""
    engine = make_engine(database_url)
    with Session(engine) as session:
        rows = session.execute(
            select(Event.resident_id, Event.type)
            .where(Event.channel == "telegram", Event.type.in_(["message_in", "message_out"]))
            .order_by(Event.id)
        ).all()
    engine.dispose()
    types: dict[str, list[str]] = {}
    for resident_id, type_ in rows:
        types.setdefault(resident_id, []).append(type_)
    by_chat: dict[int, list[Turn]] = {}
    for turn in turns:
        if turn.chat is not None:
            by_chat.setdefault(turn.chat, []).append(turn)
    for chat_id, chat in load.chats.items():
        resident = pseudonymize("telegram", str(chat_id), key=PSEUDONYM_KEY)
        latencies = attribute_answers(
            chat.dues, answer_sizes(types.get(resident, [])), chat.sent_at
        )
        lookup = dict(zip(chat.dues, latencies, strict=True))
        for turn in by_chat.get(chat_id, []):
            turn.latency = lookup.get(turn.due)
            if turn.latency is None:
                turn.error = turn.error or "no (complete) answer"


# ----------------------------------------------------------------------------- /proc


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_tree(root: int) -> list[int]:
    """`root` and every descendant living now."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError, ValueError):
                parent, _ = proc_stat_ticks(Path(f"/proc/{entry}/stat").read_text())
                parents.setdefault(parent, []).append(int(entry))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(parents.get(pid, []))
    return found


def ticks(pids: Sequence[int]) -> int:
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            total += proc_stat_ticks(Path(f"/proc/{pid}/stat").read_text())[1]
    return total


def rss_bytes(pids: Sequence[int]) -> int:
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
    return total


@dataclass
class Processes:
    """The stack's processes by role (ROLES, "proxy") plus the load generator itself."""

    roots: dict[str, list[int]]

    def trees(self) -> dict[str, list[int]]:
        trees = {
            role: [p for r in roots for p in process_tree(r)] for role, roots in self.roots.items()
        }
        trees["load generator"] = [os.getpid()]
        return trees


def processes(stack: Stack, topology: Topology) -> Processes:
    roots: dict[str, list[int]] = {}
    for name, pid in stack.pids().items():
        roots.setdefault(topology.roles.get(name, name), []).append(pid)
    return Processes(roots)


# ----------------------------------------------------------------------------- one rate


@dataclass
class RateResult:
    topology: str
    offered: float
    seconds: float
    turns: list[Turn]
    achieved: float
    cpu: dict[str, float]
    rss_peak: int
    cpu_ms_per_turn: dict[str, float] = field(default_factory=dict)
    machine_busy: float = math.nan  # % of all cores, every process on the machine
    load_average: float = math.nan  # 1 min, at the end

    def latencies(self, channel: str) -> list[float]:
        return [
            t.latency
            for t in self.turns
            if t.channel == channel and t.latency is not None and t.error is None
        ]

    def errors(self) -> Counter[str]:
        return Counter(f"{t.channel}: {t.error}" for t in self.turns if t.error)


async def measured_rate(
    load: Load, procs: Processes, topology: str, rate: float, seconds: float, database_url: str
) -> RateResult:
    trees = procs.trees()
    stack_pids = [p for role, pids in trees.items() if role != "load generator" for p in pids]
    before = {role: ticks(pids) for role, pids in trees.items()}
    machine_before = machine_ticks()
    peak = rss_bytes(stack_pids)
    sampling = True

    async def sample() -> None:
        nonlocal peak
        while sampling:
            peak = max(peak, rss_bytes(stack_pids))
            await asyncio.sleep(1.0)

    sampler = asyncio.create_task(sample())
    started = time.perf_counter()
    turns = await load.run(rate, seconds)
    load_seconds = time.perf_counter() - started
    after = {role: ticks(pids) for role, pids in trees.items()}
    machine_after = machine_ticks()
    sampling = False
    await sampler
    telegram_latencies(turns, load, database_url)
    start = turns[0].due if turns else 0.0
    achieved = 0.0
    for channel in ("web", "telegram"):
        ok = [t for t in turns if t.channel == channel and t.completed() is not None]
        dues = [t.due - start for t in ok]
        achieved += achieved_rate(dues, [t.latency or 0.0 for t in ok], seconds)
    cpu = {
        role: cpu_percent(before[role], after[role], load_seconds, CLOCK_TICKS) for role in before
    }
    answered = sum(t.completed() is not None for t in turns)
    per_turn = {
        role: 1000.0 * (after[role] - before[role]) / CLOCK_TICKS / max(answered, 1)
        for role in before
    }
    busy = machine_after[0] - machine_before[0]
    total = machine_after[1] - machine_before[1]
    return RateResult(
        topology,
        rate,
        seconds,
        turns,
        achieved,
        cpu,
        peak,
        per_turn,
        100.0 * busy / total if total else math.nan,
        load_average(),
    )


def load_average() -> float:
    """The machine's 1-minute load average (other jobs share it)."""
    return float(Path("/proc/loadavg").read_text().split()[0])


def machine_ticks() -> tuple[int, int]:
    """(busy, total) clock ticks of all cores since boot, from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


# ----------------------------------------------------------------------------- the stack


@contextlib.contextmanager
def running(
    make: Callable[[StackConfig], Topology], config: StackConfig, log: IO[str]
) -> Iterator[tuple[Topology, Stack]]:
    topology = make(config)
    stack = Stack(topology.services, PROJECT_ROOT, out=log)
    stack.start()
    try:
        if not stack.wait_healthy(f"{topology.gateway_url}/healthz", timeout=300):
            raise RuntimeError(f"stack not healthy; exited={stack.exited()}")
        yield topology, stack
    finally:
        stack.stop()


def stack_env(database_url: str, telegram: FakeTelegram, desk_chat: int) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TELEGRAM_", "ZALO_", "DATABASE_", "REDIS_", "RASA_", "ACTIONS_"))
    }
    env.update(
        DATABASE_URL=database_url,
        PSEUDONYM_KEY=PSEUDONYM_KEY,
        APP_ENV="development",
        LOG_LEVEL="WARNING",
        TELEGRAM_BOT_TOKEN=telegram.token,
        TELEGRAM_API_BASE_URL=telegram.base_url,
        TELEGRAM_MODE="webhook",
        TELEGRAM_WEBHOOK_URL="https://bench.example/webhooks/telegram",
        TELEGRAM_WEBHOOK_SECRET=WEBHOOK_SECRET,
        TELEGRAM_DESK_CHAT_ID=str(desk_chat),
        DESK_HOURS="00:00-00:00",
        DESK_NEW_TICKETS_PER_COMMUNE="1000000",
        # Every bench resident comes from 127.0.0.1 and writes faster than a person.
        CHAT_RATE_LIMIT_PER_MINUTE="100000",
        CHAT_RATE_LIMIT_PER_ADDRESS_PER_MINUTE="10000000",
        CHAT_NEW_RESIDENTS_PER_ADDRESS_PER_HOUR="10000000",
    )
    if redis := bench_redis_url():
        env["REDIS_URL"] = redis
    return env


def bench_redis_url() -> str | None:
    """Redis database 14 of TEST_REDIS_URL (away from the tests' 15)."""
    url = os.environ.get("TEST_REDIS_URL")
    return url.rsplit("/", 1)[0] + "/14" if url else None


async def clear_bench_redis() -> None:
    if bench_redis_url():
        redis = make_redis(bench_redis_url())
        await redis.flushdb()
        await redis.aclose()


@dataclass
class Calibration:
    turns: int
    web_turns: int
    to_rasa: Counter[str]
    to_actions: Counter[str]


@dataclass
class Options:
    rates: list[float]
    seconds: float
    topologies: list[str]
    telegram_share: float
    calibration_turns: int
    profile_rate: float
    profile_seconds: float
    pause: float


@dataclass
class TopologyRun:
    name: str
    calibration: Calibration | None = None
    rates: list[RateResult] = field(default_factory=list)
    profiles: dict[str, Profile] = field(default_factory=dict)
    profiled: RateResult | None = None
    idle_rss: dict[str, int] = field(default_factory=dict)  # by role, after start


def run_topology(name: str, options: Options, model: Path, phrasings: Phrasings) -> TopologyRun:
    make = TOPOLOGIES[name]
    result = TopologyRun(name)
    backend = "postgresql" if postgres_base_url() else "sqlite"
    with tempfile.TemporaryDirectory() as tmp:
        if options.calibration_turns:
            asyncio.run(clear_bench_redis())
            with (
                scratch_database(backend, Path(tmp) / "calibration") as database_url,
                tracker_database(backend, Path(tmp)) as trackers,
            ):
                workdir = Path(tmp) / "calibration-var"
                result.calibration = asyncio.run(
                    calibrate(make, model, (database_url, trackers, workdir), phrasings, options)
                )
            print(f"[{name}] calibration: {result.calibration}", flush=True)
        asyncio.run(clear_bench_redis())
        log_path = Path(tempfile.gettempdir()) / f"bench-turns-{name}.log"
        holder: list[Load] = []
        with (
            scratch_database(backend, Path(tmp)) as database_url,
            tracker_database(backend, Path(tmp)) as trackers,
            log_path.open("w", encoding="utf-8") as log,
            FakeTelegram(auto_webhook=False, on_send=_forward_to(holder)) as telegram,
        ):
            desk = telegram.forum_group("Tổ công nghệ số — bàn hỗ trợ chung")
            env = stack_env(database_url, telegram, int(desk["id"]))
            config = StackConfig(model, env, Path(tmp) / "var", trackers)
            with running(make, config, log) as (topology, stack):
                procs = processes(stack, topology)
                trees = procs.trees()
                result.idle_rss = {
                    role: rss_bytes(pids)
                    for role, pids in trees.items()
                    if role in topology.roles.values()
                }
                load = Load(
                    topology.gateway_url, telegram, phrasings, telegram_share=options.telegram_share
                )
                holder.append(load)
                asyncio.run(drive(load, procs, result, options, database_url))
    return result


@contextlib.contextmanager
def tracker_database(backend: str, tmp: Path) -> Iterator[str | None]:
    """An empty database for Rasa's shared tracker store on PostgreSQL (None on SQLite)."""
    if backend != "postgresql":
        yield None
        return
    with scratch_database(backend, tmp, migrated=False) as url:
        yield url


def stack_pids(procs: Processes) -> list[int]:
    return [p for role, pids in procs.trees().items() if role != "load generator" for p in pids]


async def drive(
    load: Load, procs: Processes, result: TopologyRun, options: Options, database_url: str
) -> None:
    """Warm up, every rate, then the profiled rate; all on one event loop (the load's
    connections and timers belong to it)."""
    # The first answers of a fresh Rasa (each kind of turn) are slow: warm up, not measured
    # (5 s at 2 turns/s left the first rate's p95 at 1.9 s, the same rate later at 0.1 s).
    await load.run(WARM_UP_RATE, WARM_UP_SECONDS)
    for rate in options.rates:
        await asyncio.sleep(options.pause)
        outcome = await measured_rate(load, procs, result.name, rate, options.seconds, database_url)
        result.rates.append(outcome)
        print(f"[{result.name}] {line_of(outcome)}", flush=True)
    if options.profile_rate:
        await asyncio.sleep(options.pause)
        result.profiled, result.profiles = await profiled_rate(
            load, procs, result.name, options, database_url
        )
    await load.client.close()


def _forward_to(holder: list[Load]) -> Callable[[str, dict[str, Any]], None]:
    """The fake Bot API's send hook, for the Load made once the stack is up."""

    def forward(method: str, message: dict[str, Any]) -> None:
        if holder:
            holder[0].on_send(method, message)

    return forward


async def calibrate(
    make: Callable[[StackConfig], Topology],
    model: Path,
    databases: tuple[str, str | None, Path],
    phrasings: Phrasings,
    options: Options,
) -> Calibration:
    """Requests per turn, through counting proxies (never in the timed runs): a stack of its
    own, on a database of its own (`databases`: the app's, the trackers', the work folder)."""
    database_url, trackers, workdir = databases
    proxies: dict[str, CountingProxy] = {}

    def via(kind: str) -> Callable[[str], str]:
        def to(url: str) -> str:
            proxies[kind] = CountingProxy(url)
            return proxies[kind].url

        return to

    holder: list[Load] = []
    with FakeTelegram(auto_webhook=False, on_send=_forward_to(holder)) as telegram:
        desk = telegram.forum_group("Tổ công nghệ số — bàn hỗ trợ chung")
        env = stack_env(database_url, telegram, int(desk["id"]))
        config = StackConfig(model, env, workdir, trackers, via("rasa"), via("actions"))
        topology = make(config)
        for proxy in proxies.values():
            await proxy.start()
        stack = Stack(topology.services, PROJECT_ROOT, out=io.StringIO())
        stack.start()
        try:
            healthy = await asyncio.to_thread(
                stack.wait_healthy, f"{topology.gateway_url}/healthz", timeout=300
            )
            if not healthy:
                raise RuntimeError(f"calibration stack not healthy: {stack.exited()}")
            load = Load(
                topology.gateway_url,
                telegram,
                phrasings,
                telegram_share=options.telegram_share,
                seed=3,
            )
            holder.append(load)
            await load.run(2.0, 5.0)  # warm-up, not counted
            for proxy in proxies.values():
                proxy.counts.clear()
            turns = await load.run(4.0, options.calibration_turns / 4.0)
            await load.client.close()
        finally:
            await asyncio.to_thread(stack.stop)
            for proxy in proxies.values():
                await proxy.stop()
    return Calibration(
        len(turns),
        sum(t.channel == "web" for t in turns),
        Counter(proxies["rasa"].counts),
        Counter(proxies["actions"].counts),
    )


async def profiled_rate(
    load: Load, procs: Processes, name: str, options: Options, database_url: str
) -> tuple[RateResult, dict[str, Profile]]:
    """One more run at `profile_rate` with py-spy sampling Rasa and the gateway."""
    spy = PROJECT_ROOT / ".venv" / "bin" / "py-spy"
    folder = Path(tempfile.gettempdir())
    outputs = {role: folder / f"bench-turns-{name}-{role}.pyspy" for role in ("rasa", "gateway")}
    spies = []
    for role, path in outputs.items():
        path.unlink(missing_ok=True)
        command = [
            str(spy), "record", "--pid", str(procs.roots[role][0]), "--subprocesses",
            "--nonblocking", "--rate", "50", "--format", "raw", "--nolineno",
            "--duration", str(math.ceil(options.profile_seconds)), "--output", str(path),
        ]  # fmt: skip
        spies.append(
            await asyncio.create_subprocess_exec(
                *command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
        )
    outcome = await measured_rate(
        load, procs, name, options.profile_rate, options.profile_seconds, database_url
    )
    for spy_process in spies:
        try:
            async with asyncio.timeout(60):
                await spy_process.wait()
        except TimeoutError:
            spy_process.terminate()
    profiles = {
        role: summarise_profile(path.read_text(encoding="utf-8"))
        for role, path in outputs.items()
        if path.exists()
    }
    print(f"[{name}] profiled: {line_of(outcome)}", flush=True)
    return outcome, profiles


# ----------------------------------------------------------------------------- report


def ms(value: float) -> str:
    return "–" if math.isnan(value) else f"{value * 1000:.0f}"


def triple(values: list[float]) -> str:
    return " / ".join(ms(percentile(values, q)) for q in (0.50, 0.95, 0.99))


def line_of(r: RateResult) -> str:
    cpu = ", ".join(f"{role} {value:.0f}%" for role, value in r.cpu.items())
    return (
        f"offered {r.offered:g}/s: achieved {r.achieved:.1f}/s, web p50/95/99 "
        f"{triple(r.latencies('web'))} ms, telegram {triple(r.latencies('telegram'))} ms, "
        f"errors {sum(r.errors().values())} {dict(r.errors())}, CPU {cpu}, "
        f"RSS {r.rss_peak / 2**20:.0f} MB"
    )


def rate_rows(runs: Sequence[TopologyRun]) -> list[str]:
    rows = [
        "| offered turns/s | topology | achieved turns/s | turns (web + tg) "
        "| web p50 / p95 / p99 ms | Telegram p50 / p95 / p99 ms | errors "
        "| CPU % (ms per answered turn) rasa · actions · gateway · load gen "
        "| machine busy (load avg) | stack RSS peak |",
        "| ---: | --- | ---: | ---: | --- | --- | ---: | --- | --- | ---: |",
    ]
    results = sorted((r for run in runs for r in run.rates), key=lambda r: (r.offered, r.topology))
    for r in results:
        web = sum(t.channel == "web" for t in r.turns)
        cpu = " · ".join(
            f"{r.cpu.get(role, math.nan):.0f} ({r.cpu_ms_per_turn.get(role, math.nan):.0f})"
            for role in (*ROLES, "load generator")
        )
        extra = [
            f"{role} {v:.0f}" for role, v in r.cpu.items() if role not in (*ROLES, "load generator")
        ]
        rows.append(
            f"| {r.offered:g} | {r.topology} | {r.achieved:.1f} | {web} + {len(r.turns) - web} "
            f"| {triple(r.latencies('web'))} | {triple(r.latencies('telegram'))} "
            f"| {sum(r.errors().values())} | {cpu}{' · ' + ', '.join(extra) if extra else ''} "
            f"| {r.machine_busy:.0f} % ({r.load_average:.1f}) | {r.rss_peak / 2**30:.2f} GB |"
        )
    return rows


def verdicts(runs: Sequence[TopologyRun]) -> list[str]:
    """Each target next to what was measured."""
    lines = ["| target | measured | met |", "| --- | --- | --- |"]
    for run in runs:
        held = [
            r.offered
            for r in run.rates
            if sustained(r.offered, r.achieved, percentile(r.latencies("web"), 0.95), r.errors())
        ]
        top = max(held, default=0.0)
        want = 20.0 if run.name == "single" else 30.0
        label = TARGETS.get(run.name, "")
        at_want = [r for r in run.rates if r.offered == want]
        detail = (
            f" (at {want:g}/s: {at_want[0].achieved:.1f} achieved, web p95 "
            f"{ms(percentile(at_want[0].latencies('web'), 0.95))} ms)"
            if at_want
            else ""
        )
        lines.append(
            f"| {run.name}: {label} | highest offered rate held (achieved ≥ 90 %, no errors, "
            f"web p95 ≤ 300 ms): {top:g} turns/s{detail} | {'yes' if top >= want else 'no'} |"
        )
        at_ten = [r for r in run.rates if r.offered == 10]
        if at_ten:
            p95 = percentile(at_ten[0].latencies("telegram"), 0.95)
            lines.append(
                f"| {run.name}: Telegram {TARGETS['telegram']} | p95 {ms(p95)} ms "
                f"| {'yes' if p95 <= 1.5 else 'no'} |"
            )
        peak = max((r.rss_peak for r in run.rates), default=0)
        lines.append(
            f"| {run.name}: memory {TARGETS['memory']} | peak {peak / 2**30:.2f} GB "
            f"| {'yes' if peak <= 2.5 * 2**30 else 'no'} |"
        )
    return lines


def kind_rows(runs: Sequence[TopologyRun], rate: float) -> list[str]:
    """Latency by what the turn was (first turn of a new resident, then the session kinds)."""
    results = [r for run in runs for r in run.rates if r.offered == rate]
    if not results:
        return []
    rows = [
        f"At {rate:g} turns/s offered, by the conversation the turn belongs to:",
        "",
        "| topology | turn | web turns | web p50 / p95 ms | Telegram turns "
        "| Telegram p50 / p95 ms |",
        "| --- | --- | ---: | --- | ---: | --- |",
    ]
    for r in results:
        groups: dict[str, list[Turn]] = {"first turn of a new resident": []}
        for turn in r.turns:
            groups.setdefault(turn.kind, []).append(turn)
            if turn.new:
                groups["first turn of a new resident"].append(turn)
        for name, turns in groups.items():
            cells = []
            for channel in ("web", "telegram"):
                mine = [t for t in turns if t.channel == channel]
                ok = [t.latency for t in mine if t.latency is not None and not t.error]
                p50, p95 = (ms(percentile(ok, q)) for q in (0.5, 0.95))
                cells += [str(len(mine)), f"{p50} / {p95}"]
            rows.append(f"| {r.topology} | {name} | " + " | ".join(cells) + " |")
    return rows


def calibration_rows(run: TopologyRun) -> list[str]:
    cal = run.calibration
    if cal is None or not cal.turns:
        return []
    rows = [
        f"Calibration ({run.name}): {cal.turns} turns ({cal.web_turns} web, "
        f"{cal.turns - cal.web_turns} Telegram) at 4 turns/s through two counting proxies "
        "(RASA_URL and ACTIONS_URL pointed at them; not in the timed runs).",
        "",
        "| hop | request | per turn |",
        "| --- | --- | ---: |",
    ]
    for hop, counts in (("gateway → Rasa", cal.to_rasa), ("Rasa → actions", cal.to_actions)):
        for route, count in counts.most_common():
            rows.append(f"| {hop} | `{route}` | {count / cal.turns:.2f} |")
        rows.append(f"| {hop} | **all** | **{sum(counts.values()) / cal.turns:.2f}** |")
    return rows


def profile_rows(run: TopologyRun) -> list[str]:
    if not run.profiles or run.profiled is None:
        return []
    rows = [
        f"py-spy ({run.name}, `record --nonblocking --rate 50`, active threads only) during "
        f"{run.profiled.seconds:g} s at {run.profiled.offered:g} turns/s offered: "
        f"{line_of(run.profiled)}.",
        "",
    ]
    for role, profile in run.profiles.items():
        rows += [
            f"**{role}** ({profile.samples} samples). Where the innermost frame is "
            "(package, share of samples):",
            "",
            ", ".join(f"{name} {share:.0%}" for name, share in profile.by_package[:10]) + ".",
            "",
            "| function (innermost: self time) | share "
            "| function (on the stack: inclusive) | share |",
            "| --- | ---: | --- | ---: |",
        ]
        for index in range(max(len(profile.self_time), len(profile.inclusive))):
            left = profile.self_time[index] if index < len(profile.self_time) else ("", math.nan)
            right = profile.inclusive[index] if index < len(profile.inclusive) else ("", math.nan)
            cells = (_frame(left[0]), _share(left[1]), _frame(right[0]), _share(right[1]))
            rows.append("| " + " | ".join(cells) + " |")
        if profile.ours:
            rows += [
                "",
                "Our code on the stack (inclusive): "
                + "; ".join(f"{_frame(name)} {share:.0%}" for name, share in profile.ours[:8])
                + ".",
            ]
        rows.append("")
    return rows


def _frame(frame: str) -> str:
    if not frame:
        return ""
    name, _, where = frame.partition(" (")
    where = where.rstrip(")")
    for marker in ("site-packages/", "/work/wt/bench/", str(PROJECT_ROOT) + "/"):
        if marker in where:
            where = where.split(marker, 1)[1]
    return f"`{name}` {where}".replace("|", "\\|")


def _share(value: float) -> str:
    return "" if math.isnan(value) else f"{value:.1%}"


def write_report(runs: Sequence[TopologyRun], options: Options, seconds_total: float) -> str:
    mix = ", ".join(f"{kind} {share:.0%}" for kind, share in MIX.items())
    lines = [
        "# Conversation turns benchmark (`make bench-turns`)",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, {os.cpu_count()} "
        f"cores **shared with other jobs** (numbers are noisy), "
        f"Python {platform.python_version()}; "
        f"database: {'PostgreSQL' if postgres_base_url() else 'SQLite'}; Redis: "
        f"{'real (db 14)' if bench_redis_url() else 'in-process stand-in'}; "
        f"{options.seconds:g} s per rate, {seconds_total / 60:.0f} min in all.",
        "",
        "Open-loop offered load (turns due at a fixed rate whatever the stack does; each latency "
        f"from when its turn was due), {options.telegram_share:.0%} of turns through the Telegram "
        "webhook (fake Bot API answering at once; the gateway's outbox still paces each chat to "
        "one message per 1.05 s), the rest through `POST /api/chat`. Sessions: "
        f"{mix}; {NEW_RESIDENT_SHARE:.0%} of sessions by new residents (who accept the privacy "
        "question when it comes), the others by returning ones. Telegram latency: update "
        "posted → the fake Bot API received the last message of its answer.",
        "",
        "## Targets",
        "",
        *verdicts(runs),
        "",
        "## Per rate",
        "",
        *rate_rows(runs),
        "",
        "CPU: percent of one core over the run (utime + stime from /proc, process trees); stack "
        "RSS: rasa + actions + gateway, sampled every second (PostgreSQL and Redis not included: "
        "shared with the machine). Idle stack RSS after start: "
        + "; ".join(
            f"{r.name} {sum(r.idle_rss.values()) / 2**30:.2f} GB ("
            + ", ".join(f"{role} {size / 2**20:.0f} MB" for role, size in r.idle_rss.items())
            + ")"
            for r in runs
        )
        + ".",
        "",
    ]
    errors = Counter[str]()
    for run in runs:
        for r in run.rates:
            errors.update({f"{run.name} @ {r.offered:g}/s — {k}": v for k, v in r.errors().items()})
    if errors:
        lines += ["Errors: " + "; ".join(f"{k}: {v}" for k, v in sorted(errors.items())) + ".", ""]
    lines += [*kind_rows(runs, 10.0 if 10.0 in options.rates else options.rates[0]), ""]
    lines += ["## Requests per turn", ""]
    for run in runs:
        lines += [*calibration_rows(run), ""]
    lines += ["## Where the time goes", ""]
    for run in runs:
        lines += profile_rows(run)
    return "\n".join(lines)


# ----------------------------------------------------------------------------- main


def _floats(text: str) -> list[float]:
    return [float(part) for part in text.split(",") if part.strip()]


def parse(argv: Sequence[str] | None = None) -> Options:
    env = os.environ.get
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rates", default=env("BENCH_TURNS_RATES", "5,10,20,30,40"))
    parser.add_argument("--seconds", type=float, default=float(env("BENCH_TURNS_SECONDS", "60")))
    parser.add_argument("--topologies", default=env("BENCH_TURNS_TOPOLOGIES", "single,scaled"))
    parser.add_argument(
        "--telegram-share", type=float, default=float(env("BENCH_TURNS_TELEGRAM_SHARE", "0.5"))
    )
    parser.add_argument(
        "--calibration-turns", type=int, default=int(env("BENCH_TURNS_CALIBRATION", "120"))
    )
    parser.add_argument(
        "--profile-rate", type=float, default=float(env("BENCH_TURNS_PROFILE_RATE", "20"))
    )
    parser.add_argument("--profile-seconds", type=float, default=None)
    parser.add_argument("--pause", type=float, default=3.0, help="seconds between rates")
    args = parser.parse_args(argv)
    topologies = [t.strip() for t in args.topologies.split(",") if t.strip()]
    unknown = [t for t in topologies if t not in TOPOLOGIES]
    if unknown:
        parser.error(f"unknown topology {unknown}; known: {sorted(TOPOLOGIES)}")
    return Options(
        rates=_floats(args.rates),
        seconds=args.seconds,
        topologies=topologies,
        telegram_share=args.telegram_share,
        calibration_turns=args.calibration_turns,
        profile_rate=args.profile_rate,
        profile_seconds=args.profile_seconds or min(args.seconds, 30.0),
        pause=args.pause,
    )


def main(argv: Sequence[str] | None = None) -> None:
    options = parse(argv)
    # Stopped with SIGTERM (kill, a CI timeout): unwind, so every stack started is stopped
    # (its processes run in sessions of their own and would outlive the benchmark).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = time.monotonic()
    model = ensure_model()
    phrasings = load_phrasings(PROJECT_ROOT / "data" / "nlu")
    runs = [run_topology(name, options, model, phrasings) for name in options.topologies]
    report = write_report(runs, options, time.monotonic() - started)
    write_results(REPORT, report)
    print(report)


if __name__ == "__main__":
    main()
