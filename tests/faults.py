"""Dependencies that a test can break: a private Redis server it restarts or kills, and a TCP
relay in front of PostgreSQL that it can make hang or cut.

Both listen on 127.0.0.1 only, on free ports, and stop with their `with` block.
"""

from __future__ import annotations

import contextlib
import selectors
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path
from types import TracebackType

import redis

from cns.stack import free_port


class RedisServer:
    """`redis-server` on a free port of 127.0.0.1, keeping its data in `directory` (with
    `appendonly`, like production's, a restart keeps what was written)."""

    def __init__(self, directory: Path, *, appendonly: bool = False) -> None:
        self.directory = directory
        self.appendonly = appendonly
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        executable = shutil.which("redis-server")
        assert executable, "redis-server is not installed"
        self.directory.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [
                executable,
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "yes" if self.appendonly else "no",
                "--dir",
                str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5)
        deadline = time.monotonic() + 30
        try:
            while True:
                try:
                    client.ping()
                    return
                except redis.ConnectionError:
                    assert self.proc.poll() is None, "redis-server exited"
                    assert time.monotonic() < deadline, "redis-server did not start"
                    time.sleep(0.05)
        finally:
            client.close()

    def stop(self) -> None:
        """SIGTERM, as a restart does (with `appendonly` the data is on disk first)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self) -> RedisServer:
        self.start()
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        self.kill()


class PostgresRelay:
    """A TCP relay on a free port of 127.0.0.1 to PostgreSQL (127.0.0.1:`target_port`).

    `hang()`: connections are accepted and kept, but nothing is forwarded either way (the
    database "hangs"); `resume()` forwards again; `drop_all()` closes every connection.
    """

    def __init__(self, target_port: int = 5432) -> None:
        self.target = ("127.0.0.1", target_port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.listener.getsockname()[1]
        self.hanging = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._thread = threading.Thread(target=self._serve, name="pg-relay", daemon=True)

    def hang(self) -> None:
        self.hanging.set()

    def resume(self) -> None:
        self.hanging.clear()

    def drop_all(self) -> None:
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for pair in pairs:
            for sock in pair:
                with contextlib.suppress(OSError):
                    sock.close()

    def _serve(self) -> None:
        selector = selectors.DefaultSelector()
        self.listener.setblocking(False)
        selector.register(self.listener, selectors.EVENT_READ)
        while not self._stop.is_set():
            with self._lock:
                pairs = list(self._pairs)
            watched = {self.listener.fileno()}
            for client, server in pairs:
                for sock in (client, server):
                    with contextlib.suppress(KeyError, ValueError, OSError):
                        if sock.fileno() >= 0 and not self.hanging.is_set():
                            selector.register(sock, selectors.EVENT_READ, (client, server))
                            watched.add(sock.fileno())
            for key, _ in selector.select(timeout=0.05):
                if key.fileobj is self.listener:
                    self._accept()
                else:
                    self._forward(key.fileobj, key.data)  # type: ignore[arg-type]
            for key in list(selector.get_map().values()):
                if key.fileobj is not self.listener:
                    with contextlib.suppress(KeyError, ValueError):
                        selector.unregister(key.fileobj)
        selector.close()

    def _accept(self) -> None:
        with contextlib.suppress(BlockingIOError):
            client, _ = self.listener.accept()
            try:
                server = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                return
            with self._lock:
                self._pairs.append((client, server))

    def _forward(self, source: socket.socket, pair: tuple[socket.socket, socket.socket]) -> None:
        client, server = pair
        target = server if source is client else client
        try:
            data = source.recv(65536)
            if data:
                target.sendall(data)
                return
        except OSError:
            pass
        with self._lock:
            if pair in self._pairs:
                self._pairs.remove(pair)
        for sock in pair:
            with contextlib.suppress(OSError):
                sock.close()

    def __enter__(self) -> PostgresRelay:
        self._thread.start()
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.drop_all()
        self.listener.close()
