"""A small process supervisor for the local stack: rasa, actions and gateway.

Each process gets its own process group, its output is prefixed with its name, and
stopping the stack sends SIGTERM to every group (SIGKILL after a grace period).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

COLORS = ("\033[36m", "\033[35m", "\033[33m", "\033[32m")
RESET = "\033[0m"


@dataclass(frozen=True)
class Service:
    name: str
    argv: Sequence[str]
    env: dict[str, str]


@dataclass
class Stack:
    """Runs services as child processes until one of them exits or `stop()` is called."""

    services: Sequence[Service]
    cwd: Path
    out: IO[str] = field(default_factory=lambda: sys.stdout)
    _procs: dict[str, subprocess.Popen[str]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _pumps: list[threading.Thread] = field(default_factory=list)

    def start(self) -> None:
        width = max(len(s.name) for s in self.services)
        color = self.out.isatty()
        for index, service in enumerate(self.services):
            proc = subprocess.Popen(
                list(service.argv),
                cwd=self.cwd,
                env=service.env,
                text=True,
                bufsize=1,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            self._procs[service.name] = proc
            label = f"{service.name:<{width}} |"
            if color:
                label = f"{COLORS[index % len(COLORS)]}{label}{RESET}"
            pump = threading.Thread(target=self._pump, args=(proc, label), daemon=True)
            pump.start()
            self._pumps.append(pump)

    def _pump(self, proc: subprocess.Popen[str], label: str) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            self.echo(f"{label} {line.rstrip()}")

    def echo(self, line: str) -> None:
        with self._lock:
            self.out.write(line + "\n")
            self.out.flush()

    def pids(self) -> dict[str, int]:
        """The process id of each started service (benchmarks read /proc with them)."""
        return {name: proc.pid for name, proc in self._procs.items()}

    def exited(self) -> dict[str, int]:
        """Services that have stopped, with their exit codes."""
        codes = {name: proc.poll() for name, proc in self._procs.items()}
        return {name: code for name, code in codes.items() if code is not None}

    def wait_healthy(self, url: str, *, timeout: float) -> bool:
        """Poll `url` until it answers 200; False on timeout or if a service died."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.exited():
                return False
            try:
                if httpx.get(url, timeout=5.0).status_code == 200:
                    return True
            except httpx.HTTPError:
                pass
            time.sleep(1.0)
        return False

    def wait(self, poll: Callable[[], None] = lambda: time.sleep(0.5)) -> dict[str, int]:
        """Block until some service exits; the exit codes of those that did."""
        while not (codes := self.exited()):
            poll()
        return codes

    def stop(self, grace: float = 15.0) -> None:
        for proc in self._procs.values():
            if proc.poll() is None:
                _signal_group(proc, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for proc in self._procs.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(proc, signal.SIGKILL)
                proc.wait()
        for pump in self._pumps:  # all output is written once stop() returns
            pump.join(timeout=5.0)


def _signal_group(proc: subprocess.Popen[str], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)
