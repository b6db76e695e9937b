"""The Zalo Official Account channel.

`POST /webhooks/zalo` checks `X-ZEvent-Signature` (`mac=` + SHA-256 hex of app id + raw body +
timestamp + OA secret key, compared in constant time; 403 otherwise), stores the event in the
inbox (deduplicated by `msg_id`) and answers 200 at once; the event is processed afterwards.
Delivery and seen receipts and the OA's own echoes are acknowledged and ignored. Replies go
through the outbox as consultation messages (`/v3.0/oa/message/cs`): a turn's bubbles joined
into as few messages as fit Zalo's 2,000 characters (bot/channels/bubbles.py), buttons as an
`oa.query.show` template of at most 5 (more follow in messages of their own; a tap comes back
as user_send_text with the payload). An invalid access token (-216) is refreshed once and the
new single-use refresh token stored in the database before anything else happens.

Free replies: a consultation message is free for 48 hours after the resident's last message,
at most 8 of them (the count resets when the resident writes). `ZaloWindow` tracks that per
resident; a volunteer's message that would fall outside it is not sent, and the volunteer is
told why (`Unreachable`), instead of the OA silently paying or failing.

A photo (user_send_image) is fetched from its address on Zalo's CDN to be read, only from the
hosts of ZALO_MEDIA_HOSTS (bot/channels/zalo_photos.py).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import re
import secrets
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import TYPE_CHECKING, Any

import httpx
from fastapi import APIRouter, Request, Response
from redis.asyncio import Redis

from bot.channels.bubbles import join
from bot.channels.zalo_photos import media_hosts, photo_fetcher
from bot.desk.handoff import Handoff, Unreachable
from bot.inbox import Inbox, Payload
from bot.messages import Attachment, InboundMessage, OutboundMessage, storable_json
from bot.outbox import Blocked, Envelope, Outbox, Refused, RetryLater
from bot.tasks import Tasks
from core.db import in_db
from core.models import ChannelToken, MessageKind, utcnow
from core.repositories.subscriptions import Unsubscribed, unsubscribe
from core.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from bot.router import Router


CHANNEL = "zalo"
MAX_TEXT = 2000
MAX_BUTTONS = 5
MAX_BUTTON_TITLE = 100
MORE_BUTTONS = "Hoặc anh/chị chọn:"
FREE_WINDOW = timedelta(hours=48)
FREE_REPLIES = 8
INVALID_TOKEN = (-216, -220)
RATE_LIMITED = -32
NOT_FOLLOWING = -213  # the user unfollowed the OA
REFRESH_WAIT_SECONDS = 30
IGNORED_EVENTS = ("user_received_message", "user_seen_message")
_TIMESTAMP = re.compile(rb'"timestamp"\s*:\s*"?([0-9]{1,20})"?')
MAX_TIMESTAMPS = 4
EVENT_OBJECTS = ("sender", "follower", "message")  # read as objects when present
MAX_KEY = 128
ATTACHMENT_KINDS = {
    "user_send_image": MessageKind.PHOTO,
    "user_send_gif": MessageKind.PHOTO,
    "user_send_file": MessageKind.DOCUMENT,
    "user_send_audio": MessageKind.VOICE,
    "user_send_sticker": MessageKind.STICKER,
    "user_send_location": MessageKind.LOCATION,
}
OUTSIDE_WINDOW = (
    "Tin chưa gửi: đã quá 48 giờ từ tin nhắn cuối của người dân, Zalo không cho OA nhắn miễn "
    "phí nữa. Chờ người dân nhắn lại, hoặc gọi điện cho họ."
)
OUT_OF_REPLIES = (
    "Tin chưa gửi: đã dùng hết 8 tin trả lời miễn phí kể từ tin cuối của người dân. "
    "Nhờ người dân nhắn lại một câu để mở thêm lượt."
)


def signature_ok(settings: Settings, body: bytes, timestamp: str, header: str) -> bool:
    """Zalo's webhook signature: plain SHA-256 over app id + raw body + timestamp + OA key."""
    secret = settings.zalo_oa_secret_key
    if not settings.zalo_app_id or secret is None:
        return False
    material = settings.zalo_app_id.encode() + body + timestamp.encode()
    expected = hashlib.sha256(material + secret.get_secret_value().encode()).hexdigest()
    given = header.strip().removeprefix("mac=").strip()
    return hmac.compare_digest(expected.encode(), given.encode())


