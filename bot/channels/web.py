"""The web chat channel: `POST /api/chat` (used by the page at `/` and by API clients),
`POST /api/chat/photo` (the page's photo button: a screenshot read in memory, never stored,
answered like a message) and `GET /api/chat/updates`.

Residents are known by a token the server issues (bot/channels/web_identity.py): a request
without `sender` and without the chat cookie starts a new resident; the token comes back as
`sender` and as an HttpOnly cookie, either of which identifies the resident afterwards. Limits:
messages per resident and per client address, and new residents per address, so that rotating
identities does not lift the limits. When Redis or the database cannot be reached the resident
is asked, politely and in the usual shape, to send again later (503).
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, StringConstraints
from redis.asyncio import Redis

from bot.channels.web_identity import Identity, WebIdentities
from bot.channels.web_mailbox import WebMailbox
from bot.channels.web_photo import BadForm, image_kind, parse_form
from bot.messages import Attachment, Button, InboundMessage, OutboundMessage
from bot.rasa_client import RasaUnavailable
from bot.router import Router
from bot.screens import HUMAN_BUTTON, NOT_A_SCREEN_REPLY
from bot.screens import TOO_LARGE_REPLY as TOO_LARGE_PHOTO_REPLY
from core.models import MessageKind
from core.outages import STORAGE_OUTAGES
from core.ratelimit import RateLimit
from core.screens import MAX_IMAGE_BYTES
from core.settings import Settings

log = logging.getLogger(__name__)

CHANNEL = "web"
MAX_TEXT = 2000
COOKIE = "cns_chat"
COOKIE_PATH = "/api/chat"  # also covers /api/chat/updates
TOKEN_HEADER = "X-Chat-Token"
HOUR = 3600

EMPTY_TEXT_REPLY = "Dạ, anh/chị chưa nhập nội dung. Anh/chị cần em hỗ trợ việc gì ạ?"
RASA_DOWN_REPLY = (
    "Dạ, hệ thống đang bận, em chưa trả lời được ngay. Anh/chị vui lòng thử lại sau ít phút ạ."
)
STORAGE_DOWN_REPLY = (
    "Dạ, hệ thống đang gặp sự cố nên em chưa nhận được tin nhắn này. "
    "Anh/chị vui lòng gửi lại sau ít phút ạ."
)
TOO_FAST_REPLY = "Dạ, anh/chị gửi hơi nhanh ạ. Anh/chị đợi một chút rồi gửi tiếp giúp em nhé."
TOO_MANY_NEW_REPLY = (
    "Dạ, có nhiều cuộc trò chuyện mới từ cùng một mạng quá ạ. "
    "Anh/chị vui lòng thử lại sau ít phút giúp em nhé."
)
NO_PHOTO_REPLY = (
    "Dạ, em chưa nhận được ảnh nào ạ. Anh/chị bấm nút chụp/gửi ảnh rồi chọn lại ảnh giúp em nhé."
)
UNKNOWN_SENDER_REPLY = (
    "Dạ, em không nhận ra cuộc trò chuyện này ạ. "
    "Anh/chị tải lại trang để bắt đầu cuộc trò chuyện mới giúp em nhé."
)


class ButtonOut(BaseModel):
    title: str
    payload: str


class MessageOut(BaseModel):
    text: str
    buttons: list[ButtonOut] = Field(default_factory=list)


class ChatRequest(BaseModel):
    sender: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]
        | None
    ) = None
    text: Annotated[str, StringConstraints(max_length=MAX_TEXT)]


class ChatResponse(BaseModel):
    sender: str
    messages: list[MessageOut]


class Refused(Exception):
    """The request is answered with this polite notice instead."""

    def __init__(self, status: int, text: str, buttons: tuple[Button, ...] = ()) -> None:
        super().__init__(text)
        self.status = status
        self.text = text
        self.buttons = buttons


@dataclass(frozen=True)
class WebLimits:
    per_resident: RateLimit
    per_address: RateLimit
    new_residents: RateLimit  # per address

    @classmethod
    def of(cls, redis: Redis, settings: Settings) -> WebLimits:
        """The limits of `settings`, made once when the gateway starts (app.state.web_limits)."""
        return cls(
            per_resident=RateLimit(redis, "ratelimit:chat", settings.chat_rate_limit_per_minute),
            per_address=RateLimit(
                redis, "ratelimit:chat-address", settings.chat_rate_limit_per_address_per_minute
            ),
            new_residents=RateLimit(
                redis, "ratelimit:chat-new", settings.chat_new_residents_per_address_per_hour, HOUR
            ),
        )


@lru_cache(maxsize=4)
def _identities_for(secret: str) -> WebIdentities:
    return WebIdentities.from_secret(secret)


def _identities(request: Request) -> WebIdentities:
    settings: Settings = request.app.state.settings
    return _identities_for(settings.pseudonym_key.get_secret_value())


def _address(request: Request) -> str:
    """The client address the limits count by; an IPv6 client by its /64, which one
    household (or one attacker) gets whole."""
    host = request.client.host if request.client else "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def _messages(*messages: OutboundMessage) -> list[dict[str, Any]]:
    return [
        MessageOut(
            text=m.text,
            buttons=[ButtonOut(title=b.title, payload=b.payload) for b in m.buttons],
        ).model_dump()
        for m in messages
    ]


def _answer(
    request: Request,
    status: int,
    messages: list[OutboundMessage],
    resident: Identity | None = None,
) -> JSONResponse:
    """The usual `{"sender", "messages"}` body; a known resident also gets (or keeps) the
    cookie, HttpOnly and Secure whenever the page came over HTTPS."""
    content: dict[str, Any] = {"messages": _messages(*messages)}
    if resident is None:
        return JSONResponse(status_code=status, content=content)
    response = JSONResponse(
        status_code=status,
        content={"sender": resident.token, **content},
        headers={"Cache-Control": "no-store"},  # it carries a credential
    )
    settings: Settings = request.app.state.settings
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    response.set_cookie(
        COOKIE,
        resident.token,
        max_age=settings.retention_days * 24 * HOUR,
        path=COOKIE_PATH,
        httponly=True,
        secure=request.url.scheme == "https" or forwarded == "https",
        samesite="lax",
    )
    return response


def _notice(
    request: Request, status: int, text: str, resident: Identity | None = None
) -> JSONResponse:
    return _answer(request, status, [OutboundMessage(text)], resident)


async def _resident(request: Request, sender: str | None, limits: WebLimits) -> Identity:
    """The resident of `sender`, else of the cookie, else a new one. Raises Refused for a
    `sender` the server did not issue, and when the address started too many residents."""
    identities = _identities(request)
    token = sender or request.cookies.get(COOKIE)
    identity = identities.verify(token) if token else None
    if identity is not None:
        return identity
    if sender is not None:
        raise Refused(401, UNKNOWN_SENDER_REPLY)
    # A new resident; a cookie that no longer verifies (a new PSEUDONYM_KEY) is replaced.
    if not await limits.new_residents.hit(_address(request)):
        raise Refused(429, TOO_MANY_NEW_REPLY)
    return identities.issue()


api = APIRouter()


@api.post("/api/chat", response_model=ChatResponse, responses={401: {}, 429: {}, 503: {}})
async def chat(body: ChatRequest, request: Request) -> Any:
    """One resident message in, the bot's replies out, in order."""

    def typed(resident: Identity) -> InboundMessage:
        if not body.text.strip():
            raise Refused(200, EMPTY_TEXT_REPLY)
        return InboundMessage(channel=CHANNEL, channel_user_id=resident.user_id, text=body.text)

    return await _turn(request, body.sender, typed)


