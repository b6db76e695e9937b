"""Fault injection against the whole stack under a steady stream of residents.

`ChaosRun` starts the real processes (trained Rasa, action server, gateway) on PostgreSQL —
reached through a relay the run controls — and on a private Redis server with an
append-only file like production's, with the gateway's Telegram bot long-polling the fake
Bot API and its Zalo OA webhook fed by the fake Zalo API. Residents on Telegram, Zalo and the
web chat keep writing while one fault at a time is injected and cleared:

- ``redis-restart``: Redis stops (SIGTERM, as a restart does) and comes back;
- ``db-terminate``: every database connection of the gateway is terminated
  (``pg_terminate_backend``);
- ``db-hang``: PostgreSQL accepts connections but answers nothing, then resumes;
- ``rasa-kill`` / ``actions-kill`` / ``gateway-kill``: SIGKILL, then started again.

Each resident message on Telegram and Zalo asks something whose answer is exactly one
message (a thank-you, or the polite "busy" reply while Rasa cannot answer), so after the
stream drains the count of answers per chat must equal the count of messages: fewer is a
message lost, more is one answered twice. Zalo deliveries that fail are retried like Zalo
does; Telegram updates wait in the Bot API until the gateway confirms them. Web turns are
counted by HTTP status (503 with the polite JSON is the promised answer while a dependency is
down; a 500 or a malformed body is a failure). `/healthz` is polled throughout: it must turn
red while the fault lasts and green within seconds after it clears.

Used by `tests/e2e/test_faults.py` (in `make test`, short phases) and `bench/chaos.py`
(`make chaos`, longer phases, writes docs/benchmarks/faults.md).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, make_url, text

from bot.channels.bubbles import PARAGRAPH
from bot.router import BUSY_REPLY
from cns.replicas import Replicas
from cns.stack import Ports, free_port, local_services
from cns.supervisor import Service
from cns.training import ensure_model
from core.settings import PROJECT_ROOT
from tests.databases import postgres_base_url, scratch_database
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.zalo_api import Delivery, FakeZalo
from tests.faults import PostgresRelay, RedisServer
from tests.gateway_process import gateway_process_env

THANKS = "cảm ơn em nhiều"
THANK_REPLY = "Dạ, không có gì ạ. Em rất vui được giúp anh/chị!"
ONE_ANSWER = {THANK_REPLY, BUSY_REPLY}


def answers(message: dict[str, Any]) -> bool:
    """Whether a message sent to a resident is one answer: its first bubble is THANK_REPLY or
    BUSY_REPLY."""
    return str(message.get("text") or "").split(PARAGRAPH)[0] in ONE_ANSWER


FAULTS = (
    "redis-restart",
    "db-terminate",
    "db-hang",
    "rasa-kill",
    "actions-kill",
    "gateway-kill",
)


@dataclass
class Process:
    """One service of the stack as a child process that can be killed and started again."""

    service: Service
    log: Path
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                list(self.service.argv),
                cwd=PROJECT_ROOT,
                env=self.service.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def kill(self) -> None:
        """SIGKILL to the whole process group: no shutdown code runs."""
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill()


def _answers(url: str, timeout: float = 2.0) -> bool:
    try:
        return httpx.get(url, timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


def wait_until(check: Callable[[], bool], seconds: float, step: float = 0.2) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(step)
    return check()


@dataclass
class HealthWatch:
    """Polls the gateway's /healthz every half second: (time, status; 0 = no answer)."""

    url: str
    samples: list[tuple[float, int]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        with httpx.Client(timeout=3.0) as client:
            while not self._stop.is_set():
                started = time.monotonic()
                try:
                    status = client.get(self.url).status_code
                except httpx.HTTPError:
                    status = 0
                self.samples.append((started, status))
                self._stop.wait(max(0.0, 0.5 - (time.monotonic() - started)))

    def stop(self) -> None:
        self._stop.set()

    def red_between(self, start: float, end: float) -> bool:
        return any(s != 200 for t, s in self.samples if start <= t <= end)

    def green_after(self, moment: float) -> float | None:
        """Seconds from `moment` to the first 200 that is followed only by 200s until the
        next fault (a single lucky answer is not a recovery)."""
        later = [(t, s) for t, s in self.samples if t >= moment]
        for index, (t, s) in enumerate(later):
            if s == 200 and all(s2 == 200 for _, s2 in later[index : index + 3]):
                return t - moment
        return None


@dataclass
class Traffic:
    """Residents writing at a steady pace from a background thread, taking turns on
    `channels` (web turns run on a few threads of their own, so a slow answer does not slow
    the pace)."""

    run: ChaosRun
    per_second: float
    channels: tuple[str, ...] = ("telegram", "zalo", "web")
    telegram_sent: Counter[str] = field(default_factory=Counter)
    zalo_sent: Counter[str] = field(default_factory=Counter)
    web_statuses: Counter[int] = field(default_factory=Counter)
    web_bad: list[str] = field(default_factory=list)
    # When each turn that got no 200 was sent and answered (a turn in flight at a kill fails
    # after it).
    web_failed_at: list[tuple[float, float]] = field(default_factory=list)
    # When each turn that got no HTTP answer at all was sent and given up (a gateway killed
    # while it was writing the answer cuts the connection: no proxy can mend that).
    web_cut_at: list[tuple[float, float]] = field(default_factory=list)
    zalo_unacked: list[Delivery] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def loop(self) -> None:
        tick = 0
        with httpx.Client(timeout=30.0) as web, ThreadPoolExecutor(max_workers=8) as turns:
            while not self._stop.is_set():
                started = time.monotonic()
                self._one(tick, web, turns)
                tick += 1
                self._retry_zalo()
                self._stop.wait(max(0.0, 1.0 / self.per_second - (time.monotonic() - started)))
        # Zalo retries its deliveries for a while: so do we, until they are stored.
        wait_until(lambda: self._retry_zalo() == 0, 60, step=1.0)

    def _one(self, tick: int, web: httpx.Client, turns: ThreadPoolExecutor) -> None:
        run = self.run
        turn = tick // len(self.channels)
        match self.channels[tick % len(self.channels)]:
            case "telegram":
                user = run.telegram_users[turn % len(run.telegram_users)]
                run.telegram.user_text(user, THANKS)
                self.telegram_sent[str(user["id"])] += 1
            case "zalo":
                assert run.zalo is not None
                user_id = run.zalo_users[turn % len(run.zalo_users)]
                delivery = run.zalo.user_text(user_id, THANKS)
                self.zalo_sent[user_id] += 1
                if not delivery.ok:
                    self.zalo_unacked.append(delivery)
            case _:
                sender = run.web_senders[turn % len(run.web_senders)]
                turns.submit(self._web, web, sender)

    def _web(self, web: httpx.Client, sender: str) -> None:
        started = time.monotonic()
        try:
            response = web.post(f"{self.run.url}/api/chat", json={"sender": sender, "text": THANKS})
        except httpx.HTTPError as exc:  # the gateway was down (killed): nothing could answer
            self._web_result(started, 0, f"no answer: {type(exc).__name__}")
            return
        try:
            messages = response.json()["messages"]
            polite = bool(messages) and bool(messages[0]["text"])
        except (ValueError, KeyError, TypeError, IndexError):
            polite = False
        bad = (response.status_code >= 500 and response.status_code != 503) or not polite
        self._web_result(
            started, response.status_code, f"{response.status_code}: {response.text[:200]}" * bad
        )

    def _web_result(self, started: float, status: int, bad: str) -> None:
        with self._lock:
            self.web_statuses[status] += 1
            if status != 200:
                self.web_failed_at.append((started, time.monotonic()))
            if status == 0:
                self.web_cut_at.append((started, time.monotonic()))
            if bad:
                self.web_bad.append(bad)

    def _retry_zalo(self) -> int:
        waiting, self.zalo_unacked = self.zalo_unacked, []
        for delivery in waiting:
            assert self.run.zalo is not None
            again = self.run.zalo.resend(delivery)
            if not again.ok:
                self.zalo_unacked.append(again)
        return len(self.zalo_unacked)

    def stop(self) -> None:
        self._stop.set()


@dataclass
class Outcome:
    """What one fault did."""

    fault: str
    sent: int
    lost: int
    duplicated: int
    red_while_broken: bool
    recovery_seconds: float | None
    web_failures: list[str]
    dead_tasks: list[str]

    @property
    def ok(self) -> bool:
        return (
            self.lost == 0
            and self.duplicated == 0
            and self.red_while_broken
            and self.recovery_seconds is not None
            and not self.web_failures
            and not self.dead_tasks
        )


@dataclass
class ChaosRun:
    """The stack under test, its fakes, its residents and its fault switches."""

    url: str
    processes: dict[str, Process]
    database_url: str
    telegram: FakeTelegram
    telegram_users: list[dict[str, Any]]
    zalo: FakeZalo | None = None
    zalo_users: list[str] = field(default_factory=list)
    web_senders: list[str] = field(default_factory=list)
    # The switches of the storage faults (chaos_stack only).
    redis: RedisServer | None = None
    relay: PostgresRelay | None = None
    application_name: str = ""

    # ----- faults: each returns once the fault is in place; `clear` undoes it

    def inject(self, fault: str) -> Callable[[], None]:
        match fault:
            case "redis-restart":
                assert self.redis is not None
                self.redis.stop()
                return self.redis.start
            case "db-terminate":
                self._terminate_connections()
                return lambda: None
            case "db-hang":
                assert self.relay is not None
                self.relay.hang()
                return self.relay.resume
            case "rasa-kill" | "actions-kill" | "gateway-kill":
                process = self.processes[fault.removesuffix("-kill")]
                process.kill()
                return self._restart(fault.removesuffix("-kill"))
        raise ValueError(f"unknown fault {fault!r}")

    def _restart(self, name: str) -> Callable[[], None]:
        process = self.processes[name]
        probe = {
            "rasa": f"{self._service_url('rasa')}/version",
            "actions": f"{self._service_url('actions')}/health",
            "gateway": f"{self.url}/healthz",
        }[name]

        def restart() -> None:
            process.start()
            # The fault clears when the process serves again (Rasa loads its model first).
            wait_until(lambda: _serving(probe), 240, step=0.3)

        return restart

    def _service_url(self, name: str) -> str:
        return str(self.processes[name].service.env[f"CHAOS_{name.upper()}_URL"])

    def _terminate_connections(self) -> None:
        url = make_url(self.database_url)
        query = {k: v for k, v in url.query.items() if k != "application_name"}
        direct = url.set(host="127.0.0.1", port=5432, query=query)
        engine = create_engine(direct)
        try:
            with engine.begin() as connection:
                connection.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE application_name = :name AND pid <> pg_backend_pid()"
                    ),
                    {"name": self.application_name},
                )
        finally:
            engine.dispose()

    # ----- what the residents got

    def telegram_answers(self) -> Counter[str]:
        return Counter(str(m["chat"]["id"]) for m in self.telegram.sent() if answers(m))

    def zalo_answers(self) -> Counter[str]:
        sent = self.zalo.sent() if self.zalo is not None else []
        return Counter(m["user_id"] for m in sent if answers(m))

    def drain(
        self, traffic: Traffic, before: tuple[Counter[str], Counter[str]], seconds: float
    ) -> tuple[int, int]:
        """Wait (at most `seconds`) until every Telegram and Zalo message `traffic` sent has
        its answer; (lost, answered twice), counted from the answers `before` the traffic."""

        def new() -> tuple[Counter[str], Counter[str]]:
            return self.telegram_answers() - before[0], self.zalo_answers() - before[1]

        pairs = ((traffic.telegram_sent, 0), (traffic.zalo_sent, 1))
        wait_until(
            lambda: all(new()[i][c] >= n for sent, i in pairs for c, n in sent.items()),
            seconds,
            step=0.5,
        )
        time.sleep(3.0)  # a second answer to anything would have arrived by now
        got = new()
        lost = duplicated = 0
        for sent, index in pairs:
            for chat, count in sent.items():
                lost += max(0, count - got[index][chat])
                duplicated += max(0, got[index][chat] - count)
        return lost, duplicated

    def answers(self) -> tuple[Counter[str], Counter[str]]:
        """Telegram and Zalo answers so far (to count a traffic's from)."""
        return self.telegram_answers(), self.zalo_answers()

    def dead_tasks(self) -> list[str]:
        try:
            body = httpx.get(f"{self.url}/healthz", timeout=3.0).json()
        except (httpx.HTTPError, ValueError):
            return ["gateway"]
        tasks = body.get("tasks") or {}
        return sorted(name for name, task in tasks.items() if not task.get("alive", True))


