"""The web desk at `/desk` for volunteers without Telegram (API: /work/notes → README).

Sign-in with per-volunteer credentials (`cns volunteer login`), scrypt-hashed, rate-limited
per name and per address. Sessions live in Redis (every replica sees them) behind an HttpOnly,
Secure, SameSite=Strict cookie; every state-changing call must also carry the session's CSRF
token in `X-CSRF-Token`. A volunteer sees and acts only on tickets of their own communes: a
ticket of another commune answers 404, exactly like one that does not exist.
"""

from __future__ import annotations

import hmac
import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.responses import FileResponse
from pydantic import BaseModel, StringConstraints
from redis.asyncio import Redis
from sqlalchemy.orm import Session

from bot.desk.handoff import Handoff, NotTheClaimer, Unreachable
from bot.desk.views import MessageView, TicketView, commune_name
from core.db import in_db
from core.models import Ticket, Volunteer
from core.passwords import DUMMY_HASH, verify_password
from core.ratelimit import RateLimit
from core.repositories.ticket_messages import messages_of
from core.repositories.tickets import NotYourCommune, active_tickets
from core.repositories.volunteers import communes_of, serves, volunteer_by_username

COOKIE = "cns_desk"
SESSION_SECONDS = 12 * 3600
LOGIN_WINDOW_SECONDS = 15 * 60
LOGIN_TRIES_PER_NAME = 5
LOGIN_TRIES_PER_ADDRESS = 30  # a commune office's volunteers often share one address
STATIC_DIR = Path(__file__).resolve().parent.parent / "web" / "static"
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

WRONG_LOGIN = "Tên đăng nhập hoặc mật khẩu không đúng."
TOO_MANY_TRIES = "Anh/chị đã thử sai nhiều lần. Vui lòng thử lại sau 15 phút."
SIGNED_OUT = "Anh/chị cần đăng nhập lại."
BAD_CSRF = "Phiên làm việc không hợp lệ, anh/chị tải lại trang giúp em."
NOT_FOUND = "Không tìm thấy yêu cầu này."
NOT_YOURS = "Anh/chị chưa nhận yêu cầu này nên chưa nhắn hoặc đóng được."


class Login(BaseModel):
    username: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=256)]


class Reply(BaseModel):
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class Close(BaseModel):
    outcome: Literal["resolved", "bot"]


@dataclass(frozen=True)
class DeskUser:
    volunteer_id: int
    csrf: str


@dataclass(frozen=True)
class DeskSessions:
    redis: Redis
    prefix: str = "desk:session"

    async def create(self, volunteer_id: int) -> tuple[str, str]:
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
        value = json.dumps({"volunteer": volunteer_id, "csrf": csrf})
        await self.redis.set(f"{self.prefix}:{token}", value, ex=SESSION_SECONDS)
        return token, csrf

    async def get(self, token: str | None) -> DeskUser | None:
        if not token:
            return None
        raw = await self.redis.get(f"{self.prefix}:{token}")
        if not raw:
            return None
        data = json.loads(raw)
        return DeskUser(int(data["volunteer"]), str(data["csrf"]))

    async def drop(self, token: str | None) -> None:
        if token:
            await self.redis.delete(f"{self.prefix}:{token}")


def _sessions(request: Request) -> DeskSessions:
    return DeskSessions(request.app.state.redis)


def _handoff(request: Request) -> Handoff:
    handoff: Handoff = request.app.state.handoff
    return handoff


async def signed_in(request: Request) -> DeskUser:
    user = await _sessions(request).get(request.cookies.get(COOKIE))
    if user is None:
        raise HTTPException(401, SIGNED_OUT)
    return user


async def checked(request: Request, user: Annotated[DeskUser, Depends(signed_in)]) -> DeskUser:
    """A signed-in volunteer whose request carries the session's CSRF token."""
    sent = request.headers.get("x-csrf-token", "")
    if not hmac.compare_digest(sent.encode(), user.csrf.encode()):
        raise HTTPException(403, BAD_CSRF)
    return user


