"""`cns`: the command line of the helpdesk: `make cns ARGS="--help"` or `.venv/bin/cns --help`
after `make install`, `docker compose exec gateway cns --help` in the containers."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from datetime import timedelta

import click
from pydantic import SecretStr

from bot.rasa_client import RasaClient, RasaUnavailable
from bot.router import forget_conversation
from cns.announce import announce
from cns.nlu import nlu
from cns.replicas import Replicas, ReplicasRefused, check_replicas
from cns.reports import report
from cns.seed_demo import seed_demo
from cns.stack import Ports, local_services, overridden_settings, stack_tokens
from cns.staff import staff
from cns.supervisor import Stack
from cns.training import ensure_model
from cns.volunteers import desk, volunteer
from cns.zalo import zalo
from core import migrate as migrations
from core.db import session_scope
from core.erasure import erase_resident
from core.models import utcnow
from core.privacy import pseudonymize
from core.retention import purge_chat_content
from core.settings import PROJECT_ROOT, UnsafeSettings, check_secrets, get_settings

HEALTH_TIMEOUT_SECONDS = 300.0


def _stop_on_termination_signals() -> None:
    """SIGINT, SIGTERM and SIGHUP stop the stack (children are never orphaned).

    SIGINT is set explicitly: a shell starts background jobs with SIGINT ignored.
    """

    def _interrupt(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _interrupt)


@click.group()
def cli() -> None:
    """Trợ lý Tổ Công nghệ số — helpdesk chatbot for community digital technology teams."""


cli.add_command(volunteer)
cli.add_command(desk)
cli.add_command(report)
cli.add_command(staff)
cli.add_command(seed_demo)
cli.add_command(zalo)
cli.add_command(nlu)
cli.add_command(announce)


@cli.command()
def migrate() -> None:
    """Bring the database schema up to date (Alembic)."""
    migrations.upgrade()
    click.echo("Database schema is up to date.")


@cli.command()
@click.option("--force", is_flag=True, help="Train even if the inputs did not change.")
def train(force: bool) -> None:
    """Train the Rasa model if config, domain, data or nlu/ changed."""
    ensure_model(force=force, echo=click.echo)


def _replicas(_ctx: click.Context, _param: click.Parameter, value: str | None) -> Replicas | None:
    try:
        return None if value is None else Replicas.parse(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@cli.command()
@click.option(
    "--replicas",
    callback=_replicas,
    metavar="rasa=N,gateway=M[,actions=K]",
    help="Run several processes of each service behind HAProxy (needs PostgreSQL and Redis).",
)
def run(replicas: Replicas | None) -> None:
    """Start rasa, the action server and the gateway; Ctrl-C stops them all.

    Rasa and the action server get RASA_TOKEN and ACTIONS_TOKEN; in development, those not
    configured are made once and kept in var/local-tokens.json (readable by its owner only).
    With --replicas, HAProxy takes the usual ports and spreads requests over the processes
    (configuration in var/haproxy.cfg, Rasa's endpoints in var/endpoints.replicas.yml).
    """
    settings = get_settings()
    tokens = stack_tokens(settings)
    secrets = {name.lower(): SecretStr(value) for name, value in tokens.items()}
    try:
        warning = check_secrets(settings.model_copy(update=secrets))
    except UnsafeSettings as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)
    if warning:
        click.secho(warning, fg="yellow", err=True)
    ports = Ports(actions=settings.actions_port, gateway=settings.gateway_port)
    if overridden := overridden_settings(settings, ports):
        click.secho(overridden, fg="yellow", err=True)
    env: dict[str, str] | None = None  # without replicas: this process's, as always
    try:
        if replicas is not None:
            # What the settings read from .env too: the replicas check (and use) these.
            stores = {
                "DATABASE_URL": settings.database_url,
                "REDIS_URL": settings.redis_url or "",
                "RASA_TRACKER_DATABASE_URL": settings.rasa_tracker_database_url or "",
            }
            env = dict(os.environ) | {k: v for k, v in stores.items() if v}
            check_replicas(env, replicas)  # before any training: refuse at once
        services = local_services(
            PROJECT_ROOT,
            ensure_model(echo=click.echo),
            ports,
            env=env,
            rasa_token=tokens.get("RASA_TOKEN"),
            actions_token=tokens.get("ACTIONS_TOKEN"),
            replicas=replicas,
        )
    except ReplicasRefused as exc:
        click.echo(f"Cannot run replicas: {exc}", err=True)
        sys.exit(2)
    migrations.upgrade()
    stack = Stack(services, PROJECT_ROOT)
    url = ports.url(ports.gateway)
    click.echo(f"Starting {', '.join(s.name for s in services)}…")
    _stop_on_termination_signals()
    stack.start()
    try:
        if not stack.wait_healthy(f"{url}/healthz", timeout=HEALTH_TIMEOUT_SECONDS):
            click.echo(f"The stack did not become healthy (stopped: {stack.exited()}).", err=True)
            sys.exit(1)
        click.secho(f"\n  Sẵn sàng / Ready: {url}/  (Ctrl-C to stop)\n", fg="green", bold=True)
        click.echo(
            '  No data yet? `make cns ARGS="seed-demo"` (or `.venv/bin/cns seed-demo`) adds '
            "synthetic demo data for reports.\n"
        )
        codes = stack.wait()
        click.echo(f"A service stopped ({codes}); stopping the others.", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        click.echo("\nStopping…")
    finally:
        stack.stop()


CHANNELS = ("web", "telegram", "zalo")


@cli.command()
@click.option(
    "--resident",
    required=True,
    help="The resident's pseudonymous id, or their channel account id together with --channel.",
)
@click.option("--channel", type=click.Choice(CHANNELS), help="Channel of a channel account id.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def forget(resident: str, channel: str | None, yes: bool) -> None:
    """Erase one resident's data: profile, progress and conversation (counts stay, unlinked)."""
    settings = get_settings()
    resident_id = (
        pseudonymize(channel, resident, key=settings.pseudonym_key.get_secret_value())
        if channel
        else resident
    )
    if not yes:
        click.confirm(f"Erase everything kept about resident {resident_id}?", abort=True)
    with session_scope() as session:
        erasure = erase_resident(session=session, resident_id=resident_id, channel="staff")
    click.echo(
        f"Erased: profile {'deleted' if erasure.profile_deleted else 'not found'}, "
        f"{erasure.progress_deleted} progress rows deleted, "
        f"{erasure.events_unlinked} events unlinked."
    )
    token = stack_tokens(settings).get("RASA_TOKEN")

    async def _conversation() -> None:
        rasa = RasaClient(settings.rasa_url, token=token)
        try:
            await forget_conversation(rasa, resident_id, settings.rasa_tracker_database_url)
        finally:
            await rasa.aclose()

    try:
        asyncio.run(_conversation())
        click.echo("Rasa's copy of the conversation is erased.")
    except RasaUnavailable as exc:
        click.echo(f"Rasa did not answer ({exc}); run this again when it is up.", err=True)
        sys.exit(1)


@cli.command()
def purge() -> None:
    """Delete chat content older than RETENTION_DAYS: handoff conversations of closed tickets
    and the kept words of messages the bot did not understand; and the walkthrough or lesson
    positions of residents without consent whose session is over."""
    days = get_settings().retention_days
    before = utcnow() - timedelta(days=days)
    with session_scope() as session:
        gone = purge_chat_content(session=session, before=before)
    click.echo(
        f"Deleted {gone.handoff_messages} handoff messages and {gone.fallback_texts} "
        f"unanswered questions older than {days} days, "
        f"and {gone.progress} walkthrough or lesson positions of residents without consent."
    )