def _serving(url: str) -> bool:
    return _answers(url)


@contextlib.contextmanager
def chaos_stack(tmp_dir: Path, *, residents: int = 3) -> Iterator[ChaosRun]:
    """The whole stack on PostgreSQL (through a relay) and a private Redis, with residents
    who already said hello (so that every later question has a one-message answer)."""
    assert postgres_base_url(), "the fault run needs TEST_DATABASE_URL (PostgreSQL)"
    model = ensure_model()
    application_name = f"chaos-{uuid.uuid4().hex[:8]}"
    with (
        scratch_database("postgresql", tmp_dir) as direct_url,
        PostgresRelay() as relay,
        RedisServer(tmp_dir / "redis", appendonly=True) as redis_server,
        FakeTelegram() as telegram,
        FakeZalo() as zalo,
    ):
        url = make_url(direct_url).set(host="127.0.0.1", port=relay.port)
        query = dict(url.query) | {"application_name": application_name}
        database_url = url.set(query=query).render_as_string(hide_password=False)
        ports = Ports(rasa=free_port(), actions=free_port(), gateway=free_port())
        zalo_env = {name.upper(): value for name, value in zalo.gateway_settings().items()}
        env = gateway_process_env(
            database_url,
            telegram,
            redis_server.url,
            PSEUDONYM_KEY="chaos-pseudonym-key",
            TELEGRAM_MODE="polling",
            DESK_HOURS="00:00-00:00",
            CHAOS_RASA_URL=ports.url(ports.rasa),
            CHAOS_ACTIONS_URL=ports.url(ports.actions),
            **zalo_env,
        )
        services = local_services(PROJECT_ROOT, model, ports, env=env)
        processes = {s.name: Process(s, tmp_dir / f"{s.name}.log") for s in services}
        gateway_url = ports.url(ports.gateway)
        zalo.webhook_url = f"{gateway_url}/webhooks/zalo"
        run = ChaosRun(
            url=gateway_url,
            processes=processes,
            redis=redis_server,
            relay=relay,
            database_url=database_url,
            application_name=application_name,
            telegram=telegram,
            zalo=zalo,
            telegram_users=[telegram.user(f"Cư dân {n}") for n in range(residents)],
            zalo_users=[zalo.user(f"Cư dân Zalo {n}") for n in range(residents)],
        )
        with _running(run):
            yield run


