"""The report page at `/admin/reports` for commune and province staff (`cns staff add`): pick a
commune (or, for province staff, the whole province) and a month, read the report, download it
as Excel or CSV.

Sign-in through bot/web/sessions.py (as the volunteer desk). Reports are computed on demand
from the events table, in a worker thread. A commune or province outside the staff member's
scope answers 404, exactly like one that does not exist.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Response
from fastapi.responses import FileResponse
from sqlalchemy.orm import Session

from bot.web.sessions import SECURITY_HEADERS, SIGNED_OUT, SignIn, WebUser, static_page
from core.db import in_db
from core.models import Staff, utcnow
from core.repositories.staff import (
    may_see,
    may_see_province,
    scope_of,
    visible_communes,
)
from reports import labels
from reports.metrics import UnknownPlace, commune_report, province_report
from reports.model import Period, Report
from reports.render import FORMATS, MEDIA_TYPES, filename, render

MONTHS_SHOWN = 24  # the month picker offers this month and the 23 before it

NOT_FOUND = "Không tìm thấy xã, phường hoặc tỉnh này."
ONE_PLACE = "Anh/chị chọn một xã, phường hoặc toàn tỉnh giúp em."
BAD_MONTH = "Tháng chưa đúng. Anh/chị chọn lại tháng giúp em (dạng năm-tháng, ví dụ 2026-10)."
FUTURE_MONTH = "Tháng này chưa tới nên chưa có báo cáo. Anh/chị chọn tháng khác giúp em."
BAD_FORMAT = "Định dạng chưa đúng. Anh/chị chọn xem trên trang, tải Excel hoặc tải CSV."

# The HTML report carries its own inline CSS and SVG and no script: shown in a sandboxed
# frame of the admin page only, with nothing else allowed.
REPORT_PAGE_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; sandbox"
)


STAFF = SignIn("admin", Staff)


def signed_in_staff(session: Session, user: WebUser) -> Staff:
    staff = session.get(Staff, user.id)
    if staff is None:  # removed while signed in
        raise HTTPException(401, SIGNED_OUT)
    return staff


def _months() -> tuple[list[dict[str, str]], str]:
    """The months to pick from (newest first) and the default: last month, Vietnam's time."""
    month = Period.containing(utcnow())
    default = month.previous().label
    months = []
    for _ in range(MONTHS_SHOWN):
        months.append({"value": month.label, "label": labels.month(month)})
        month = month.previous()
    return months, default


def _me(session: Session, user: WebUser) -> dict[str, Any]:
    staff = signed_in_staff(session, user)
    scope = scope_of(staff)
    months, default = _months()
    return {
        "name": staff.display_name,
        "scope": {"kind": scope.kind, "code": scope.code, "name": scope.name},
        "communes": [{"code": c.code, "name": c.name} for c in visible_communes(staff)],
        "months": months,
        "default_month": default,
        "csrf": user.csrf,
    }


def _period(month: str | None) -> Period:
    """The month asked for (last month when absent); 422 when malformed or not begun."""
    this_month = Period.containing(utcnow())
    if month is None:
        return this_month.previous()
    try:
        period = Period.parse(month)
    except ValueError as exc:
        raise HTTPException(422, BAD_MONTH) from exc
    if period > this_month:
        raise HTTPException(422, FUTURE_MONTH)
    return period


def _headers(found: Report, fmt: str) -> dict[str, str]:
    name = filename(found, fmt)
    if fmt == "html":
        return SECURITY_HEADERS | {
            "Content-Security-Policy": REPORT_PAGE_POLICY,
            "Content-Disposition": f'inline; filename="{name}"',
        }
    return SECURITY_HEADERS | {"Content-Disposition": f'attachment; filename="{name}"'}


admin = APIRouter()
admin.include_router(STAFF.account_routes(_me))


@admin.get("/admin/reports", include_in_schema=False)
async def page() -> FileResponse:
    return static_page("admin.html")


@admin.get("/admin/api/report")
async def report(
    user: Annotated[WebUser, Depends(STAFF.signed_in)],
    commune: str | None = None,
    province: str | None = None,
    month: str | None = None,
    fmt: Annotated[str, Query(alias="format")] = "html",
) -> Response:
    """A commune's (`commune=`) or a province's (`province=`) report for `month` (YYYY-MM) as
    html (shown inline), xlsx or csv (downloaded)."""
    if fmt not in FORMATS:
        raise HTTPException(422, BAD_FORMAT)
    if (commune is None) == (province is None):
        raise HTTPException(422, ONE_PLACE)
    period = _period(month)

    def build(session: Session) -> Report:
        staff = signed_in_staff(session, user)
        if commune is not None and may_see(staff, commune):
            return commune_report(session=session, commune_code=commune, period=period)
        if province is not None and may_see_province(staff, province):
            return province_report(session=session, province_code=province, period=period)
        raise HTTPException(404, NOT_FOUND)

    try:
        found = await in_db(build)
    except UnknownPlace as exc:
        raise HTTPException(404, NOT_FOUND) from exc
    body = await asyncio.to_thread(render, found, fmt)
    return Response(body, media_type=MEDIA_TYPES[fmt], headers=_headers(found, fmt))
