"""The Telegram channel (python-telegram-bot 22): residents in private chats, and the
volunteer desk in forum groups (bot/desk/telegram.py), on one bot.

Every Bot API call and file download goes through TELEGRAM_API_BASE_URL. Buttons become inline
keyboards whose callback data is the button's payload (payloads are kept under Telegram's
64 bytes by the actions); every callback query is answered. Photos, voice notes, documents,
stickers and locations are passed on by Telegram file id (never stored as bytes); a resident's
photo is downloaded only to be read in memory (bot/screens.py).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from fastapi import APIRouter, Request, Response
from redis.asyncio import Redis
from telegram import Update
from telegram.error import NetworkError, TimedOut
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.channels.telegram_wire import CHANNEL, TelegramTransport, attachment_of, queue
from bot.desk.handoff import Handoff
from bot.desk.telegram import TelegramDesk
from bot.inbox import Inbox, Payload
from bot.messages import Attachment, InboundMessage, OutboundMessage, storable_json
from bot.outbox import Outbox
from bot.screens import Fetch, within_limit
from bot.tasks import Tasks
from core.outages import is_outage
from core.settings import Settings

if TYPE_CHECKING:
    from telegram import Bot

    from bot.router import Router

log = logging.getLogger(__name__)

POLL_SECONDS = 10
POLL_RETRY_FIRST, POLL_RETRY_MAX = 0.5, 5.0
MAX_UPDATE_ID = 2**63 - 1
COMMANDS = {"start": "/greet", "menu": "/greet", "help": "/ask_capabilities"}


class TelegramSender:
    """Sends to a resident's private chat through the outbox (the ChannelSender of Telegram)."""

    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox

    async def send(self, channel_user_id: str, messages: Sequence[OutboundMessage]) -> None:
        await queue(self.outbox, channel_user_id, messages)


class ResidentChat:
    """Private chats: every message and button press goes through the router."""

    def __init__(self, router: Router, outbox: Outbox) -> None:
        self.router = router
        self.outbox = outbox

    async def on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None or update.effective_chat is None:
            return
        text = message.text or message.caption or ""
        await self._handle(update, context, text, attachment_of(message))

    async def on_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        command = (message.text or "").split()[0].lstrip("/").split("@")[0] if message else ""
        await self._handle(update, context, COMMANDS.get(command, "/greet"), None)

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None:
            return
        await query.answer()
        await self._handle(update, context, query.data or "", None)

    async def _handle(
        self,
        update: Update,
        context: ContextTypes.DEFAULT_TYPE,
        text: str,
        attachment: Attachment | None,
    ) -> None:
        chat = update.effective_chat
        if chat is None:
            return
        inbound = InboundMessage(
            channel=CHANNEL,
            channel_user_id=str(chat.id),
            text=text,
            message_id=str(update.update_id),
            attachment=attachment,
        )
        await queue(self.outbox, chat.id, await self.router.answer(inbound))


def photo_fetcher(bot: Bot) -> Fetch:
    """A resident's photo by file id: getFile, then the download (both through
    TELEGRAM_API_BASE_URL), in memory only; None when Telegram says it is too large."""

    async def fetch(file_id: str) -> bytes | None:
        file = await bot.get_file(file_id)
        if not within_limit(file.file_size):
            return None
        return bytes(await file.download_as_bytearray())

    return fetch


def build_application(settings: Settings) -> Application:  # type: ignore[type-arg]
    assert settings.telegram_bot_token is not None
    base = settings.telegram_api_base_url
    return (
        ApplicationBuilder()
        .token(settings.telegram_bot_token.get_secret_value())
        .base_url(f"{base}/bot")
        .base_file_url(f"{base}/file/bot")
        .build()
    )


def add_handlers(application: Application, resident: ResidentChat, desk: TelegramDesk) -> None:  # type: ignore[type-arg]
    private = filters.ChatType.PRIVATE
    groups = filters.ChatType.GROUPS
    application.add_handler(CommandHandler("dangky", desk.on_register, filters=private))
    application.add_handler(CommandHandler(list(COMMANDS), resident.on_command, filters=private))
    application.add_handler(CallbackQueryHandler(desk.on_button, pattern=desk.BUTTON_PATTERN))
    application.add_handler(CallbackQueryHandler(resident.on_button))
    application.add_handler(MessageHandler(groups & ~filters.COMMAND, desk.on_message))
    application.add_handler(MessageHandler(private & ~filters.COMMAND, resident.on_message))


def chat_of(payload: Payload) -> str:
    """The conversation an update belongs to (its order is kept); "" when it names none."""
    for kind in ("message", "edited_message", "callback_query", "my_chat_member"):
        item = payload.get(kind)
        if isinstance(item, dict):
            inner = item.get("message")
            inner_chat = inner.get("chat") if isinstance(inner, dict) else None
            chat = item.get("chat") or inner_chat or item.get("from")
            if isinstance(chat, dict):
                return str(chat.get("id"))
    return ""