@contextlib.contextmanager
def scaled_stack(
    tmp_dir: Path, replicas: Replicas, *, residents: int = 3, **env: str
) -> Iterator[ChaosRun]:
    """`replicas` of Rasa, the action server and the gateway behind HAProxy (cns/replicas.py)
    on PostgreSQL (TEST_DATABASE_URL; Rasa's trackers in a schema of their own) and a Redis
    server of its own (another stack of the test session, e.g. the session's `stack`, shares
    TEST_REDIS_URL and would hold the Telegram outbox's lease), the gateways' Telegram bot in
    webhook mode (through the proxy), with residents who already said hello. `env` adds to
    the processes' environment."""
    assert postgres_base_url(), "replicas need TEST_DATABASE_URL (PostgreSQL)"
    model = ensure_model()
    with (
        scratch_database("postgresql", tmp_dir) as database_url,
        scratch_database("postgresql", tmp_dir, migrated=False) as tracker_url,
        RedisServer(tmp_dir / "redis") as redis_server,
        FakeTelegram() as telegram,
    ):
        ports = Ports(rasa=free_port(), actions=free_port(), gateway=free_port())
        proxy_url = ports.url(ports.gateway)
        base = gateway_process_env(
            database_url,
            telegram,
            redis_server.url,
            PSEUDONYM_KEY="scale-out-pseudonym-key",
            RASA_TRACKER_DATABASE_URL=tracker_url,
            TELEGRAM_MODE="webhook",
            TELEGRAM_WEBHOOK_URL=f"{proxy_url}/webhooks/telegram",
            TELEGRAM_WEBHOOK_SECRET=uuid.uuid4().hex,
            DESK_HOURS="00:00-00:00",
            CHAT_RATE_LIMIT_PER_ADDRESS_PER_MINUTE="100000",
            CHAT_NEW_RESIDENTS_PER_ADDRESS_PER_HOUR="100000",
            CHAT_RATE_LIMIT_PER_MINUTE="1000",
            **env,
        )
        services = local_services(
            PROJECT_ROOT, model, ports, env=base, replicas=replicas, var_dir=tmp_dir / "var"
        )
        run = ChaosRun(
            url=proxy_url,
            processes={s.name: Process(s, tmp_dir / f"{s.name}.log") for s in services},
            database_url=database_url,
            telegram=telegram,
            telegram_users=[telegram.user(f"Cư dân {n}") for n in range(residents)],
        )
        with _running(run, *(p.service.env["GATEWAY_PORT"] for p in _gateways(run))):
            yield run