def sender_of(payload: Payload) -> str:
    holder = payload.get("follower") or payload.get("sender") or {}
    return str(holder.get("id") or "")


def inbound_of(payload: Payload) -> InboundMessage | None:
    """Our message for a resident's event; None for events that say nothing (unfollow)."""
    event = str(payload.get("event_name") or "")
    user = sender_of(payload)
    message = payload.get("message") or {}
    text = str(message.get("text") or "")
    if event == "follow":
        return InboundMessage(CHANNEL, user, "/greet")
    if event == "user_send_text":
        return InboundMessage(CHANNEL, user, text, message_id=message.get("msg_id"))
    kind = ATTACHMENT_KINDS.get(event)
    if kind is None:
        return None
    attachments = message.get("attachments") or [{}]
    data = attachments[0].get("payload") or {}
    if kind == MessageKind.LOCATION:
        place = data.get("coordinates") or {}
        attachment = Attachment(
            kind,
            latitude=float(place.get("latitude", 0)),
            longitude=float(place.get("longitude", 0)),
        )
    else:
        attachment = Attachment(kind, f"{CHANNEL}:{data.get('url') or data.get('id') or ''}")
    return InboundMessage(
        CHANNEL, user, text, message_id=message.get("msg_id"), attachment=attachment
    )


def shown(message: OutboundMessage) -> list[OutboundMessage]:
    """One bubble as Zalo can show it: a file from another channel becomes a short note; the
    buttons go 5 to a message, those after the fifth under a short line of their own."""
    text = message.text.strip()
    if message.attachment is not None and message.attachment.channel() != CHANNEL:
        text = (text + "\n[Người hỗ trợ gửi kèm một tệp, Zalo chưa chuyển được.]").strip()
    buttons = message.buttons
    more = [
        OutboundMessage(MORE_BUTTONS, buttons[start : start + MAX_BUTTONS])
        for start in range(MAX_BUTTONS, len(buttons), MAX_BUTTONS)
    ]
    return [OutboundMessage(text, buttons[:MAX_BUTTONS]), *more]


def pieces(messages: Sequence[OutboundMessage]) -> list[OutboundMessage]:
    """A turn's Zalo consultation messages: its bubbles joined into as few as fit."""
    return join([part for message in messages for part in shown(message)], MAX_TEXT)


async def put_pieces(outbox: Outbox, user: str, parts: Sequence[OutboundMessage]) -> None:
    for part in parts:
        await outbox.put(Envelope(CHANNEL, user, part))


def cs_body(envelope: Envelope) -> dict[str, Any]:
    message: dict[str, Any] = {"text": envelope.message.text}
    if envelope.message.buttons:
        buttons = [
            {"title": b.title[:MAX_BUTTON_TITLE], "type": "oa.query.show", "payload": b.payload}
            for b in envelope.message.buttons
        ]
        message["attachment"] = {"type": "template", "payload": {"buttons": buttons}}
    return {"recipient": {"user_id": envelope.chat}, "message": message}