async def poll(bot: Bot, inbox: Inbox) -> None:
    """Long polling that confirms an update (the next offset) only after it is stored. When
    the database or Redis cannot store it, the same updates are asked for again after a pause
    (Telegram keeps them); one that can never be stored is logged and skipped."""
    offset: int | None = None
    pause = POLL_RETRY_FIRST
    while True:
        try:
            updates = await bot.get_updates(
                offset=offset, timeout=POLL_SECONDS, allowed_updates=Update.ALL_TYPES
            )
            for update in updates:
                try:
                    payload = storable_json(json.dumps(update.to_dict()).encode())
                    await inbox.accept(str(update.update_id), payload)
                except Exception as exc:
                    if is_outage(exc):
                        raise
                    log.error("Telegram update %s cannot be stored: %r", update.update_id, exc)
                offset = update.update_id + 1
            pause = POLL_RETRY_FIRST
        except (TimedOut, NetworkError) as exc:
            log.warning("Telegram polling: %s", exc)
            await asyncio.sleep(1)
        except Exception as exc:
            log.error("Telegram polling: %r; asking again in %.1fs", exc, pause)
            await asyncio.sleep(pause)
            pause = min(POLL_RETRY_MAX, pause * 2)


@dataclass
class TelegramRunning:
    application: Application  # type: ignore[type-arg]
    inbox: Inbox


@asynccontextmanager
async def telegram_running(
    router: Router,
    handoff: Handoff,
    outbox: Outbox,
    redis: Redis,
    settings: Settings,
    tasks: Tasks,
) -> AsyncIterator[TelegramRunning]:
    """Start the bot for the app's life: its outbox sender, its inbox, and polling (or, with
    TELEGRAM_MODE=webhook, the webhook registration; updates then arrive at
    /webhooks/telegram), each a supervised task of `tasks` (the app stops them)."""
    application = build_application(settings)
    bot = application.bot
    desk = TelegramDesk(bot, handoff, outbox, settings.telegram_desk_chat_id)
    add_handlers(application, ResidentChat(router, outbox), desk)
    handoff.senders[CHANNEL] = TelegramSender(outbox)
    if router.screens is not None:
        router.screens.fetchers[CHANNEL] = photo_fetcher(bot)
    handoff.notifiers.append(desk)
    await application.initialize()

    # python-telegram-bot hands a handler's exception to the error handlers instead of raising
    # it: kept here, it is raised to the inbox, which retries the update during an outage.
    failures: dict[int, BaseException] = {}

    async def failed(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        if isinstance(update, Update) and context.error is not None:
            failures[update.update_id] = context.error

    application.add_error_handler(failed)

    async def process(payload: Payload) -> None:
        update = Update.de_json(payload, bot)
        if update is not None:
            await application.process_update(update)
            if (error := failures.pop(update.update_id, None)) is not None:
                raise error

    inbox = Inbox(redis, CHANNEL, process, chat_of, outbox)
    transport = TelegramTransport(bot)
    tasks.spawn("telegram-outbox", lambda: outbox.run(CHANNEL, transport))
    inbox.spawn(tasks)
    if settings.telegram_mode == "polling":
        await bot.delete_webhook()
        tasks.spawn("telegram-polling", lambda: poll(bot, inbox))
    else:
        secret = settings.telegram_webhook_secret
        await bot.set_webhook(
            f"{settings.telegram_webhook_url}",
            secret_token=secret.get_secret_value() if secret else None,
            allowed_updates=Update.ALL_TYPES,
        )
    try:
        yield TelegramRunning(application, inbox)
    finally:
        await application.shutdown()


webhook = APIRouter()

# The part of Telegram's Update the gateway reads (documented for API clients and fuzzing).
_CHAT = {
    "type": "object",
    "required": ["id", "type"],
    "properties": {"id": {"type": "integer"}, "type": {"type": "string"}},
}
_MESSAGE = {
    "type": "object",
    "required": ["message_id", "date", "chat"],
    "properties": {
        "message_id": {"type": "integer"},
        "date": {"type": "integer"},
        "chat": _CHAT,
        "from": {"type": "object", "properties": {"id": {"type": "integer"}}},
        "text": {"type": "string"},
    },
}
UPDATE_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["update_id"],
                "properties": {
                    "update_id": {"type": "integer"},
                    "message": _MESSAGE,
                    "callback_query": {
                        "type": "object",
                        "required": ["id", "from"],
                        "properties": {
                            "id": {"type": "string"},
                            "from": {"type": "object", "properties": {"id": {"type": "integer"}}},
                            "message": _MESSAGE,
                            "data": {"type": "string"},
                        },
                    },
                },
            }
        }
    },
}


@webhook.post(
    "/webhooks/telegram",
    response_class=Response,
    openapi_extra={"requestBody": UPDATE_BODY},
    responses={
        200: {"description": "Stored (or seen before); processed afterwards"},
        400: {"description": "Not an update"},
        403: {"description": "Wrong or missing X-Telegram-Bot-Api-Secret-Token"},
        404: {"description": "Telegram is not in webhook mode here"},
    },
)
async def receive(request: Request) -> Response:
    """Telegram's webhook: the secret token is checked in constant time (403 otherwise); the
    update is stored before the 200 that acknowledges it; a retried update is not redone."""
    settings: Settings = request.app.state.settings
    running: TelegramRunning | None = getattr(request.app.state, "telegram", None)
    expected = settings.telegram_webhook_secret
    sent = request.headers.get("x-telegram-bot-api-secret-token", "")
    if running is None or expected is None:
        return Response(status_code=404)
    if not hmac.compare_digest(sent.encode(), expected.get_secret_value().encode()):
        return Response(status_code=403)
    try:
        payload = storable_json(await request.body())
        update_id = payload["update_id"]
    except (ValueError, KeyError, TypeError, RecursionError):
        return Response(status_code=400)
    if type(update_id) is not int or not 0 <= update_id <= MAX_UPDATE_ID:
        return Response(status_code=400)
    key = str(update_id)
    await running.inbox.accept(key, payload)
    return Response(status_code=200)
