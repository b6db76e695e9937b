"""Serving a fake's ASGI app with uvicorn on 127.0.0.1 (a free port) in a daemon thread with
its own event loop, started and stopped in milliseconds."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import socket
import threading
import time
from collections.abc import Coroutine
from types import TracebackType
from typing import Any, Self, TypeVar

import uvicorn
from starlette.types import ASGIApp

from tests.fakes.waiting import WaitsForSent

_T = TypeVar("_T")


class QuickUvicorn(uvicorn.Server):
    """uvicorn.Server that stops as soon as asked (uvicorn's own loop checks every 0.1 s and
    pauses 0.1 s more on shutdown): a test's fake stops in milliseconds."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.exit_event = asyncio.Event()

    async def main_loop(self) -> None:
        await self.exit_event.wait()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for server in self.servers:
            server.close()
        for connection in list(self.server_state.connections):
            connection.shutdown()
        deadline = time.monotonic() + 2
        while self.server_state.connections and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.005)  # uvicorn has no event for "all connections closed"
        for task in self.server_state.tasks:
            task.cancel()


class ServerThread:
    """uvicorn serving `app`; subclasses hook `serving` (in the server's loop, before it
    serves) and `stopped` (after it stopped)."""

    def __init__(self, app: ASGIApp, name: str) -> None:
        config = uvicorn.Config(
            app,
            log_level="warning",
            access_log=False,
            lifespan="off",
            ws="none",  # rasa-sdk pins websockets 10, which uvicorn's WebSocket support rejects
            timeout_graceful_shutdown=2,
        )
        self.name = name
        self.uvicorn = QuickUvicorn(config)
        self.loop: asyncio.AbstractEventLoop | None = None
        self.port = 0
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Starts serving; returns once the server accepts connections."""
        # proto=IPPROTO_TCP, or asyncio leaves Nagle on for accepted connections (it sets
        # TCP_NODELAY only when proto says TCP) and every keep-alive answer waits ~40 ms.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        self._thread = threading.Thread(
            target=lambda: asyncio.run(self._serve(sock)), name=self.name, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self.uvicorn.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the {self.name} server did not start")
            time.sleep(0.005)

    async def serving(self) -> None:
        """Runs in the server's loop just before it serves."""

    async def stopped(self) -> None:
        """Runs in the server's loop once it stopped serving."""

    async def _serve(self, sock: socket.socket) -> None:
        self.loop = asyncio.get_running_loop()
        await self.serving()
        try:
            await self.uvicorn.serve(sockets=[sock])
        finally:
            await self.stopped()

    def submit(self, coroutine: Coroutine[Any, Any, _T]) -> concurrent.futures.Future[_T]:
        """Runs a coroutine in the server's loop."""
        if self.loop is None or self.loop.is_closed():
            coroutine.close()
            raise RuntimeError(f"the {self.name} server is not running")
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop)

    def stop(self) -> None:
        """Stops the server and joins its thread."""
        if self.loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop has already closed
                self.loop.call_soon_threadsafe(self.uvicorn.exit_event.set)
        if self._thread is not None:
            self._thread.join(timeout=5)  # a daemon thread: a stuck one does not hang pytest


class FakeService(WaitsForSent):
    """What every fake server offers: start/stop (also as a context manager), its base URL,
    and waiting for what it was sent. Subclasses set `_server`."""

    _server: ServerThread

    def start(self) -> Self:
        """Starts the server thread."""
        self._server.start()
        return self

    def stop(self) -> None:
        """Stops the server thread."""
        self._server.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """Where the fake answers, e.g. "http://127.0.0.1:41234" (the value for the
        channel's *_BASE_URL settings)."""
        return f"http://127.0.0.1:{self._server.port}"
