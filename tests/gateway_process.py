"""The gateway as its own process (`python -m uvicorn bot.app:create_app --factory`), for
tests and benchmarks that kill and restart it. Rasa is deliberately unreachable: every update
is answered with the polite "busy" reply, which exercises the channel machinery alone."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass

import httpx

from cns.stack import free_port
from core.settings import PROJECT_ROOT
from tests.fakes.telegram_api import FakeTelegram


@dataclass
class Gateway:
    env: dict[str, str]
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        command = [
            sys.executable, "-m", "uvicorn", "bot.app:create_app", "--factory",
            "--host", "127.0.0.1", "--port", str(self.port), "--ws", "none",
            "--log-level", "warning",
        ]  # fmt: skip
        # A process group of its own: a kill reaches its worker processes (the OCR pool) too.
        self.process = subprocess.Popen(
            command, env=self.env, cwd=PROJECT_ROOT, start_new_session=True
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{self.url}/desk", timeout=1)
                return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError("gateway did not start")

    def kill(self) -> None:
        """SIGKILL to it and its worker processes: no shutdown code runs, as when the machine
        loses power (workers left alone would outlive it, holding its output open)."""
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def terminate(self) -> None:
        """SIGTERM, as `docker compose stop` or a deploy sends: the gateway shuts down."""
        self._shut_down(signal.SIGTERM)

    def stop(self) -> None:
        self._shut_down(signal.SIGINT)

    def _shut_down(self, how: signal.Signals) -> None:
        """Signal a running gateway to shut down; killed if it has not within 20 s."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(how)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


def gateway_process_env(
    database_url: str, telegram: FakeTelegram, redis_url: str | None, **extra: str
) -> dict[str, str]:
    """The environment of a gateway on `database_url` talking to the fake Bot API."""
    nobody = f"http://127.0.0.1:{free_port()}"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TELEGRAM_", "ZALO_", "DATABASE_", "REDIS_"))
    }
    env.update(
        DATABASE_URL=database_url,
        RASA_URL=nobody,
        ACTIONS_URL=nobody,
        TELEGRAM_BOT_TOKEN=telegram.token,
        TELEGRAM_API_BASE_URL=telegram.base_url,
        LOG_LEVEL="WARNING",
        **extra,
    )
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env
