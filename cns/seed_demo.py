"""`cns seed-demo`: fill the database with a few months of clearly marked synthetic activity, so
that reports, the admin pages and benchmarks have something to show before real residents come;
`--clear` removes it again."""

from __future__ import annotations

import click

from cns.places import resolve_province
from core.db import session_scope
from core.models import utcnow
from core.places import commune_by_code
from reports import demo
from reports.model import LOCAL_TZ

DEFAULT_RESIDENTS = 1000


def _province(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
    return resolve_province(value)


@click.command("seed-demo")
@click.option("--communes", "count", type=click.IntRange(1), default=5, show_default=True)
@click.option(
    "--residents",
    type=click.IntRange(1),
    help=f"How many residents. [default: {DEFAULT_RESIDENTS}, or as many as --events needs]",
)
@click.option("--events", type=click.IntRange(1), help="At least this many events.")
@click.option(
    "--months", type=click.IntRange(1, 24), default=3, show_default=True, help="Full months back."
)
@click.option(
    "--province",
    default=demo.DEFAULT_PROVINCE,
    show_default=True,
    callback=_province,
    help="Province code (01) or name (ha noi); its first communes by code are used.",
)
@click.option("--seed", type=int, default=1, show_default=True, help="Same seed, same data.")
@click.option("--clear", is_flag=True, help="Only delete the synthetic data made earlier.")
def seed_demo(
    count: int,
    residents: int | None,
    events: int | None,
    months: int,
    province: str,
    seed: int,
    clear: bool,
) -> None:
    """Make synthetic residents, conversations, handoffs, ratings and announcements for demos
    (replacing earlier synthetic data); real data is never touched."""
    with session_scope() as session:
        cleared = demo.clear_demo(session=session)
        if cleared.events or cleared.volunteers or cleared.announcements or clear:
            click.echo(
                f"Deleted earlier synthetic data: {cleared.events:,} events, "
                f"{cleared.fallback_texts:,} unanswered questions, {cleared.tickets:,} tickets, "
                f"{cleared.volunteers:,} volunteers, {cleared.announcements:,} announcements."
            )
        if clear:
            return
        if residents is None and events is None:
            residents = DEFAULT_RESIDENTS
        made = demo.seed_demo(
            session=session,
            commune_codes=demo.demo_communes(province, count),
            residents=residents,
            events=events,
            months=months,
            seed=seed,
            now=utcnow(),
        )
    places = [place for place in map(commune_by_code, made.communes) if place is not None]
    names = ", ".join(f"{place.name} ({place.code})" for place in places)
    month = made.last_full_month.label
    click.secho(
        "SYNTHETIC DEMO DATA (dữ liệu mô phỏng) — not real residents; reports that include it "
        "say so.",
        fg="yellow",
        bold=True,
    )
    click.echo(
        f"Made {made.residents:,} residents, {made.events:,} events, "
        f"{made.fallback_texts:,} unanswered questions, {made.tickets:,} handoff tickets, "
        f"{made.volunteers:,} volunteers and {made.announcements:,} announcements with "
        f"{made.deliveries:,} deliveries (names and titles marked “(mô phỏng)”)\n"
        f"in {names} ({places[0].province.name}),\n"
        f"from {made.start.astimezone(LOCAL_TZ):%d/%m/%Y} to "
        f"{made.end.astimezone(LOCAL_TZ):%d/%m/%Y}.\n"
        f"Next: cns report --province {province} --month {month} --format xlsx\n"
        f"      cns report --commune {made.communes[0]} --month {month} --format xlsx\n"
        "Remove it with: cns seed-demo --clear"
    )