@api.post(
    "/api/chat/photo",
    response_model=ChatResponse,
    responses={400: {}, 401: {}, 413: {}, 415: {}, 429: {}, 503: {}},
)
async def photo(request: Request) -> Any:
    """A photo from the web chat's photo button (multipart/form-data: `photo`, optionally
    `sender`), answered like a message: the fix of a known error screen
    (bot/screens.py). The image is read in memory and never stored (bot/channels/web_photo.py).
    Too large (413), not a JPEG/PNG/WebP (415) or no photo (400): a polite reply the page
    shows."""
    try:
        form = parse_form(request.headers.get("content-type", ""), await request.body())
    except BadForm as error:
        log.info("Web chat photo: not a form: %s", error)
        return _notice(request, 400, NO_PHOTO_REPLY)

    def uploaded(resident: Identity) -> InboundMessage:
        if not form.photo:
            raise Refused(400, NO_PHOTO_REPLY)
        if len(form.photo) > MAX_IMAGE_BYTES:
            raise Refused(413, TOO_LARGE_PHOTO_REPLY)
        if image_kind(form.photo) is None:
            raise Refused(415, NOT_A_SCREEN_REPLY, (HUMAN_BUTTON,))
        return InboundMessage(
            channel=CHANNEL,
            channel_user_id=resident.user_id,
            text="",
            attachment=Attachment(MessageKind.PHOTO),
            image=form.photo,
        )

    return await _turn(request, form.fields.get("sender") or None, uploaded)


