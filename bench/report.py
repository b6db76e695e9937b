"""`make bench-report`: monthly reports on a large events table; writes
docs/benchmarks/report.md.

PostgreSQL only (TEST_DATABASE_URL). A scratch schema gets N synthetic events over all 3,321
communes and 12 months, generated inside PostgreSQL (INSERT … SELECT over generate_series and
random(), indexes dropped during the load and rebuilt after, then ANALYZE). Communes are not
equally busy: activity falls off with a commune's rank (density ∝ 1/√rank), and the communes of
Hà Nội and Thành phố Hồ Chí Minh rank high. Then, for the last month:

- a commune's report (reports.metrics.commune_report) for the busiest and the median commune;
- the province roll-up (province_report) of the busiest province;
- rendering that roll-up to Excel and HTML (reports.render);
- the process's peak memory (ru_maxrss).

Scales are loaded cumulatively, smallest first: BENCH_REPORT_EVENTS=1000000,10000000 (the
default) or --events 200000 for a quick run. Targets: commune ≤ 2 s, province ≤ 10 s, peak
memory ≤ 1 GB, and time growing no faster than the table.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import random
import resource
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session

from bench.results import write_results
from core.content.lessons import lesson_keys
from core.content.services import SERVICES_DIR
from core.db import make_engine
from core.models import EventType, TicketReason, utcnow
from core.places import Commune, communes, province_by_code
from core.settings import PROJECT_ROOT
from reports.demo import DEFAULT_COMMUNE, MISSED_WORDS
from reports.metrics import commune_report, province_report
from reports.model import Period
from reports.render import render
from tests.databases import postgres_base_url, scratch_database

REPORT = PROJECT_ROOT / "docs" / "benchmarks" / "report.md"
DEFAULT_SCALES = "1000000,10000000"
MONTHS = 12
CHUNK = 1_000_000  # events per INSERT … SELECT
BUSY_PROVINCES = ("01", "79")
EVENTS_PER_RESIDENT = 15  # in a year
HANDOFFS_PER_EVENT = 0.004
VOLUNTEERS_PER_COMMUNE = 3
TARGETS = {"commune": 2.0, "province": 10.0, "peak_mb": 1024.0}

# Share of each event type (messages dominate, as in the demo data).
TYPE_WEIGHTS: dict[EventType, float] = {
    EventType.MESSAGE_IN: 30,
    EventType.MESSAGE_OUT: 36,
    EventType.INTENT: 24,
    EventType.FALLBACK: 2.2,
    EventType.SERVICE_STARTED: 1.2,
    EventType.SERVICE_STEP: 3.0,
    EventType.SERVICE_COMPLETED: 0.6,
    EventType.SERVICE_STUCK: 0.3,
    EventType.LESSON_STARTED: 0.4,
    EventType.QUIZ_ANSWERED: 0.9,
    EventType.LESSON_COMPLETED: 0.3,
    EventType.HANDOFF_REQUESTED: 0.4,
    EventType.HANDOFF_CLAIMED: 0.37,
    EventType.HANDOFF_RESOLVED: 0.36,
    EventType.HANDOFF_EXPIRED: 0.03,
    EventType.CSAT: 0.24,
    EventType.CONSENT_GIVEN: 0.3,
    EventType.CONSENT_REFUSED: 0.05,
}
_HANDOFF_TYPES = (
    EventType.HANDOFF_REQUESTED,
    EventType.HANDOFF_CLAIMED,
    EventType.HANDOFF_RESOLVED,
    EventType.HANDOFF_EXPIRED,
    EventType.CSAT,
)


@dataclass(frozen=True)
class Layout:
    """Which commune has which rank (0 = busiest) and its expected share of the events."""

    ranked: list[Commune]
    shares: list[float]

    @classmethod
    def make(cls, seed: int = 1) -> Layout:
        rng = random.Random(seed)
        order = sorted(
            communes(),
            key=lambda c: rng.random() * (0.3 if c.province.code in BUSY_PROVINCES else 1.0),
        )
        order.remove(ba_dinh := next(c for c in order if c.code == DEFAULT_COMMUNE))
        order.insert(0, ba_dinh)  # a recognisable busiest ward
        total = len(order)
        shares = [math.sqrt((n + 1) / total) - math.sqrt(n / total) for n in range(total)]
        return cls(order, shares)

    @property
    def busiest(self) -> Commune:
        return self.ranked[0]

    @property
    def median(self) -> Commune:
        return self.ranked[len(self.ranked) // 2]

    @property
    def busiest_province(self) -> str:
        load: dict[str, float] = defaultdict(float)
        for commune, share in zip(self.ranked, self.shares, strict=True):
            load[commune.province.code] += share
        return max(load, key=lambda code: load[code])


@dataclass(frozen=True)
class Result:
    events: int
    load_s: float
    busy_s: float
    median_s: float
    province_s: float
    render_s: float
    peak_mb: float


# -- loading ---------------------------------------------------------------------------------


def prepare(connection: Connection, layout: Layout) -> None:
    """The rank table the generator draws communes from, and the synthetic volunteers."""
    connection.execute(
        text("CREATE TABLE bench_communes (rank int PRIMARY KEY, code varchar(5), share float)")
    )
    connection.execute(
        text("INSERT INTO bench_communes VALUES (:rank, :code, :share)"),
        [
            {"rank": n, "code": c.code, "share": s}
            for n, (c, s) in enumerate(zip(layout.ranked, layout.shares, strict=True))
        ],
    )
    connection.execute(
        text(
            "INSERT INTO volunteers (display_name, role, created_at, security_stamp) "
            "SELECT 'Tình nguyện viên ' || g || ' (mô phỏng)', 'volunteer', now(), "
            "substr(md5(random()::text), 1, 32) "
            "FROM generate_series(1, :count) AS g"
        ),
        {"count": len(layout.ranked) * VOLUNTEERS_PER_COMMUNE},
    )


def _type_case(column: str) -> str:
    """A CASE turning a uniform random `column` into an event type with TYPE_WEIGHTS."""
    total = sum(TYPE_WEIGHTS.values())
    cuts, running = [], 0.0
    for type_, weight in TYPE_WEIGHTS.items():
        running += weight / total
        cuts.append(f"WHEN {column} < {running:.6f} THEN '{type_.value}'")
    return f"CASE {' '.join(cuts)} ELSE '{EventType.MESSAGE_IN.value}' END"


def _events_sql() -> str:
    handoffs = ", ".join(f"'{type_.value}'" for type_ in _HANDOFF_TYPES)
    return f"""
    INSERT INTO events
        (occurred_at, commune_code, channel, resident_id, type, key, value, ticket_id, synthetic)
    SELECT
        :start + g.t * :span * interval '1 second',
        c.code,
        (ARRAY['zalo', 'zalo', 'zalo', 'telegram', 'telegram', 'web'])[1 + floor(g.p * 6)::int],
        'bench-' || c.rank || '-' || floor(g.u * greatest(5, c.share * :residents))::int,
        g.type,
        CASE
            WHEN g.type IN ('intent', 'fallback')
                THEN (CAST(:intents AS text[]))[1 + floor(g.k * :intent_count)::int]
            WHEN g.type LIKE 'service_%%'
                THEN (CAST(:services AS text[]))[1 + floor(g.k * g.k * :service_count)::int]
            WHEN g.type IN ('lesson_started', 'lesson_completed', 'quiz_answered')
                THEN (CAST(:lessons AS text[]))[1 + floor(g.k * :lesson_count)::int]
            WHEN g.type IN ({handoffs})
                THEN (CAST(:reasons AS text[]))[1 + floor(g.k * :reason_count)::int]
        END,
        CASE g.type
            WHEN 'intent' THEN 0.6 + 0.4 * g.v
            WHEN 'fallback' THEN 0.2 + 0.3 * g.v
            WHEN 'service_step' THEN 2 + floor(g.v * 8)
            WHEN 'service_stuck' THEN 1 + floor(g.v * 8)
            WHEN 'quiz_answered' THEN (g.v < 0.75)::int
            WHEN 'lesson_completed' THEN round((0.3 + 0.7 * g.v)::numeric, 2)
            WHEN 'handoff_claimed' THEN exp(3 + 8 * g.v)
            WHEN 'handoff_resolved' THEN exp(5 + 7 * g.v)
            WHEN 'handoff_expired' THEN 86400 + 600 * g.v
            WHEN 'csat' THEN least(5, 1 + floor(power(g.v, 0.35) * 5))
        END,
        CASE WHEN g.type IN ({handoffs}) THEN :first_ticket + floor(g.p * :tickets)::bigint END,
        true
    FROM (
        SELECT raw.*, {_type_case("raw.r")} AS type
        FROM (
            SELECT floor(:communes * power(random(), 2))::int AS rank, random() AS r,
                   random() AS t, random() AS p, random() AS u, random() AS k, random() AS v
            FROM generate_series(1, :count)
        ) AS raw
    ) AS g
    JOIN bench_communes AS c ON c.rank = g.rank
    """


TICKETS_SQL = """
INSERT INTO tickets
    (resident_id, channel, channel_user_id, commune_code, reason, urgent, summary, state,
     created_at, claimed_at, closed_at, claimed_by, sla_from)
