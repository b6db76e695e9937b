"""The web chat channel: `POST /api/chat` (used by the page at `/` and by API clients)."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, StringConstraints

from bot.channels.web_mailbox import WebMailbox
from bot.messages import InboundMessage, OutboundMessage
from bot.rasa_client import RasaUnavailable
from bot.router import Router
from core.ratelimit import RateLimit

log = logging.getLogger(__name__)

CHANNEL = "web"
MAX_TEXT = 2000

EMPTY_TEXT_REPLY = "Dạ, anh/chị chưa nhập nội dung. Anh/chị cần em hỗ trợ việc gì ạ?"
RASA_DOWN_REPLY = (
    "Dạ, hệ thống đang bận, em chưa trả lời được ngay. Anh/chị vui lòng thử lại sau ít phút ạ."
)
TOO_FAST_REPLY = "Dạ, anh/chị gửi hơi nhanh ạ. Anh/chị đợi một chút rồi gửi tiếp giúp em nhé."


class ButtonOut(BaseModel):
    title: str
    payload: str


class MessageOut(BaseModel):
    text: str
    buttons: list[ButtonOut] = Field(default_factory=list)


class ChatRequest(BaseModel):
    sender: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]
    text: Annotated[str, StringConstraints(max_length=MAX_TEXT)]


class ChatResponse(BaseModel):
    messages: list[MessageOut]


def _reply(*messages: OutboundMessage) -> ChatResponse:
    return ChatResponse(
        messages=[
            MessageOut(
                text=m.text,
                buttons=[ButtonOut(title=b.title, payload=b.payload) for b in m.buttons],
            )
            for m in messages
        ]
    )


def _notice(status: int, text: str) -> JSONResponse:
    return JSONResponse(status_code=status, content=_reply(OutboundMessage(text)).model_dump())


api = APIRouter()


@api.post("/api/chat", response_model=ChatResponse, responses={429: {}, 503: {}})
async def chat(body: ChatRequest, request: Request) -> Any:
    """One resident message in, the bot's replies out, in order."""
    router: Router = request.app.state.router
    limiter: RateLimit = request.app.state.chat_rate_limit
    if not body.text.strip():
        return _reply(OutboundMessage(EMPTY_TEXT_REPLY))
    if not await limiter.hit(body.sender):
        return _notice(429, TOO_FAST_REPLY)
    message = InboundMessage(channel=CHANNEL, channel_user_id=body.sender, text=body.text)
    try:
        replies = await router.handle(message)
    except RasaUnavailable as exc:
        log.error("Rasa unavailable: %s", exc)
        return _notice(503, RASA_DOWN_REPLY)
    return _reply(*replies)


class UpdatesResponse(BaseModel):
    messages: list[MessageOut]
    last: int


@api.get("/api/chat/updates", response_model=UpdatesResponse)
async def updates(
    request: Request,
    sender: Annotated[str, StringConstraints(min_length=1, max_length=128)],
    after: int = 0,
) -> Any:
    """Messages that came outside a request (a volunteer's replies, the bot resuming after a
    handoff), numbered; the page asks every few seconds with the last number it has."""
    mailbox: WebMailbox = request.app.state.mailbox
    items = await mailbox.fetch(sender, after)
    last = max([after, *(int(i["id"]) for i in items)])  # type: ignore[call-overload]
    messages = [MessageOut.model_validate(i) for i in items]
    return UpdatesResponse(messages=messages, last=last)