def _gateways(run: ChaosRun) -> list[Process]:
    return [p for name, p in run.processes.items() if name.startswith("gateway")]


@contextlib.contextmanager
def _running(run: ChaosRun, *gateway_ports: str) -> Iterator[None]:
    """The run's processes started, healthy (through the proxy and at each gateway's own
    port) and greeted by every resident; stopped after."""
    for user in run.telegram_users:
        run.telegram.private_chat(user)
    for process in run.processes.values():
        process.start()
    urls = [run.url] + [f"http://127.0.0.1:{port}" for port in gateway_ports]
    try:
        healthy = lambda: all(_answers(f"{url}/healthz") for url in urls)  # noqa: E731
        if not wait_until(healthy, 300, step=1.0):
            logs = {p.service.name: p.log.read_text()[-3000:] for p in run.processes.values()}
            raise RuntimeError(f"the stack did not become healthy: {logs}")
        _say_hello(run)
        yield
    finally:
        for process in run.processes.values():
            process.stop()


def _say_hello(run: ChaosRun) -> None:
    """Every resident's first message (a greeting) before the faults."""
    with httpx.Client(timeout=60.0) as web:
        for _ in range(len(run.telegram_users)):
            response = web.post(f"{run.url}/api/chat", json={"text": "xin chào"})
            response.raise_for_status()
            run.web_senders.append(response.json()["sender"])
    for user in run.telegram_users:
        run.telegram.user_text(user, "xin chào")
    for user_id in run.zalo_users:
        assert run.zalo is not None
        assert run.zalo.user_text(user_id, "xin chào").ok
    greeted = wait_until(
        lambda: (
            len({m["chat"]["id"] for m in run.telegram.sent()}) >= len(run.telegram_users)
            and len({m["user_id"] for m in (run.zalo.sent() if run.zalo else [])})
            >= len(run.zalo_users)
        ),
        120,
    )
    assert greeted, "the residents' greetings were not answered"
    time.sleep(3.0)  # the rest of each greeting (several paced messages) goes out


