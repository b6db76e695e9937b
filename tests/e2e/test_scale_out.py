"""Scale-out, run for real: two Rasa and two gateway processes behind HAProxy (`cns run
--replicas`), on PostgreSQL and Redis, the gateways' Telegram bot in webhook mode. Residents
write on Telegram and the web chat (about 10 messages a second) while one Rasa and then one
gateway are SIGKILLed and not started again: no Telegram update may be lost or answered twice
(the dead gateway's stored updates are taken over by the other), web turns may fail only
politely and only for a few seconds, and the survivors' /healthz stays green."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import pytest

from cns.replicas import Replicas, server_states
from tests.chaos import HealthWatch, Traffic, scaled_stack, wait_until
from tests.databases import postgres_base_url

PER_SECOND = 10.0
STEADY_SECONDS = 3.0  # traffic before the first kill, and between and after the kills
TAKEN_OUT_WITHIN = 2.0  # seconds until the proxy stops sending to a killed replica
FAILURES_WITHIN = 5.0  # web turns may fail only if in flight within this long after a kill
RECOVERY_WITHIN = 5.0  # Telegram answers may pause only this long after the gateway's kill


class SendWatch:
    """When the fake Bot API's count of sent messages grew (sampled every 0.1 s)."""

    def __init__(self, count: Callable[[], int]) -> None:
        self.count = count
        self.grew_at: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        last = self.count()
        while not self._stop.wait(0.1):
            if (now := self.count()) > last:
                self.grew_at.append(time.monotonic())
                last = now

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def longest_pause(self, start: float, end: float) -> float:
        """The longest stretch between `start` and `end` with nothing sent."""
        moments = [start, *(t for t in self.grew_at if start < t < end), end]
        return max(b - a for a, b in itertools.pairwise(moments))


pytestmark = pytest.mark.skipif(
    not postgres_base_url(), reason="replicas need TEST_DATABASE_URL (PostgreSQL)"
)


def _down(var_dir: Path, server: str) -> bool:
    return server_states(var_dir)[server].startswith("DOWN")


def test_a_killed_rasa_and_gateway_lose_nothing_behind_the_proxy(tmp_path: Path) -> None:
    with scaled_stack(tmp_path, Replicas(rasa=2, gateway=2)) as run:
        survivor = run.processes["gateway-2"].service.env["GATEWAY_PORT"]
        watches = [
            HealthWatch(f"{run.url}/healthz"),
            HealthWatch(f"http://127.0.0.1:{survivor}/healthz"),
        ]
        watchers = [threading.Thread(target=w.run, daemon=True) for w in watches]
        for watcher in watchers:
            watcher.start()
        before = run.answers()
        sends = SendWatch(lambda: len(run.telegram.sent()))
        traffic = Traffic(run, PER_SECOND, channels=("telegram", "web"))
        thread = threading.Thread(target=traffic.loop, daemon=True)
        thread.start()
        time.sleep(STEADY_SECONDS)
        killed_at: dict[str, float] = {}
        taken_out: dict[str, float] = {}
        for name in ("rasa-1", "gateway-1"):
            killed_at[name] = time.monotonic()
            run.processes[name].kill()
            down = wait_until(partial(_down, tmp_path / "var", name), 10, step=0.05)
            taken_out[name] = time.monotonic() - killed_at[name] if down else float("inf")
            time.sleep(STEADY_SECONDS)
        traffic.stop()
        thread.join(timeout=120)
        drain_started = time.monotonic()
        lost, duplicated = run.drain(traffic, before, 90)
        drained = time.monotonic() - drain_started
        sends.stop()
        # Answers were owed the whole time (one message a second per chat is less than the
        # traffic), so a pause in sending is the time the survivor took to take over.
        pause = sends.longest_pause(killed_at["gateway-1"], drain_started + drained - 3.0)
        for watch in watches:
            watch.stop()
        for watcher in watchers:
            watcher.join(timeout=5)

    telegram = sum(traffic.telegram_sent.values())
    web = sum(traffic.web_statuses.values())
    # Failed turns in flight at no time within FAILURES_WITHIN after a kill: (sent, answered)
    # in seconds after the latest kill before the answer (None: before any kill).
    late = [
        (round(sent - max(earlier), 2), round(answered - max(earlier), 2))
        if (earlier := [k for k in killed_at.values() if k <= answered])
        else None
        for sent, answered in traffic.web_failed_at
        if not any(sent <= k + FAILURES_WITHIN and answered >= k for k in killed_at.values())
    ]
    red = [
        (index, round(t - watch.samples[0][0], 1))
        for index, watch in enumerate(watches)
        for t, status in watch.samples
        if status != 200 and not any(0 <= t - k <= FAILURES_WITHIN for k in killed_at.values())
    ]
    print(
        f"\nscale-out: {telegram} Telegram updates, {web} web turns "
        f"{dict(traffic.web_statuses)}; lost {lost}, answered twice {duplicated}; "
        f"taken out after { ({n: round(s, 2) for n, s in taken_out.items()}) } s; "
        f"all answered {drained:.1f} s after the traffic stopped; "
        f"Telegram answers paused at most {pause:.1f} s after the gateway's kill"
    )
    assert telegram >= PER_SECOND / 2 * STEADY_SECONDS * 3 * 0.8, "the traffic did not keep pace"
    assert (lost, duplicated) == (0, 0)
    assert pause <= RECOVERY_WITHIN
    assert all(seconds <= TAKEN_OUT_WITHIN for seconds in taken_out.values()), taken_out
    # Every failed turn was the polite 503 in the gateway's JSON, except a turn whose answer
    # the killed gateway was writing at the moment of its kill: the connection is cut (the
    # web chat offers to send it again) and nothing else may be.
    gateway_kill = killed_at["gateway-1"]
    assert [bad for bad in traffic.web_bad if not bad.startswith("no answer")] == []
    cut = [(round(s - gateway_kill, 2), round(a - gateway_kill, 2)) for s, a in traffic.web_cut_at]
    assert all(sent <= 0 <= answered for sent, answered in cut), cut
    assert set(traffic.web_statuses) <= {200, 503, 0}
    assert late == []  # failures only within FAILURES_WITHIN of a kill
    assert red == []  # the proxy's and the surviving gateway's /healthz stayed green
    assert all(watch.samples[-1][1] == 200 for watch in watches)