@dataclass
class ZaloTokens:
    """The OA's access token, refreshed on -216 (once per failed token, one replica at a time);
    the new single-use refresh token is written to the database before it is used."""

    settings: Settings
    redis: Redis
    http: httpx.AsyncClient
    current: tuple[str, str] | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def access(self) -> str:
        if self.current is None:
            self.current = await in_db(self._load)
        return self.current[0]

    def _load(self, session: Session) -> tuple[str, str]:
        row = session.get(ChannelToken, CHANNEL)
        if row is not None:
            return row.access_token, row.refresh_token
        access, refresh = self.settings.zalo_access_token, self.settings.zalo_refresh_token
        return (
            access.get_secret_value() if access else "",
            refresh.get_secret_value() if refresh else "",
        )

    async def refresh(self, failed: str) -> str:
        """A fresh access token, unless another task or replica already replaced `failed`."""
        async with self.lock, self._across_replicas():
            self.current = await in_db(self._load)
            if self.current[0] != failed:
                return self.current[0]
            grant = {"grant_type": "refresh_token", "refresh_token": self.current[1]}
            pair = await request_tokens(self.http, self.settings, grant)
            await in_db(lambda session: store_tokens(session, pair))
            self.current = pair
            return pair[0]

    @asynccontextmanager
    async def _across_replicas(self) -> AsyncIterator[None]:
        """One gateway at a time refreshes (the refresh token works once)."""
        key, token = "zalo:token-refresh", secrets.token_hex(8)
        async with asyncio.timeout(REFRESH_WAIT_SECONDS):
            while not await self.redis.set(key, token, nx=True, ex=REFRESH_WAIT_SECONDS):  # noqa: ASYNC110 - another process holds it
                await asyncio.sleep(0.1)
        try:
            yield
        finally:
            if await self.redis.get(key) == token:
                await self.redis.delete(key)


class TokensRefused(Refused):
    """Zalo's OAuth server gave no tokens; `answer` is what it said instead."""

    def __init__(self, grant_type: str, answer: object) -> None:
        super().__init__(f"Zalo gave no tokens ({grant_type}): {answer}")
        self.answer: dict[str, Any] = answer if isinstance(answer, dict) else {}

    def explained(self) -> str:
        """Zalo's own words: its error description (or name) and code."""
        words = self.answer.get("error_description") or self.answer.get("error_name")
        return f"{words or 'no reason given'} (error {self.answer.get('error', '?')})"


async def request_tokens(
    http: httpx.AsyncClient, settings: Settings, grant: dict[str, str]
) -> tuple[str, str]:
    """The OA's new (access token, refresh token) from `POST /v4/oa/access_token` (the app's
    secret in the `secret_key` header), for a `grant`: its grant_type and that grant's fields
    (refresh_token; or code and code_verifier for the first tokens, `cns zalo connect`)."""
    secret = settings.zalo_app_secret
    response = await http.post(
        f"{settings.zalo_oauth_base_url}/v4/oa/access_token",
        data={"app_id": settings.zalo_app_id or "", **grant},
        headers={"secret_key": secret.get_secret_value() if secret else ""},
    )
    try:
        data = response.json()
    except ValueError:
        data = {"error_description": f"HTTP {response.status_code} without JSON"}
    if not isinstance(data, dict) or "access_token" not in data:
        raise TokensRefused(grant["grant_type"], data)
    return str(data["access_token"]), str(data["refresh_token"])


def store_tokens(session: Session, pair: tuple[str, str]) -> None:
    """The OA's tokens where every gateway reads them (the `channel_tokens` row of Zalo)."""
    row = session.get(ChannelToken, CHANNEL)
    if row is None:
        session.add(ChannelToken(channel=CHANNEL, access_token=pair[0], refresh_token=pair[1]))
    else:
        row.access_token, row.refresh_token, row.updated_at = pair[0], pair[1], utcnow()


@dataclass(frozen=True)
class ZaloWindow:
    """Per resident: when they last wrote and how many replies went out since."""

    redis: Redis

    def _key(self, user: str) -> str:
        return f"zalo:window:{user}"

    async def user_wrote(self, user: str, now: datetime | None = None) -> None:
        moment = (now or utcnow()).timestamp()
        await self.redis.hset(self._key(user), mapping={"last": moment, "replies": 0})
        await self.redis.expire(self._key(user), int(FREE_WINDOW.total_seconds()))

    async def replied(self, user: str) -> None:
        await self.redis.hincrby(self._key(user), "replies", 1)

    async def closed_because(
        self, user: str, needed: int = 1, now: datetime | None = None
    ) -> str | None:
        """Why `needed` more replies cannot go out for free now; None when they can."""
        state = await self.redis.hgetall(self._key(user))
        if not state:
            return OUTSIDE_WINDOW
        last = datetime.fromtimestamp(float(state["last"]), UTC)
        if (now or utcnow()) - last >= FREE_WINDOW:
            return OUTSIDE_WINDOW
        if int(state.get("replies", 0)) + needed > FREE_REPLIES:
            return OUT_OF_REPLIES
        return None


