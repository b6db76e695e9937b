"""The gateway app served by uvicorn on 127.0.0.1 in a thread of the test process (its lifespan
runs, as in production), for tests that need real HTTP without a separate process; and
`running`, a server of our own (or Caddy) started as a process until it answers."""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

from cns.stack import free_port


@contextmanager
def served(app: FastAPI) -> Iterator[str]:
    """Serve `app`; yields its base URL ("http://127.0.0.1:PORT") and stops it after."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", ws="none")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="gateway", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the gateway did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@contextmanager
def running(
    command: Sequence[str],
    *,
    ready_url: str,
    what: str,
    timeout: float = 30.0,
    stop_timeout: float = 20.0,
    log: Callable[[], str] = lambda: "",
    **popen: Any,
) -> Iterator[subprocess.Popen[bytes]]:
    """Start `command` and wait until `ready_url` answers 2xx; yields the process, then stops
    it (SIGTERM, SIGKILL after `stop_timeout` s). `log` tells what it wrote, when it fails."""
    process = subprocess.Popen(list(command), **popen)
    try:
        deadline = time.monotonic() + timeout
        while True:
            assert process.poll() is None, f"{what} exited:\n{log()}"
            try:
                if httpx.get(ready_url, timeout=2).is_success:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, f"{what} did not start:\n{log()}"
            time.sleep(0.1)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=stop_timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
