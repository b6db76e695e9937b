"""The cost of a resident's turn (issue 14): N sequential /api/chat turns of a realistic mix
on the local stack (tests/stack.py: PostgreSQL and Redis when TEST_DATABASE_URL /
TEST_REDIS_URL are set), measuring

- latency of /api/chat (mean, p50, p95),
- CPU seconds per turn of the rasa, actions and gateway processes (/proc/<pid>/stat),
- HTTP requests per turn from the gateway to Rasa and from Rasa to the action server,
  counted by a pass-through proxy on each link (one extra loopback hop per request).

`python -m bench.turn [--turns 300]` prints a markdown table.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cns.stack import Ports, free_port
from tests.stack import RunningStack, running_stack

WARMUP_TURNS = 12
CONVERSATION = re.compile(r"/conversations/[^/]+/")
FALLBACK_TEXT = "zxq wvp kjh"


class CountingProxy:
    """Forwards TCP connections from a free port to `target_port` on 127.0.0.1 and counts
    the HTTP/1.1 requests (Content-Length bodies) that go through, by method and path."""

    def __init__(self, target_port: int) -> None:
        self.port = free_port()
        self.target_port = target_port
        self.requests: Counter[str] = Counter()

    async def serve(self, ready: threading.Event) -> None:
        server = await asyncio.start_server(self._connection, "127.0.0.1", self.port)
        ready.set()
        async with server:
            await server.serve_forever()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:  # not listening yet (the stack is starting)
            writer.close()
            return
        await asyncio.gather(
            self._pump(reader, up_writer, count=True), self._pump(up_reader, writer, count=False)
        )

    async def _pump(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, count: bool
    ) -> None:
        buffer, skip = b"", 0
        try:
            while chunk := await reader.read(65536):
                writer.write(chunk)
                await writer.drain()
                if not count:
                    continue
                buffer += chunk
                while True:
                    if skip:
                        taken = min(skip, len(buffer))
                        buffer, skip = buffer[taken:], skip - taken
                        if skip:
                            break
                    head, found, rest = buffer.partition(b"\r\n\r\n")
                    if not found:
                        break
                    lines = head.decode("latin-1").split("\r\n")
                    method, target, _ = lines[0].split(" ", 2)
                    path = CONVERSATION.sub("/conversations/{id}/", target.split("?")[0])
                    self.requests[f"{method} {path}"] += 1
                    length = next(
                        (
                            int(v)
                            for k, _, v in (x.partition(":") for x in lines[1:])
                            if k.strip().lower() == "content-length"
                        ),
                        0,
                    )
                    buffer, skip = rest, length
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    def total(self) -> int:
        return sum(self.requests.values())


@contextmanager
def proxies(*targets: int) -> Iterator[list[CountingProxy]]:
    """Counting proxies to `targets`, served by a background thread's event loop."""
    made = [CountingProxy(target) for target in targets]
    loop = asyncio.new_event_loop()
    ready = [threading.Event() for _ in made]
    serving = [
        loop.create_task(proxy.serve(event)) for proxy, event in zip(made, ready, strict=True)
    ]
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    for event in ready:
        event.wait(10)
    try:
        yield made
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        for task in serving:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*serving, return_exceptions=True))
        loop.close()


def _cpu_seconds(pid: int) -> float:
    fields = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _process_names(token: str) -> dict[int, str]:
    """pid → rasa / actions / gateway for the processes of the stack with RASA_TOKEN `token`."""
    found: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
            command = (entry / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if f"RASA_TOKEN={token}".encode() not in environ:
            continue
        if "actions.server" in command:
            found[int(entry.name)] = "actions"
        elif "-m\0bot" in command:
            found[int(entry.name)] = "gateway"
        elif "rasa" in command:
            found[int(entry.name)] = "rasa"
    return found


def _cpu_by_name(pids: dict[int, str]) -> dict[str, float]:
    used = dict.fromkeys(pids.values(), 0.0)
    for pid, name in pids.items():
        used[name] += _cpu_seconds(pid)
    return used


def _button(messages: list[dict[str, object]], title: str) -> str | None:
    for message in messages:
        for button in message.get("buttons") or []:  # type: ignore[attr-defined]
            if button["title"] == title:
                return str(button["payload"])
    return None


def _resident(stack: RunningStack, name: str, agree: bool, timings: list[float]) -> None:
    """Six turns of one resident: greeting (the privacy notice follows), a service, its next
    step, the notice's answer or another question, a message the bot cannot understand, thanks."""

    def turn(text: str) -> list[dict[str, object]]:
        started = time.perf_counter()
        messages = stack.chat(name, text)
        timings.append(time.perf_counter() - started)
        return messages

    greeting = turn("xin chào")
    service = turn("dang ky khai sinh cho con")
    turn(_button(service, "Tiếp theo") or "tiếp theo")
    agreed = _button(greeting, "Đồng ý")
    turn(agreed if agree and agreed else "vneid bị khóa thì làm sao")
    turn(FALLBACK_TEXT)
    turn("cảm ơn em nhé")


def measure(turns: int) -> str:
    residents = max(1, turns // 6)
    rasa_port, actions_port = free_port(), free_port()
    with (
        proxies(rasa_port, actions_port) as (to_rasa, to_actions),
        tempfile.TemporaryDirectory() as tmp,
    ):
        ports = Ports(rasa=rasa_port, actions=actions_port, gateway=free_port())
        service_env = {
            "gateway": {"RASA_URL": f"http://127.0.0.1:{to_rasa.port}"},
            "rasa": {"ACTIONS_URL": f"http://127.0.0.1:{to_actions.port}"},
        }
        with running_stack(Path(tmp), ports=ports, service_env=service_env) as stack:
            pids = _process_names(stack.rasa_token)
            warm: list[float] = []
            for index in range(WARMUP_TURNS // 6):
                _resident(stack, f"warm-{index}", index % 2 == 0, warm)
            cpu_before = _cpu_by_name(pids)
            to_rasa.requests.clear()
            to_actions.requests.clear()
            timings: list[float] = []
            started = time.perf_counter()
            for index in range(residents):
                _resident(stack, f"bench-{index}", index % 2 == 0, timings)
            wall = time.perf_counter() - started
            cpu = {k: v - cpu_before[k] for k, v in _cpu_by_name(pids).items()}
    n = len(timings)
    ms = sorted(t * 1000 for t in timings)
    lines = [
        f"{n} sequential /api/chat turns ({residents} residents × 6), {wall:.1f} s wall",
        "",
        "| measure | value |",
        "| --- | --- |",
        f"| latency mean | {statistics.fmean(ms):.1f} ms |",
        f"| latency p50 | {ms[n // 2]:.1f} ms |",
        f"| latency p95 | {ms[int(n * 0.95)]:.1f} ms |",
        *(f"| CPU per turn: {name} | {cpu[name] / n * 1000:.1f} ms |" for name in sorted(cpu)),
        f"| HTTP gateway→Rasa per turn | {to_rasa.total() / n:.2f} |",
        f"| HTTP Rasa→actions per turn | {to_actions.total() / n:.2f} |",
        "",
        "gateway→Rasa: " + ", ".join(f"{k} ×{v}" for k, v in sorted(to_rasa.requests.items())),
        "Rasa→actions: " + ", ".join(f"{k} ×{v}" for k, v in sorted(to_actions.requests.items())),
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--turns", type=int, default=300)
    args = parser.parse_args()
    print(measure(args.turns))


if __name__ == "__main__":
    main()