def _me(session: Session, user: DeskUser) -> dict[str, Any]:
    volunteer = session.get(Volunteer, user.volunteer_id)
    if volunteer is None:
        raise HTTPException(401, SIGNED_OUT)
    codes = sorted(communes_of(session=session, volunteer_id=volunteer.id))
    return {
        "name": volunteer.display_name,
        "role": volunteer.role,
        "communes": [{"code": code, "name": commune_name(code)} for code in codes],
        "csrf": user.csrf,
    }


def ticket_json(ticket: TicketView, volunteer_id: int) -> dict[str, Any]:
    def iso(moment: Any) -> str | None:
        return moment.isoformat() if moment else None

    return {
        "id": ticket.id,
        "commune_code": ticket.commune_code,
        "commune_name": ticket.commune_name,
        "reason": ticket.reason.value,
        "reason_label": ticket.reason_label,
        "urgent": ticket.urgent,
        "service_label": ticket.service_label,
        "step": ticket.step,
        "state": ticket.state.value,
        "state_label": ticket.state_label,
        "created_at": iso(ticket.created_at),
        "claimed_at": iso(ticket.claimed_at),
        "closed_at": iso(ticket.closed_at),
        "claimed_by": ticket.claimer_name,
        "mine": ticket.claimed_by == volunteer_id,
        "summary": ticket.summary,
        "channel": ticket.channel,
    }


def message_json(message: MessageView) -> dict[str, Any]:
    return {
        "id": message.id,
        "author": message.author,
        "author_name": message.author_name,
        "kind": message.kind,
        "text": message.text,
        "file_url": None,  # files stay with the resident's channel (see README)
        "latitude": message.latitude,
        "longitude": message.longitude,
        "created_at": message.created_at.isoformat(),
    }


def _visible_ticket(session: Session, ticket_id: int, volunteer_id: int) -> Ticket:
    ticket = session.get(Ticket, ticket_id)
    if ticket is None or not serves(
        session=session, volunteer_id=volunteer_id, commune_code=ticket.commune_code
    ):
        raise HTTPException(404, NOT_FOUND)
    return ticket


async def _conversation(ticket_id: int, volunteer_id: int, after: int) -> dict[str, Any]:
    def read(session: Session) -> dict[str, Any]:
        ticket = _visible_ticket(session, ticket_id, volunteer_id)
        rows = messages_of(session=session, ticket_id=ticket_id, after=after)
        return {
            "ticket": ticket_json(TicketView.of(session, ticket), volunteer_id),
            "messages": [message_json(MessageView.of(session, m)) for m in rows],
        }

    return await in_db(read)


desk = APIRouter()


@desk.get("/desk", include_in_schema=False)
async def page() -> FileResponse:
    return FileResponse(
        STATIC_DIR / "desk.html",
        media_type="text/html; charset=utf-8",
        headers=SECURITY_HEADERS,
    )


@desk.post("/desk/api/login")
async def login(body: Login, request: Request, response: Response) -> dict[str, Any]:
    redis = request.app.state.redis
    per_name = RateLimit(
        redis, "ratelimit:desk-login:name", LOGIN_TRIES_PER_NAME, LOGIN_WINDOW_SECONDS
    )
    per_address = RateLimit(
        redis, "ratelimit:desk-login:ip", LOGIN_TRIES_PER_ADDRESS, LOGIN_WINDOW_SECONDS
    )
    address = request.client.host if request.client else "?"
    name = body.username.lower()
    if not (await per_name.hit(name) and await per_address.hit(address)):
        raise HTTPException(429, TOO_MANY_TRIES)
    volunteer = await in_db(lambda session: _login_target(session, name))
    stored = volunteer[1] if volunteer else DUMMY_HASH
    if not verify_password(body.password, stored) or volunteer is None:
        raise HTTPException(401, WRONG_LOGIN)
    token, csrf = await _sessions(request).create(volunteer[0])
    response.set_cookie(
        COOKIE,
        token,
        max_age=SESSION_SECONDS,
        httponly=True,
        secure=True,
        samesite="strict",
        path="/desk",
    )
    return await in_db(lambda session: _me(session, DeskUser(volunteer[0], csrf)))


