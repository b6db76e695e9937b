"""`cns volunteer add|list|remove|invite|login` and `cns desk link`: the roster of each
commune's digital technology team, and where their handoffs go."""

from __future__ import annotations

import click

from cns.places import resolve_commune
from core.db import session_scope
from core.models import VolunteerRole
from core.passwords import MIN_LENGTH, WeakPassword
from core.repositories.desk import link_desk, links
from core.repositories.invites import DEFAULT_VALIDITY, create_invite
from core.repositories.volunteers import (
    add_volunteer,
    communes_of,
    list_volunteers,
    remove_volunteer,
    set_web_login,
)


def _communes(values: str) -> list[str]:
    """Commune codes, each once, from comma-separated codes or names."""
    return list(dict.fromkeys(resolve_commune(part) for part in values.split(",") if part.strip()))


ROLE_OPTION = click.option(
    "--role",
    type=click.Choice([role.value for role in VolunteerRole]),
    default=VolunteerRole.VOLUNTEER.value,
    show_default=True,
)


@click.group()
def volunteer() -> None:
    """Manage the volunteers who take handoffs, per commune."""


@volunteer.command("add")
@click.option("--commune", "communes", required=True, help="Codes or names, comma-separated.")
@click.option("--name", required=True, help="Display name shown to residents and the team.")
@click.option("--telegram-user", type=int, help="Telegram user id (for the Telegram desk).")
@ROLE_OPTION
def add(communes: str, name: str, telegram_user: int | None, role: str) -> None:
    """Register a volunteer for one or more communes."""
    codes = _communes(communes)
    with session_scope() as session:
        added = add_volunteer(
            session=session,
            display_name=name,
            communes=codes,
            telegram_user_id=telegram_user,
            role=VolunteerRole(role),
        )
        click.echo(f"Volunteer {added.id} ({name}, {role}) serves {', '.join(sorted(codes))}.")


@volunteer.command("list")
@click.option("--commune", help="Only this commune (code or name).")
def list_(commune: str | None) -> None:
    """List volunteers, optionally of one commune."""
    code = resolve_commune(commune) if commune else None
    with session_scope() as session:
        rows = list_volunteers(session=session, commune_code=code)
        if not rows:
            click.echo("No volunteers.")
        for row in rows:
            served = ", ".join(sorted(communes_of(session=session, volunteer_id=row.id)))
            telegram = f" telegram {row.telegram_user_id}" if row.telegram_user_id else ""
            web = f" web {row.username}" if row.username else ""
            click.echo(f"{row.id}\t{row.display_name}\t{row.role}\t{served}{telegram}{web}")


@volunteer.command("remove")
@click.argument("volunteer_id", type=int)
def remove(volunteer_id: int) -> None:
    """Remove a volunteer (their past tickets stay, unassigned)."""
    with session_scope() as session:
        if not remove_volunteer(session=session, volunteer_id=volunteer_id):
            raise click.ClickException(f"no volunteer {volunteer_id}")
    click.echo(f"Volunteer {volunteer_id} removed.")


@volunteer.command("invite")
@click.option("--commune", "communes", required=True, help="Codes or names, comma-separated.")
@ROLE_OPTION
def invite(communes: str, role: str) -> None:
    """Print a one-time code the volunteer sends to the bot as /dangky CODE."""
    codes = _communes(communes)
    with session_scope() as session:
        code = create_invite(session=session, communes=codes, role=VolunteerRole(role))
    click.echo(f"/dangky {code}")
    click.echo(
        f"One use, valid {DEFAULT_VALIDITY.days} days, for {', '.join(sorted(codes))} ({role}). "
        "The volunteer sends it to the bot in a private Telegram chat."
    )


@volunteer.command("login")
@click.argument("volunteer_id", type=int)
@click.option("--username", required=True, help="The name they sign in to /desk with.")
@click.password_option(
    "--password", help=f"At least {MIN_LENGTH} characters (asked for when not given)."
)
def login(volunteer_id: int, username: str, password: str) -> None:
    """Let a volunteer sign in to the web desk at /desk."""
    try:
        with session_scope() as session:
            set_web_login(
                session=session, volunteer_id=volunteer_id, username=username, password=password
            )
    except WeakPassword as exc:
        raise click.BadParameter(str(exc), param_hint="--password") from exc
    except LookupError as exc:
        raise click.ClickException(f"no volunteer {volunteer_id}") from exc
    click.echo(f"Volunteer {volunteer_id} can sign in to /desk as {username.strip().lower()}.")


@click.group()
def desk() -> None:
    """Where each commune's handoffs go on Telegram."""


@desk.command("link")
@click.option("--chat", "chat_id", type=int, required=True, help="The forum supergroup's id.")
@click.option("--commune", "communes", required=True, help="Codes or names, comma-separated.")
def link(chat_id: int, communes: str) -> None:
    """Route these communes' handoffs to a Telegram forum group (the bot must be an admin
    allowed to manage topics)."""
    codes = _communes(communes)
    with session_scope() as session:
        link_desk(session=session, chat_id=chat_id, communes=codes)
    click.echo(f"Handoffs of {', '.join(sorted(codes))} now go to chat {chat_id}.")


@desk.command("links")
def list_links() -> None:
    """Show which group takes which commune's handoffs."""
    with session_scope() as session:
        rows = [(row.chat_id, row.commune_code) for row in links(session=session)]
    if not rows:
        click.echo("No links: every handoff goes to TELEGRAM_DESK_CHAT_ID (if set) and /desk.")
    for chat_id, code in rows:
        click.echo(f"{chat_id}\t{code}")
