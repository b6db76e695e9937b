"""The local-stack supervisor with real child processes."""

from __future__ import annotations

import io
import os
import sys
import time

from cns.supervisor import Service, Stack
from core.settings import PROJECT_ROOT


def _py(name: str, code: str) -> Service:
    return Service(name, [sys.executable, "-c", code], dict(os.environ))


def test_output_is_prefixed_and_exit_codes_reported() -> None:
    out = io.StringIO()
    stack = Stack(
        [_py("one", "print('hello')"), _py("second", "print('bye'); raise SystemExit(3)")],
        PROJECT_ROOT,
        out=out,
    )
    stack.start()
    codes = stack.wait(poll=lambda: time.sleep(0.05))
    while len(stack.exited()) < 2:
        time.sleep(0.05)
    stack.stop()
    assert "one    | hello" in out.getvalue()
    assert "second | bye" in out.getvalue()
    assert set(codes) <= {"one", "second"}
    assert stack.exited() == {"one": 0, "second": 3}


def test_stop_terminates_long_running_services() -> None:
    stack = Stack([_py("sleeper", "import time; time.sleep(60)")], PROJECT_ROOT, out=io.StringIO())
    stack.start()
    assert stack.exited() == {}
    started = time.monotonic()
    stack.stop(grace=5)
    assert time.monotonic() - started < 5
    assert stack.exited()["sleeper"] != 0


def test_sigterm_ignored_is_killed_after_grace() -> None:
    code = (
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "print('up', flush=True); time.sleep(60)"
    )
    out = io.StringIO()
    stack = Stack([_py("stubborn", code)], PROJECT_ROOT, out=out)
    stack.start()
    while "up" not in out.getvalue():
        time.sleep(0.05)
    stack.stop(grace=0.5)
    assert stack.exited()["stubborn"] == -9


def test_wait_healthy_fails_fast_when_a_service_dies() -> None:
    stack = Stack([_py("crash", "raise SystemExit(1)")], PROJECT_ROOT, out=io.StringIO())
    stack.start()
    started = time.monotonic()
    assert stack.wait_healthy("http://127.0.0.1:9/healthz", timeout=30) is False
    assert time.monotonic() - started < 10
    stack.stop()