def run_faults(
    run: ChaosRun,
    faults: tuple[str, ...] = FAULTS,
    *,
    per_second: float = 3.0,
    fault_seconds: float = 6.0,
    drain_seconds: float = 90.0,
    report: Callable[[Outcome], None] = lambda _: None,
) -> list[Outcome]:
    """Each fault in turn under steady traffic; what each did."""
    watch = HealthWatch(f"{run.url}/healthz")
    watcher = threading.Thread(target=watch.run, daemon=True)
    watcher.start()
    outcomes: list[Outcome] = []
    try:
        for fault in faults:
            outcome = _one_fault(run, watch, fault, per_second, fault_seconds, drain_seconds)
            report(outcome)
            outcomes.append(outcome)
    finally:
        watch.stop()
        watcher.join(timeout=5)
    return outcomes


def _one_fault(
    run: ChaosRun,
    watch: HealthWatch,
    fault: str,
    per_second: float,
    fault_seconds: float,
    drain_seconds: float,
) -> Outcome:
    before = run.answers()
    traffic = Traffic(run, per_second)
    thread = threading.Thread(target=traffic.loop, daemon=True)
    thread.start()
    time.sleep(2.0)  # steady state before the fault
    broken_at = time.monotonic()
    clear = run.inject(fault)
    time.sleep(fault_seconds)
    clear()
    cleared_at = time.monotonic()
    time.sleep(2.0)  # residents keep writing after it clears
    traffic.stop()
    thread.join(timeout=120)
    lost, duplicated = run.drain(traffic, before, drain_seconds)
    recovery = watch.green_after(cleared_at)
    return Outcome(
        fault=fault,
        sent=sum(traffic.telegram_sent.values())
        + sum(traffic.zalo_sent.values())
        + sum(traffic.web_statuses.values()),
        lost=lost,
        duplicated=duplicated,
        red_while_broken=watch.red_between(broken_at, cleared_at)
        or fault == "db-terminate",  # over in an instant: nothing stays broken
        recovery_seconds=recovery,
        web_failures=[
            bad
            for bad in traffic.web_bad
            # a killed gateway cannot answer: web turns then fail at the connection
            if not (fault == "gateway-kill" and bad.startswith("no answer"))
        ],
        dead_tasks=run.dead_tasks(),
    )
