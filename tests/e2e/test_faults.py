"""Faults against the running stack under a steady stream of residents (see tests/chaos.py):
after each fault clears, every Telegram and Zalo message is answered exactly once, web turns
failed only politely, /healthz was red while it lasted and is green again within 10 s, and
no worker of the gateway is left dead."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.chaos import FAULTS, Outcome, chaos_stack, run_faults
from tests.databases import postgres_base_url

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not postgres_base_url(), reason="needs TEST_DATABASE_URL (PostgreSQL)"),
]

RECOVERY_SECONDS = 10.0


def test_every_fault_loses_nothing_and_recovers(tmp_path: Path) -> None:
    with chaos_stack(tmp_path) as run:
        outcomes = run_faults(run, FAULTS, per_second=3.0, fault_seconds=5.0)
    failures = [_describe(o) for o in outcomes if not _acceptable(o)]
    assert not failures, "\n".join(failures)


def _acceptable(outcome: Outcome) -> bool:
    return (
        outcome.ok
        and outcome.recovery_seconds is not None
        and outcome.recovery_seconds <= RECOVERY_SECONDS
    )


def _describe(outcome: Outcome) -> str:
    return (
        f"{outcome.fault}: sent {outcome.sent}, lost {outcome.lost}, duplicated "
        f"{outcome.duplicated}, red while broken {outcome.red_while_broken}, recovery "
        f"{outcome.recovery_seconds}, web failures {outcome.web_failures[:5]}, dead tasks "
        f"{outcome.dead_tasks}"
    )
