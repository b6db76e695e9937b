"""Announcements on the admin pages: the page `/admin/announcements` and its JSON API under
`/admin/api/announcements` for signed-in staff (the report page's sign-in; changes need the
session's CSRF token).

Commune staff write to their commune, province staff to the whole province or chosen communes
of it. A draft goes once approved: by a second staff member of its commune or province
(`ANNOUNCEMENT_APPROVAL`, on by default) or, with that switched off, by its author too. It can
be cancelled as a draft, once approved and while it is being sent. An announcement or a place
outside the staff member's scope answers 404, exactly like one that does not exist.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from bot.admin.announcement_views import CATEGORIES, describe, draft_times, preview
from bot.admin.web import NOT_FOUND, STAFF, signed_in_staff
from bot.web.sessions import WebUser, static_page
from core.db import in_db
from core.models import Announcement, Staff, utcnow
from core.repositories.announcements import (
    AnnouncementNotFound,
    AnnouncementRefused,
    Draft,
    approve_announcement,
    cancel_announcement,
    create_announcement,
    get_announcement,
    list_announcements,
    unsaved,
)
from core.repositories.staff import may_see, may_see_province

Shown = dict[str, Any]
T = TypeVar("T")
MAX_ID = 2**63 - 1  # a bigint: anything larger is no announcement (and must not reach SQL)
AnnouncementId = Annotated[int, Path(ge=1, le=MAX_ID)]


class Content(BaseModel):
    """What residents will read."""

    title: str = Field(default="", max_length=2000)
    text: str = Field(default="", max_length=20000)
    link: str | None = Field(default=None, max_length=2000)
    category: str = Field(default="", max_length=32)


class DraftBody(Content):
    """A new announcement: without a place, the writer's own commune or province; times in
    ISO 8601, Vietnam time unless they carry an offset (send: now when empty; expiry: a week
    after sending when empty)."""

    commune: str | None = Field(default=None, max_length=5)
    province: str | None = Field(default=None, max_length=2)
    communes: list[Annotated[str, Field(max_length=5)]] = Field(default=[], max_length=500)
    send_at: str | None = Field(default=None, max_length=40)
    expires_at: str | None = Field(default=None, max_length=40)


def _second_person(request: Request) -> bool:
    return bool(request.app.state.settings.announcement_approval)


def _shown(session: Session, staff: Staff, announcement: Announcement, second: bool) -> Shown:
    found = describe(
        session=session, announcements=[announcement], viewer=staff, second_person=second
    )[0]
    return found | {"preview": preview(announcement)}


def _draft(body: DraftBody, staff: Staff) -> Draft:
    """The body as a draft (404 for a place not the writer's, as for one that does not
    exist)."""
    commune, province = body.commune, body.province
    if commune is None and province is None:
        commune, province = staff.commune_code, staff.province_code
    if commune is not None and not may_see(staff, commune):
        raise HTTPException(404, NOT_FOUND)
    if province is not None and not may_see_province(staff, province):
        raise HTTPException(404, NOT_FOUND)
    send_at, expires_at = draft_times(body.send_at, body.expires_at, now=utcnow())
    return Draft(
        title=body.title,
        text=body.text,
        category=body.category,
        link=body.link or None,
        send_at=send_at,
        expires_at=expires_at,
        commune_code=commune,
        province_code=province,
        communes=tuple(body.communes),
    )


async def _act(user: WebUser, work: Callable[[Session, Staff], T]) -> T:
    """Run `work(session, staff)` in the database: a missing announcement answers 404, a
    refused change 409 with the reason."""

    def run(session: Session) -> T:
        return work(session, signed_in_staff(session, user))

    try:
        return await in_db(run)
    except AnnouncementNotFound as exc:
        raise HTTPException(404, str(exc)) from exc
    except AnnouncementRefused as exc:
        raise HTTPException(409, str(exc)) from exc


api = APIRouter()


@api.get("/admin/announcements", include_in_schema=False)
async def page() -> FileResponse:
    return static_page("announcements.html")


@api.get("/admin/api/announcements")
async def listed(
    request: Request, user: Annotated[WebUser, Depends(STAFF.signed_in)]
) -> dict[str, Any]:
    """The announcements the staff member may manage, newest first, with status and reach."""
    second = _second_person(request)

    def read(session: Session) -> dict[str, Any]:
        staff = signed_in_staff(session, user)
        found = list_announcements(session=session, staff=staff)
        return {
            "approval": second,
            "categories": CATEGORIES,
            "announcements": describe(
                session=session, announcements=found, viewer=staff, second_person=second
            ),
        }

    return await in_db(read)


@api.post("/admin/api/announcements", status_code=201)
async def create(
    body: DraftBody, request: Request, user: Annotated[WebUser, Depends(STAFF.checked)]
) -> Shown:
    """A new draft; 422 with the reason when it cannot be one."""
    second = _second_person(request)

    def write(session: Session) -> Shown:
        staff = signed_in_staff(session, user)
        made = create_announcement(session=session, author=staff, draft=_draft(body, staff))
        return _shown(session, staff, made, second)

    try:
        return await in_db(write)
    except AnnouncementRefused as exc:
        raise HTTPException(422, str(exc)) from exc


@api.post("/admin/api/announcements/preview")
async def previewed(body: Content, _: Annotated[WebUser, Depends(STAFF.checked)]) -> dict[str, Any]:
    """What each channel would show for this text (nothing is saved); 422 with the reason
    when it is not within the limits."""
    try:
        announcement = unsaved(
            title=body.title, text=body.text, link=body.link, category=body.category
        )
    except AnnouncementRefused as exc:
        raise HTTPException(422, str(exc)) from exc
    return {"channels": preview(announcement)}


@api.get("/admin/api/announcements/{announcement_id}")
async def detail(
    announcement_id: AnnouncementId,
    request: Request,
    user: Annotated[WebUser, Depends(STAFF.signed_in)],
) -> Shown:
    """One announcement with its preview per channel and its reach."""
    second = _second_person(request)

    def read(session: Session, staff: Staff) -> Shown:
        found = get_announcement(session=session, announcement_id=announcement_id, staff=staff)
        return _shown(session, staff, found, second)

    return await _act(user, read)


@api.post("/admin/api/announcements/{announcement_id}/approve")
async def approve(
    announcement_id: AnnouncementId,
    request: Request,
    user: Annotated[WebUser, Depends(STAFF.checked)],
) -> Shown:
    """Approve a draft (409 for its own author while a second person must approve)."""
    second = _second_person(request)

    def write(session: Session, staff: Staff) -> Shown:
        done = approve_announcement(
            session=session, announcement_id=announcement_id, approver=staff, second_person=second
        )
        return _shown(session, staff, done, second)

    return await _act(user, write)


@api.post("/admin/api/announcements/{announcement_id}/cancel")
async def cancel(
    announcement_id: AnnouncementId,
    request: Request,
    user: Annotated[WebUser, Depends(STAFF.checked)],
) -> Shown:
    """Cancel a draft, an approved announcement, or one being sent (no more deliveries)."""
    second = _second_person(request)

    def write(session: Session, staff: Staff) -> Shown:
        done = cancel_announcement(session=session, announcement_id=announcement_id, staff=staff)
        return _shown(session, staff, done, second)

    return await _act(user, write)