async def _turn(
    request: Request, sender: str | None, message_of: Callable[[Identity], InboundMessage]
) -> JSONResponse:
    """One turn of a web resident: the limits, their identity, their message (`message_of`
    may refuse it), the router; the replies in the usual shape, or a polite refusal."""
    router: Router = request.app.state.router
    limits: WebLimits = request.app.state.web_limits
    resident: Identity | None = None
    try:
        if not await limits.per_address.hit(_address(request)):
            return _notice(request, 429, TOO_FAST_REPLY)
        resident = await _resident(request, sender, limits)
        message = message_of(resident)
        if not await limits.per_resident.hit(resident.user_id):
            return _notice(request, 429, TOO_FAST_REPLY, resident)
        replies = await router.handle(message)
    except Refused as refused:
        reply = OutboundMessage(refused.text, refused.buttons)
        return _answer(request, refused.status, [reply], resident)
    except RasaUnavailable as exc:
        log.error("Rasa unavailable: %s", exc)
        return _notice(request, 503, RASA_DOWN_REPLY, resident)
    except STORAGE_OUTAGES as exc:
        log.error("Web chat: storage unavailable: %s: %s", type(exc).__name__, exc)
        return _notice(request, 503, STORAGE_DOWN_REPLY, resident)
    return _answer(request, 200, replies, resident)


class UpdatesResponse(BaseModel):
    messages: list[MessageOut]
    last: int


@api.get("/api/chat/updates", response_model=UpdatesResponse, responses={401: {}, 503: {}})
async def updates(request: Request, after: int = 0) -> Any:
    """Messages that came outside a request (a volunteer's replies, the bot resuming after a
    handoff), numbered; the page asks every few seconds with the last number it has. The
    resident is the one of the `X-Chat-Token` header, else of the cookie."""
    mailbox: WebMailbox = request.app.state.mailbox
    token = request.headers.get(TOKEN_HEADER) or request.cookies.get(COOKIE)
    resident = _identities(request).verify(token) if token else None
    if resident is None:
        return _notice(request, 401, UNKNOWN_SENDER_REPLY)
    try:
        items = await mailbox.fetch(resident.user_id, after)
    except STORAGE_OUTAGES as exc:
        log.error("Web chat updates: storage unavailable: %s: %s", type(exc).__name__, exc)
        return _notice(request, 503, STORAGE_DOWN_REPLY)
    last = max([after, *(int(i["id"]) for i in items)])  # type: ignore[call-overload]
    messages = [MessageOut.model_validate(i) for i in items]
    return UpdatesResponse(messages=messages, last=last)
