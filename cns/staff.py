"""`cns staff add|list|remove|password`: the commune and province officers who read the monthly
reports at /admin/reports."""

from __future__ import annotations

import click

from cns.places import resolve_commune, resolve_province
from core.db import session_scope
from core.passwords import MIN_LENGTH, WeakPassword
from core.repositories.staff import (
    UsernameTaken,
    add_staff,
    list_staff,
    remove_staff,
    scope_of,
    set_password,
)

PASSWORD_OPTION = click.password_option(
    "--password", help=f"At least {MIN_LENGTH} characters (asked for when not given)."
)


@click.group()
def staff() -> None:
    """Manage the staff who read reports at /admin/reports."""


@staff.command("add")
@click.option("--username", required=True, help="The name they sign in with.")
@click.option("--name", required=True, help='Display name, e.g. "Chị Lan (UBND phường)".')
@click.option("--commune", help="Their commune: code (00004) or name (phuong ba dinh).")
@click.option("--province", help="Or their province: code (01) or name (ha noi).")
@PASSWORD_OPTION
def add(username: str, name: str, commune: str | None, province: str | None, password: str) -> None:
    """Let a commune's (--commune) or a province's (--province) staff read its reports."""
    if (commune is None) == (province is None):
        raise click.UsageError("give exactly one of --commune or --province")
    commune_code = resolve_commune(commune) if commune is not None else None
    province_code = resolve_province(province) if province is not None else None
    try:
        with session_scope() as session:
            added = add_staff(
                session=session,
                username=username,
                display_name=name,
                password=password,
                commune_code=commune_code,
                province_code=province_code,
            )
            scope = scope_of(added)
            login = added.username
    except WeakPassword as exc:
        raise click.BadParameter(str(exc), param_hint="--password") from exc
    except UsernameTaken as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{login} can sign in to /admin/reports for {scope.name} ({scope.code}).")


@staff.command("list")
def list_() -> None:
    """List staff logins and what each may read."""
    with session_scope() as session:
        rows = [
            (row.username, row.display_name, scope_of(row)) for row in list_staff(session=session)
        ]
    if not rows:
        click.echo("No staff.")
    for username, display_name, scope in rows:
        click.echo(f"{username}\t{display_name}\t{scope.kind} {scope.code}\t{scope.name}")


@staff.command("remove")
@click.argument("username")
def remove(username: str) -> None:
    """Remove a staff login (signed-in sessions end at their next request)."""
    with session_scope() as session:
        if not remove_staff(session=session, username=username):
            raise click.ClickException(f"no staff member {username}")
    click.echo(f"Staff member {username} removed.")


@staff.command("password")
@click.argument("username")
@PASSWORD_OPTION
def password(username: str, password: str) -> None:
    """Give a staff member a new password."""
    try:
        with session_scope() as session:
            set_password(session=session, username=username, password=password)
    except WeakPassword as exc:
        raise click.BadParameter(str(exc), param_hint="--password") from exc
    except LookupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"New password set for {username}.")