SELECT 'bench-' || g, 'zalo', 'demo', c.code, 'request_human', false, '', 'resolved',
       :start, :start, :start, :first_volunteer + floor(random() * :volunteers)::bigint, :start
FROM (
    SELECT g, floor(:communes * power(random(), 2))::int AS rank
    FROM generate_series(1, :count) AS g
) AS raw
JOIN bench_communes AS c ON c.rank = raw.rank
"""

TEXTS_SQL = """
INSERT INTO fallback_texts (event_id, occurred_at, commune_code, resident_id, text, synthetic)
SELECT id, occurred_at, commune_code, resident_id,
       (CAST(:words AS text[]))[1 + floor(power(random(), 3) * :word_count)::int], true
FROM events WHERE type = 'fallback' AND id > :after AND random() < 0.7
"""


def load(engine: Engine, layout: Layout, period: Period, have: int, target: int) -> None:
    """Add events until there are `target`, and their tickets and kept words."""
    first = period
    for _ in range(MONTHS - 1):
        first = first.previous()
    start, end = first.start, period.end
    intents = [f"service_{p.stem}" for p in sorted(SERVICES_DIR.glob("*.yml"))] + [
        "greet",
        "thank",
        "request_human",
        "stuck",
        "affirm",
        "out_of_scope",
    ]
    services = sorted(path.stem for path in SERVICES_DIR.glob("*.yml"))
    reasons = [reason.value for reason in TicketReason]
    with engine.begin() as connection:
        connection.execute(text("SET LOCAL synchronous_commit = off"))
        connection.execute(text("SET LOCAL maintenance_work_mem = '512MB'"))
        indexes = _drop_indexes(connection)
        last_event = connection.scalar(text("SELECT coalesce(max(id), 0) FROM events"))
        first_volunteer = connection.scalar(text("SELECT min(id) FROM volunteers"))
        volunteers = len(layout.ranked) * VOLUNTEERS_PER_COMMUNE
        tickets = max(1, int((target - have) * HANDOFFS_PER_EVENT / 5))
        first_ticket = connection.scalar(text("SELECT coalesce(max(id), 0) + 1 FROM tickets"))
        common = {"start": start, "communes": len(layout.ranked)}
        connection.execute(
            text(TICKETS_SQL),
            common
            | {"count": tickets, "first_volunteer": first_volunteer, "volunteers": volunteers},
        )
        sql = text(_events_sql())
        made = have
        while made < target:
            count = min(CHUNK, target - made)
            connection.execute(
                sql,
                common
                | {
                    "count": count,
                    "span": (end - start).total_seconds(),
                    "residents": target / EVENTS_PER_RESIDENT,
                    "intents": intents,
                    "intent_count": len(intents),
                    "services": services,
                    "service_count": len(services),
                    "lessons": lesson_keys(),
                    "lesson_count": len(lesson_keys()),
                    "reasons": reasons,
                    "reason_count": len(reasons),
                    "first_ticket": first_ticket,
                    "tickets": tickets,
                },
            )
            made += count
            print(f"  {made:,} events", flush=True)
        connection.execute(
            text(TEXTS_SQL),
            {"words": list(MISSED_WORDS), "word_count": len(MISSED_WORDS), "after": last_event},
        )
        for definition in indexes:
            connection.execute(text(definition))
    with engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))


def _drop_indexes(connection: Connection) -> list[str]:
    """Drop the secondary indexes of the loaded tables; their CREATE statements."""
    rows = connection.execute(
        text(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
            "AND tablename IN ('events', 'fallback_texts', 'tickets') "
            "AND indexname NOT LIKE 'pk_%%'"
        )
    ).all()
    for name, _ in rows:
        connection.execute(text(f'DROP INDEX "{name}"'))
    return [definition for _, definition in rows]


# -- measuring -------------------------------------------------------------------------------


def timed(work: Callable[[], Any], runs: int = 2) -> tuple[float, Any]:
    """The slower of `runs` runs (the first one reads from disk) and the last result."""
    slowest, result = 0.0, None
    for _ in range(runs):
        started = time.perf_counter()
        result = work()
        slowest = max(slowest, time.perf_counter() - started)
    return slowest, result


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def measure(engine: Engine, layout: Layout, period: Period, events: int, load_s: float) -> Result:
    province = layout.busiest_province
    with Session(engine) as session:

        def commune(code: str) -> Callable[[], Any]:
            return lambda: commune_report(session=session, commune_code=code, period=period)

        busy_s, _ = timed(commune(layout.busiest.code))
        median_s, _ = timed(commune(layout.median.code))
        province_s, rollup = timed(
            lambda: province_report(session=session, province_code=province, period=period)
        )
        render_s, _ = timed(lambda: (render(rollup, "xlsx"), render(rollup, "html")))
    return Result(events, load_s, busy_s, median_s, province_s, render_s, peak_mb())


# -- the report ------------------------------------------------------------------------------


def write_report(results: list[Result], layout: Layout, period: Period, server: str) -> str:
    province = province_by_code(layout.busiest_province)
    busy, median = layout.busiest, layout.median
    lines = [
        "# Report benchmark (`make bench-report`)",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, "
        f"{os.cpu_count()} cores, {_memory()}, Python {platform.python_version()}, "
        f"PostgreSQL {server}.",
        f"Events spread over all {len(layout.ranked):,} communes and {MONTHS} months (to "
        f"{period.title}), generated in PostgreSQL; activity falls off with a commune's rank "
        "(∝ 1/√rank), Hà Nội and TP Hồ Chí Minh ranking high. Reports are for "
        f"{period.title}: the busiest commune ({busy.name}, {busy.code}), the median one "
        f"({median.name}, {median.code}) and the busiest province "
        f"({province.name if province else layout.busiest_province}, "
        f"{sum(1 for c in layout.ranked if c.province.code == layout.busiest_province)} "
        "communes). Each time is the slower of two runs; render = that province roll-up to "
        "Excel and HTML; peak = the benchmark process's maximum resident memory.",
        "",
        "| events | load s | busiest commune s | median commune s | province s | render s "
        "| peak MB |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        lines.append(
            f"| {r.events:,} | {r.load_s:.0f} | {r.busy_s:.2f} | {r.median_s:.2f} | "
            f"{r.province_s:.2f} | {r.render_s:.2f} | {r.peak_mb:.0f} |"
        )
    lines += ["", f"Targets: commune ≤ {TARGETS['commune']:.0f} s, province ≤ "
              f"{TARGETS['province']:.0f} s, peak ≤ {TARGETS['peak_mb']:.0f} MB, growth no "
              "worse than linear."]  # fmt: skip
    if len(results) > 1:
        small, large = results[0], results[-1]
        lines.append(
            f"From {small.events:,} to {large.events:,} events (×{large.events / small.events:.0f}"
            f"): busiest commune ×{large.busy_s / small.busy_s:.1f}, province "
            f"×{large.province_s / small.province_s:.1f}."
        )
    lines.append("")
    return "\n".join(lines)


def _memory() -> str:
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError):
        return "memory unknown"
    return f"{pages / 2**30:.0f} GB RAM"


def scales(argument: str | None) -> list[int]:
    raw = argument or os.environ.get("BENCH_REPORT_EVENTS") or DEFAULT_SCALES
    return sorted({int(part.replace("_", "")) for part in raw.split(",") if part.strip()})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", help="comma-separated totals, e.g. 200000,1000000")
    args = parser.parse_args()
    if postgres_base_url() is None:
        raise SystemExit("make bench-report needs PostgreSQL: set TEST_DATABASE_URL")
    layout = Layout.make()
    period = Period.containing(utcnow()).previous()
    results: list[Result] = []
    with tempfile.TemporaryDirectory() as tmp, scratch_database("postgresql", Path(tmp)) as url:
        engine = make_engine(url)
        with engine.begin() as connection:
            server = str(connection.scalar(text("SHOW server_version")))
            prepare(connection, layout)
        have = 0
        for target in scales(args.events):
            print(f"loading {target:,} events…", flush=True)
            started = time.perf_counter()
            load(engine, layout, period, have, target)
            have = target
            load_s = time.perf_counter() - started
            result = measure(engine, layout, period, target, load_s)
            print(result, flush=True)
            results.append(result)
        engine.dispose()
    report = write_report(results, layout, period, server)
    write_results(REPORT, report)
    print(report)


if __name__ == "__main__":
    main()