def _login_target(session: Session, name: str) -> tuple[int, str | None] | None:
    volunteer = volunteer_by_username(session=session, username=name)
    return (volunteer.id, volunteer.password_hash) if volunteer else None


@desk.post("/desk/api/logout", status_code=204)
async def logout(
    request: Request, response: Response, _: Annotated[DeskUser, Depends(checked)]
) -> None:
    await _sessions(request).drop(request.cookies.get(COOKIE))
    response.delete_cookie(COOKIE, path="/desk", secure=True, httponly=True, samesite="strict")


@desk.get("/desk/api/me")
async def me(user: Annotated[DeskUser, Depends(signed_in)]) -> dict[str, Any]:
    return await in_db(lambda session: _me(session, user))


@desk.get("/desk/api/tickets")
async def tickets(user: Annotated[DeskUser, Depends(signed_in)]) -> dict[str, Any]:
    def read(session: Session) -> dict[str, Any]:
        communes = communes_of(session=session, volunteer_id=user.volunteer_id)
        rows = active_tickets(session=session, communes=communes)
        views = [TicketView.of(session, t) for t in rows]
        return {"tickets": [ticket_json(v, user.volunteer_id) for v in views]}

    return await in_db(read)


@desk.get("/desk/api/tickets/{ticket_id}")
async def ticket(ticket_id: int, user: Annotated[DeskUser, Depends(signed_in)]) -> dict[str, Any]:
    return await _conversation(ticket_id, user.volunteer_id, 0)


@desk.get("/desk/api/tickets/{ticket_id}/messages")
async def new_messages(
    ticket_id: int, user: Annotated[DeskUser, Depends(signed_in)], after: int = 0
) -> dict[str, Any]:
    return await _conversation(ticket_id, user.volunteer_id, after)


@desk.post("/desk/api/tickets/{ticket_id}/claim")
async def claim(
    ticket_id: int, request: Request, user: Annotated[DeskUser, Depends(checked)]
) -> dict[str, Any]:
    try:
        result = await _handoff(request).claim(ticket_id, user.volunteer_id)
    except (LookupError, NotYourCommune) as exc:
        raise HTTPException(404, NOT_FOUND) from exc
    if not result.claimed:
        who = result.ticket.claimer_name or "người khác"
        raise HTTPException(409, f"Yêu cầu này đã có {who} nhận.")
    return {"ticket": ticket_json(result.ticket, user.volunteer_id)}


@desk.post("/desk/api/tickets/{ticket_id}/messages", status_code=201)
async def reply(
    ticket_id: int, body: Reply, request: Request, user: Annotated[DeskUser, Depends(checked)]
) -> dict[str, Any]:
    try:
        stored = await _handoff(request).volunteer_wrote(ticket_id, user.volunteer_id, body.text)
    except (LookupError, NotYourCommune) as exc:
        raise HTTPException(404, NOT_FOUND) from exc
    except NotTheClaimer as exc:
        raise HTTPException(409, NOT_YOURS) from exc
    except Unreachable as exc:  # kept in the conversation, not delivered: say why
        raise HTTPException(409, str(exc)) from exc
    return {"message": message_json(stored)}


@desk.post("/desk/api/tickets/{ticket_id}/close")
async def close(
    ticket_id: int, body: Close, request: Request, user: Annotated[DeskUser, Depends(checked)]
) -> dict[str, Any]:
    try:
        closed = await _handoff(request).close(
            ticket_id, user.volunteer_id, returned_to_bot=body.outcome == "bot"
        )
    except (LookupError, NotYourCommune) as exc:
        raise HTTPException(404, NOT_FOUND) from exc
    except NotTheClaimer as exc:
        raise HTTPException(409, NOT_YOURS) from exc
    return {"ticket": ticket_json(closed, user.volunteer_id)}
