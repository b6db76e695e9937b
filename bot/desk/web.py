"""The web desk at `/desk` for volunteers without Telegram (API: /work/notes → README).

Sign-in with per-volunteer credentials (`cns volunteer login`) through bot/web/sessions.py
(scrypt, rate limits, Redis sessions behind a Secure cookie, CSRF token on every change). A
volunteer sees and acts only on tickets of their own communes (team leads also on those without
a commune, the fallback desk's): a ticket of another commune answers 404, exactly like one that
does not exist.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, StringConstraints
from sqlalchemy.orm import Session

from bot.desk.handoff import Handoff, NotTheClaimer, Unreachable
from bot.desk.views import MessageView, TicketView, commune_name
from bot.web.sessions import SIGNED_OUT, SignIn, WebUser, static_page
from core.db import in_db
from core.models import MAX_ID, Ticket, Volunteer
from core.repositories.ticket_messages import messages_of
from core.repositories.tickets import NotYourCommune, active_tickets, may_act
from core.repositories.volunteers import communes_of, serves

NOT_FOUND = "Không tìm thấy yêu cầu này."
NOT_YOURS = "Anh/chị chưa nhận yêu cầu này nên chưa nhắn hoặc đóng được."


# A ticket's number in a path, and a message number to read after: only numbers a row can have.
TicketId = Annotated[int, Path(ge=1, le=MAX_ID)]
After = Annotated[int, Query(ge=0, le=MAX_ID)]


class Reply(BaseModel):
    text: Annotated[
        str,
        StringConstraints(
            strip_whitespace=True, min_length=1, max_length=2000, pattern=r"^[^\x00]*$"
        ),
    ]


class Close(BaseModel):
    outcome: Literal["resolved", "bot"]


DESK = SignIn("desk", Volunteer)


def _handoff(request: Request) -> Handoff:
    handoff: Handoff = request.app.state.handoff
    return handoff


def _me(session: Session, user: WebUser) -> dict[str, Any]:
    volunteer = session.get(Volunteer, user.id)
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
        # The announcement the resident asked about ({"id", "title", "text"}), or null.
        "announcement": ticket.announcement.as_dict() if ticket.announcement else None,
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
    if ticket is None or not may_act(session=session, ticket=ticket, volunteer_id=volunteer_id):
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
desk.include_router(DESK.account_routes(_me))


@desk.get("/desk", include_in_schema=False)
async def page() -> FileResponse:
    return static_page("desk.html")


@desk.get("/desk/api/tickets")
async def tickets(user: Annotated[WebUser, Depends(DESK.signed_in)]) -> dict[str, Any]:
    def read(session: Session) -> dict[str, Any]:
        communes = communes_of(session=session, volunteer_id=user.id)
        unplaced = serves(session=session, volunteer_id=user.id, commune_code=None)  # leads
        rows = active_tickets(session=session, communes=communes, unplaced=unplaced)
        views = [TicketView.of(session, t) for t in rows]
        return {"tickets": [ticket_json(v, user.id) for v in views]}

    return await in_db(read)


@desk.get("/desk/api/tickets/{ticket_id}")
async def ticket(
    ticket_id: TicketId, user: Annotated[WebUser, Depends(DESK.signed_in)]
) -> dict[str, Any]:
    return await _conversation(ticket_id, user.id, 0)


@desk.get("/desk/api/tickets/{ticket_id}/messages")
async def new_messages(
    ticket_id: TicketId, user: Annotated[WebUser, Depends(DESK.signed_in)], after: After = 0
) -> dict[str, Any]:
    return await _conversation(ticket_id, user.id, after)


@desk.post("/desk/api/tickets/{ticket_id}/claim")
async def claim(
    ticket_id: TicketId, request: Request, user: Annotated[WebUser, Depends(DESK.checked)]
) -> dict[str, Any]:
    try:
        result = await _handoff(request).claim(ticket_id, user.id)
    except (LookupError, NotYourCommune) as exc:
        raise HTTPException(404, NOT_FOUND) from exc
    if not result.claimed:
        who = result.ticket.claimer_name or "người khác"
        raise HTTPException(409, f"Yêu cầu này đã có {who} nhận.")
    return {"ticket": ticket_json(result.ticket, user.id)}


@desk.post("/desk/api/tickets/{ticket_id}/messages", status_code=201)
async def reply(
    ticket_id: TicketId,
    body: Reply,
    request: Request,
    user: Annotated[WebUser, Depends(DESK.checked)],
) -> dict[str, Any]:
    try:
        stored = await _handoff(request).volunteer_wrote(ticket_id, user.id, body.text)
    except (LookupError, NotYourCommune) as exc:
        raise HTTPException(404, NOT_FOUND) from exc
    except NotTheClaimer as exc:
        raise HTTPException(409, NOT_YOURS) from exc
    except Unreachable as exc:  # kept in the conversation, not delivered: say why
        raise HTTPException(409, str(exc)) from exc
    return {"message": message_json(stored)}


@desk.post("/desk/api/tickets/{ticket_id}/close")
async def close(
    ticket_id: TicketId,
    body: Close,
    request: Request,
    user: Annotated[WebUser, Depends(DESK.checked)],
) -> dict[str, Any]:
    try:
        closed = await _handoff(request).close(
            ticket_id, user.id, returned_to_bot=body.outcome == "bot"
        )
    except (LookupError, NotYourCommune) as exc:
        raise HTTPException(404, NOT_FOUND) from exc
    except NotTheClaimer as exc:
        raise HTTPException(409, NOT_YOURS) from exc
    return {"ticket": ticket_json(closed, user.id)}
