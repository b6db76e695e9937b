"""`make chaos`: every fault of issue 13 injected into the running stack under a steady
stream of residents (tests/chaos.py), several rounds; writes docs/benchmarks/faults.md.

Needs PostgreSQL (TEST_DATABASE_URL, as on CI) and `redis-server` on the PATH (the run starts
its own, with an append-only file like production's). Everything runs on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from bench.results import write_results
from core.settings import PROJECT_ROOT
from tests.chaos import FAULTS, Outcome, chaos_stack, run_faults

RESULTS = PROJECT_ROOT / "docs" / "benchmarks" / "faults.md"


def _row(round_: int, o: Outcome) -> str:
    recovery = "never" if o.recovery_seconds is None else f"{o.recovery_seconds:.1f} s"
    web = len(o.web_failures)
    return (
        f"| {round_} | {o.fault} | {o.sent} | {o.lost} | {o.duplicated} | "
        f"{'yes' if o.red_while_broken else 'no'} | {recovery} | {web} | "
        f"{', '.join(o.dead_tasks) or '—'} |"
    )


def _print(round_: int, outcome: Outcome) -> None:
    print(_row(round_, outcome), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--per-second", type=float, default=6.0)
    parser.add_argument("--fault-seconds", type=float, default=10.0)
    args = parser.parse_args()
    if not os.environ.get("TEST_DATABASE_URL"):
        os.environ["TEST_DATABASE_URL"] = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    rows: list[str] = []
    outcomes: list[Outcome] = []
    with tempfile.TemporaryDirectory() as tmp, chaos_stack(Path(tmp)) as run:
        for round_ in range(1, args.rounds + 1):
            for outcome in run_faults(
                run,
                FAULTS,
                per_second=args.per_second,
                fault_seconds=args.fault_seconds,
                report=partial(_print, round_),
            ):
                rows.append(_row(round_, outcome))
                outcomes.append(outcome)
    worst = max((o.recovery_seconds or float("inf") for o in outcomes), default=0.0)
    measured = "\n".join(
        [
            "# Faults under load (`make chaos`)",
            "",
            f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.node() or 'this machine'}"
            f" ({os.cpu_count()} cores): {args.rounds} rounds, residents writing "
            f"{args.per_second:g} messages/s over Telegram (polling), Zalo (webhook) and the web "
            f"chat; each fault lasts {args.fault_seconds:g} s (a killed process is started "
            "again at once; the fault clears when it serves again).",
            "",
            "| round | fault | messages | lost | duplicated | /healthz red while broken | "
            "green again after | web turns failed impolitely | dead workers |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
            *rows,
            "",
            f"Total: {sum(o.sent for o in outcomes)} messages, "
            f"{sum(o.lost for o in outcomes)} lost, "
            f"{sum(o.duplicated for o in outcomes)} duplicated; slowest recovery "
            f"{worst:.1f} s.",
            "",
        ]
    )
    write_results(RESULTS, measured)
    print(measured)


if __name__ == "__main__":
    main()