@dataclass
class ZaloTransport:
    """The outbox's way to Zalo: one consultation message per piece."""

    settings: Settings
    tokens: ZaloTokens
    window: ZaloWindow
    http: httpx.AsyncClient

    async def deliver(self, envelope: Envelope) -> None:
        token = await self.tokens.access()
        data = await self._send(envelope, token)
        if data.get("error") in INVALID_TOKEN:
            data = await self._send(envelope, await self.tokens.refresh(token))
        error = int(data.get("error", -1))
        if error == 0:
            await self.window.replied(envelope.chat)
            return
        if error == RATE_LIMITED:
            raise RetryLater(60.0, "Zalo rate limit")
        if error == NOT_FOLLOWING:
            raise Blocked(f"Zalo {error}: {data.get('message')}")
        raise Refused(f"Zalo {error}: {data.get('message')}")

    async def _send(self, envelope: Envelope, token: str) -> dict[str, Any]:
        try:
            response = await self.http.post(
                f"{self.settings.zalo_api_base_url}/v3.0/oa/message/cs",
                json=cs_body(envelope),
                headers={"access_token": token},
            )
        except httpx.HTTPError as exc:
            raise RetryLater(None, f"Zalo: {exc!r}") from exc
        if response.status_code >= 500:
            raise RetryLater(None, f"Zalo HTTP {response.status_code}")
        try:
            data: dict[str, Any] = response.json()
        except ValueError as exc:
            raise RetryLater(None, "Zalo answered without JSON") from exc
        return data


@dataclass(frozen=True)
class ZaloSender:
    """Replies and volunteer messages to a resident on Zalo (the ChannelSender of Zalo)."""

    outbox: Outbox
    window: ZaloWindow

    async def send(self, channel_user_id: str, messages: Sequence[OutboundMessage]) -> None:
        parts = pieces(messages)
        why = await self.window.closed_because(channel_user_id, needed=len(parts))
        if why is not None:
            raise Unreachable(why)
        await put_pieces(self.outbox, channel_user_id, parts)


@dataclass
class ZaloChannel:
    """Zalo's inbox processing: each resident event through the router, replies queued."""

    router: Router
    outbox: Outbox
    window: ZaloWindow
    inbox: Inbox | None = None

    async def process(self, payload: Payload) -> None:
        if payload.get("event_name") == "unfollow":
            await self._unfollowed(sender_of(payload))
            return
        inbound = inbound_of(payload)
        if inbound is None:
            return
        await self.window.user_wrote(inbound.channel_user_id)
        replies = await self.router.answer(inbound)
        await put_pieces(self.outbox, inbound.channel_user_id, pieces(replies))

    async def _unfollowed(self, user: str) -> None:
        """A resident who unfollows the OA gets no more announcements (`unsubscribed`, key
        `unfollowed`)."""
        resident = self.router.resident_id(InboundMessage(CHANNEL, user, ""))
        await in_db(
            lambda session: unsubscribe(
                session=session,
                resident_id=resident,
                channel=CHANNEL,
                why=Unsubscribed.UNFOLLOWED,
            )
        )


webhook = APIRouter()

