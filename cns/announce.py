"""`cns announce create|list|show|approve|cancel`: commune and province staff write, check,
approve and cancel announcements from the command line, under the rules of the admin page
(/admin/announcements): their own commune or province, a second staff member approves unless
ANNOUNCEMENT_APPROVAL=false, times in Vietnam time unless they carry an offset."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import click
from sqlalchemy.orm import Session

from bot.admin.announcement_views import describe, draft_times, preview
from bot.desk.hours import VIETNAM
from cns.places import resolve_commune, resolve_province
from core.db import session_scope
from core.models import Announcement, AnnouncementCategory, Staff, utcnow
from core.repositories.announcements import (
    AnnouncementRefused,
    Draft,
    approve_announcement,
    cancel_announcement,
    create_announcement,
    get_announcement,
    list_announcements,
)
from core.repositories.staff import staff_by_username
from core.settings import get_settings

T = TypeVar("T")
AS_STAFF = click.option(
    "--as", "username", required=True, help="Your staff login (see `cns staff list`)."
)
REACH_LINES = (
    ("targeted", "Deliveries (one per resident and channel)"),
    ("sent", "Sent"),
    ("pending", "Waiting for the platform's answer"),
    ("failed", "Failed"),
    ("unreachable", "Not reachable now"),
    ("unsubscribed", "Unsubscribed within a week after it"),
    ("replies", "Residents who replied"),
    ("handoffs", "Handoffs it caused"),
)


def _local(iso: str | None) -> str:
    """A time of the views in Vietnam time: "08:00 05/12/2026"."""
    if iso is None:
        return "-"
    return datetime.fromisoformat(iso).astimezone(VIETNAM).strftime("%H:%M %d/%m/%Y")


def _acting(session: Session, username: str) -> Staff:
    staff = staff_by_username(session=session, username=username)
    if staff is None:
        raise click.ClickException(f"no staff member {username} (see `cns staff list`)")
    return staff


def _as_staff(username: str, work: Callable[[Session, Staff, bool], T]) -> T:
    """`work(session, staff, second_person)` in one transaction; a refusal is the error."""
    second = get_settings().announcement_approval
    try:
        with session_scope() as session:
            return work(session, _acting(session, username), second)
    except AnnouncementRefused as exc:
        raise click.ClickException(str(exc)) from exc


def _shown(session: Session, staff: Staff, found: Announcement, second: bool) -> dict[str, Any]:
    return describe(session=session, announcements=[found], viewer=staff, second_person=second)[0]


def _place(shown: dict[str, Any]) -> str:
    place = shown["place"]
    chosen = ", ".join(c["name"] for c in place["communes"])
    return f"{place['name']}: {chosen}" if chosen else str(place["name"])


def _next_step(shown: dict[str, Any]) -> str:
    if shown["waiting"]:
        return f"Another staff member approves it: `cns announce approve {shown['id']} --as …`."
    if shown["may_approve"]:
        return f"It goes once approved: `cns announce approve {shown['id']} --as …`."
    return ""


@click.group()
def announce() -> None:
    """Write, approve and follow announcements to subscribed residents."""


@announce.command("create")
@AS_STAFF
@click.option("--title", required=True, help="At most 120 characters.")
@click.option("--text", help="The announcement, at most 1,000 characters.")
@click.option(
    "--text-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Or read the text from this UTF-8 file.",
)
@click.option(
    "--category",
    required=True,
    type=click.Choice([c.value for c in AnnouncementCategory]),
    help="warning goes in quiet hours (21:00-07:00) too; the others wait for the morning.",
)
@click.option("--link", help="An https:// link residents may open.")
@click.option("--commune", help="Your commune: code or name (the default for commune staff).")
@click.option("--province", help="Your province: code or name (the default for province staff).")
@click.option("--communes", help="Only these communes of the province: codes or names, by commas.")
@click.option("--send-at", help="When it goes, e.g. 2026-12-05T08:00 (default: once approved).")
@click.option("--expires-at", help="When it stops if not sent by then (default: 7 days after).")
def create(
    username: str,
    title: str,
    text: str | None,
    text_file: Path | None,
    category: str,
    link: str | None,
    commune: str | None,
    province: str | None,
    communes: str | None,
    send_at: str | None,
    expires_at: str | None,
) -> None:
    """Save a draft announcement (it goes once approved)."""
    if (text is None) == (text_file is None):
        raise click.UsageError("give exactly one of --text or --text-file")
    if commune is not None and (province is not None or communes is not None):
        raise click.UsageError("--commune goes alone; --communes goes with a province")
    body = text if text is not None else Path(str(text_file)).read_text(encoding="utf-8")
    chosen = tuple(resolve_commune(c) for c in (communes or "").split(",") if c.strip())
    commune_code = resolve_commune(commune) if commune is not None else None
    province_code = resolve_province(province) if province is not None else None

    def write(session: Session, staff: Staff, second: bool) -> dict[str, Any]:
        here, there = commune_code, province_code
        if here is None and there is None:
            here, there = staff.commune_code, staff.province_code
        sending, ending = draft_times(send_at, expires_at, now=utcnow())
        draft = Draft(
            title=title,
            text=body,
            category=category,
            link=link,
            send_at=sending,
            expires_at=ending,
            commune_code=here,
            province_code=there,
            communes=chosen,
        )
        made = create_announcement(session=session, author=staff, draft=draft)
        return _shown(session, staff, made, second)

    shown = _as_staff(username, write)
    click.echo(
        f"Announcement {shown['id']} saved as a draft for {_place(shown)}, "
        f"to go at {_local(shown['send_at'])} (Vietnam time). {_next_step(shown)}".rstrip()
    )


@announce.command("list")
@AS_STAFF
def list_(username: str) -> None:
    """The announcements you manage, newest first: id, status, category, place, send time,
    title, and how many were sent of those made."""

    def read(session: Session, staff: Staff, second: bool) -> list[dict[str, Any]]:
        found = list_announcements(session=session, staff=staff)
        return describe(session=session, announcements=found, viewer=staff, second_person=second)

    rows = _as_staff(username, read)
    if not rows:
        click.echo("No announcements yet.")
    for a in rows:
        reach = a["reach"]
        click.echo(
            "\t".join(
                (
                    str(a["id"]),
                    a["status_label"],
                    a["category_label"],
                    _place(a),
                    _local(a["send_at"]),
                    a["title"],
                    f"sent {reach['sent']}/{reach['targeted']}",
                )
            )
        )


@announce.command("show")
@click.argument("announcement_id", type=click.IntRange(1, 2**63 - 1))
@AS_STAFF
def show(announcement_id: int, username: str) -> None:
    """One announcement: what each channel shows and how far it reached."""

    def read(session: Session, staff: Staff, second: bool) -> dict[str, Any]:
        found = get_announcement(session=session, announcement_id=announcement_id, staff=staff)
        return _shown(session, staff, found, second) | {"preview": preview(found)}

    shown = _as_staff(username, read)
    lines = [
        f"#{shown['id']} {shown['title']}",
        f"{shown['status_label']} · {shown['category_label']} · {_place(shown)}",
        f"Send at {_local(shown['send_at'])}, expires {_local(shown['expires_at'])} (Vietnam time)",
        f"Written by {shown['author'] or '-'}; approved by {shown['approver'] or '-'}",
    ]
    if shown["waiting"]:
        lines.append(shown["waiting"])
    reach = shown["reach"]
    lines.append("")
    lines.append("Reach:")
    for key, label in REACH_LINES:
        lines.append(f"  {label}: {reach[key]}")
        for reason in reach.get(f"{key}_reasons", []):
            lines.append(f"    {reason['label']} ({reason['reason']}): {reason['count']}")
    for channel in shown["preview"]:
        for n, message in enumerate(channel["messages"], start=1):
            lines += ["", f"--- {channel['name']}, message {n} of {len(channel['messages'])} ---"]
            lines.append(message["text"])
            lines += [f"[{b['title']}]" for b in message["buttons"]]
    click.echo("\n".join(lines))


@announce.command("approve")
@click.argument("announcement_id", type=click.IntRange(1, 2**63 - 1))
@AS_STAFF
def approve(announcement_id: int, username: str) -> None:
    """Approve a draft (a second staff member, unless ANNOUNCEMENT_APPROVAL=false)."""

    def write(session: Session, staff: Staff, second: bool) -> dict[str, Any]:
        done = approve_announcement(
            session=session, announcement_id=announcement_id, approver=staff, second_person=second
        )
        return _shown(session, staff, done, second)

    shown = _as_staff(username, write)
    click.echo(
        f"Announcement {shown['id']} approved; it goes at {_local(shown['send_at'])} "
        "(Vietnam time)."
    )


@announce.command("cancel")
@click.argument("announcement_id", type=click.IntRange(1, 2**63 - 1))
@AS_STAFF
def cancel(announcement_id: int, username: str) -> None:
    """Cancel a draft, an approved announcement, or one being sent (no more deliveries)."""

    def write(session: Session, staff: Staff, second: bool) -> dict[str, Any]:
        done = cancel_announcement(session=session, announcement_id=announcement_id, staff=staff)
        return _shown(session, staff, done, second)

    shown = _as_staff(username, write)
    sent = shown["reach"]["targeted"]
    click.echo(f"Announcement {shown['id']} cancelled ({sent} deliveries made before).")
