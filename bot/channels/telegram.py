"""The Telegram channel (python-telegram-bot 22): residents in private chats, and the
volunteer desk in forum groups (bot/desk/telegram.py), on one bot.

Every Bot API call and file download goes through TELEGRAM_API_BASE_URL. Buttons become inline
keyboards whose callback data is the button's payload (payloads are kept under Telegram's
64 bytes by the actions); every callback query is answered. Photos, voice notes, documents,
stickers and locations are passed on by Telegram file id (never downloaded or stored as bytes).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from telegram import Update
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
from bot.messages import Attachment, InboundMessage, OutboundMessage
from bot.outbox import Outbox
from bot.rasa_client import RasaUnavailable
from core.settings import Settings

if TYPE_CHECKING:
    from bot.router import Router

log = logging.getLogger(__name__)

COMMANDS = {"start": "/greet", "menu": "/greet", "help": "/ask_capabilities"}
RASA_DOWN_REPLY = "Dạ, hệ thống đang bận, em chưa trả lời được ngay. Bác thử lại sau ít phút ạ."


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
        try:
            replies = await self.router.handle(inbound)
        except RasaUnavailable as exc:
            log.error("Rasa unavailable: %s", exc)
            replies = [OutboundMessage(RASA_DOWN_REPLY)]
        await queue(self.outbox, chat.id, replies)


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


@asynccontextmanager
async def telegram_running(
    router: Router, handoff: Handoff, outbox: Outbox, settings: Settings
) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    """Start the bot (polling, or webhook updates fed by /webhooks/telegram) and its outbox
    sender for the app's life."""
    application = build_application(settings)
    desk = TelegramDesk(application.bot, handoff, outbox, settings.telegram_desk_chat_id)
    add_handlers(application, ResidentChat(router, outbox), desk)
    handoff.senders[CHANNEL] = TelegramSender(outbox)
    handoff.notifiers.append(desk)
    await application.initialize()
    await application.start()
    sender = asyncio.create_task(outbox.run(CHANNEL, TelegramTransport(application.bot)))
    if settings.telegram_mode == "polling" and application.updater is not None:
        await application.bot.delete_webhook()
        await application.updater.start_polling(allowed_updates=Update.ALL_TYPES, timeout=10)
    try:
        yield application
    finally:
        sender.cancel()
        if application.updater is not None and application.updater.running:
            await application.updater.stop()
        await application.stop()
        await application.shutdown()
