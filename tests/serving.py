"""The gateway app served by uvicorn on 127.0.0.1 in a thread of the test process (its lifespan
runs, as in production), for tests that need real HTTP without a separate process."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

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