# The part of a Zalo OA event the gateway reads (documented for API clients and fuzzing).
EVENT_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["event_name", "timestamp"],
                "properties": {
                    "app_id": {"type": "string"},
                    "event_name": {"type": "string"},
                    "timestamp": {"type": "string", "pattern": "^[0-9]{1,20}$"},
                    "sender": {"type": "object", "properties": {"id": {"type": "string"}}},
                    "follower": {"type": "object", "properties": {"id": {"type": "string"}}},
                    "message": {
                        "type": "object",
                        "properties": {"msg_id": {"type": "string"}, "text": {"type": "string"}},
                    },
                },
            }
        }
    },
}


@webhook.post(
    "/webhooks/zalo",
    response_class=Response,
    openapi_extra={"requestBody": EVENT_BODY},
    responses={
        200: {"description": "Stored (or seen before, or ignored); processed afterwards"},
        400: {"description": "Signed, but not an event"},
        403: {"description": "X-ZEvent-Signature does not sign this body"},
        404: {"description": "Zalo is not configured here"},
    },
)
async def receive(request: Request) -> Response:
    """Verify, store, acknowledge; processing happens after the 200.

    The signature covers the raw body and the event's `timestamp`, so the timestamp is found in
    the raw text and the signature checked before anything is parsed: a stranger's body, however
    it is built, gets 403 and costs one hash. A signed body that is no event gets 400."""
    settings: Settings = request.app.state.settings
    channel: ZaloChannel | None = getattr(request.app.state, "zalo", None)
    if channel is None or channel.inbox is None:
        return Response(status_code=404)
    body = await request.body()
    header = request.headers.get("x-zevent-signature", "")
    signed = [t for t in _timestamps(body) if signature_ok(settings, body, t, header)]
    if not signed:
        return Response(status_code=403)
    try:
        payload = storable_json(body)
        timestamp, event = str(payload["timestamp"]), str(payload["event_name"])
    except (ValueError, KeyError, TypeError, RecursionError):
        return Response(status_code=400)
    if timestamp not in signed:  # the signed timestamp must be the event's own
        return Response(status_code=403)
    if not all(isinstance(payload.get(part) or {}, dict) for part in EVENT_OBJECTS):
        return Response(status_code=400)
    if event in IGNORED_EVENTS or event.startswith("oa_send"):
        return Response(status_code=200)
    message = payload.get("message") or {}
    key = str(message.get("msg_id") or f"{event}:{sender_of(payload)}:{timestamp}")
    await channel.inbox.accept(_bounded(key), payload)
    return Response(status_code=200)


def _bounded(key: str) -> str:
    """The event's key as stored (at most 128 characters: longer ones by their hash)."""
    return key if len(key) <= MAX_KEY else hashlib.sha256(key.encode()).hexdigest()


def _timestamps(body: bytes) -> list[str]:
    """The values of `"timestamp"` keys in a raw event (the first few), as Zalo signs them."""
    return [m[1].decode() for m in islice(_TIMESTAMP.finditer(body), MAX_TIMESTAMPS)]


@asynccontextmanager
async def zalo_running(
    router: Router,
    handoff: Handoff,
    outbox: Outbox,
    redis: Redis,
    settings: Settings,
    tasks: Tasks,
) -> AsyncIterator[ZaloChannel]:
    """Zalo's inbox workers and outbox sender for the app's life, as supervised tasks of
    `tasks` (the app stops them)."""
    async with httpx.AsyncClient(timeout=httpx.Timeout(15.0)) as http:
        window = ZaloWindow(redis)
        tokens = ZaloTokens(settings, redis, http)
        channel = ZaloChannel(router, outbox, window)
        channel.inbox = Inbox(redis, CHANNEL, channel.process, sender_of, outbox)
        handoff.senders[CHANNEL] = ZaloSender(outbox, window)
        transport = ZaloTransport(settings, tokens, window, http)
        if router.screens is not None:
            hosts = media_hosts(settings.zalo_media_hosts)
            router.screens.fetchers[CHANNEL] = photo_fetcher(http, hosts)
        tasks.spawn("zalo-outbox", lambda: outbox.run(CHANNEL, transport))
        channel.inbox.spawn(tasks)
        yield channel
