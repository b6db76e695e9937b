"""`cns report`: a commune's or a province's monthly report as an Excel, HTML or CSV file.

Written to var/reports/ by default: the app's var directory is writable wherever `cns` runs
(in the container the code, and the working directory /app, belong to root; var/ to `cns`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click

from cns.places import resolve_commune, resolve_province
from core.db import session_scope
from core.models import utcnow
from core.settings import VAR_DIR
from reports.metrics import UnknownPlace, commune_report, province_report
from reports.model import Period
from reports.render import FORMATS, filename, render

REPORTS_DIR = VAR_DIR / "reports"

Callback = Callable[[click.Context, click.Parameter, str | None], str | None]


def _resolved(resolve: Callable[[str], str]) -> Callback:
    """An option callback turning a code or a name into a code (absent stays None)."""

    def callback(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
        return resolve(value) if value is not None else None

    return callback


def month_option(_ctx: click.Context, _param: click.Parameter, value: str | None) -> Period:
    """YYYY-MM; by default the previous month in Vietnam's time."""
    if value is None:
        return Period.containing(utcnow()).previous()
    try:
        return Period.parse(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc


@click.command()
@click.option(
    "--commune",
    callback=_resolved(resolve_commune),
    help="Commune code (00004) or name (phuong ba dinh).",
)
@click.option(
    "--province", callback=_resolved(resolve_province), help="Province code (01) or name (ha noi)."
)
@click.option(
    "--month",
    "period",
    callback=month_option,
    metavar="YYYY-MM",
    help="The month to report on. [default: last month]",
)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="xlsx", show_default=True)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Where to write it. [default: var/reports/bao-cao-xa-CODE-YYYY-MM.FORMAT]",
)
def report(
    commune: str | None, province: str | None, period: Period, fmt: str, out: Path | None
) -> None:
    """Write a commune's (--commune) or a province's (--province) monthly report."""
    if (commune is None) == (province is None):
        raise click.UsageError("give exactly one of --commune or --province")
    try:
        with session_scope() as session:
            if commune is not None:
                found = commune_report(session=session, commune_code=commune, period=period)
            else:
                assert province is not None
                found = province_report(session=session, province_code=province, period=period)
    except UnknownPlace as exc:
        raise click.ClickException(str(exc)) from exc
    path = out or REPORTS_DIR / filename(found, fmt)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(render(found, fmt))
    click.echo(f"Report of {found.place.name}, {found.period.title}, written to {path}")
    if found.synthetic:
        click.echo("Note: it includes synthetic data from `cns seed-demo`.", err=True)
