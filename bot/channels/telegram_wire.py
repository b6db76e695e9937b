"""Converting between Telegram's messages and ours: a turn's bubbles joined into as few
messages as fit Telegram's 4096 characters (bot/channels/bubbles.py), inline keyboards, files
passed on by Telegram file id; and the outbox transport that makes one Bot API call per
queued piece."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.error import (
    BadRequest,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)

from bot.channels.bubbles import join, size, split_text
from bot.messages import Attachment, Button, OutboundMessage
from bot.outbox import Blocked, Envelope, Outbox, Refused, RetryLater
from core.models import MessageKind

if TYPE_CHECKING:
    from telegram import Bot

CHANNEL = "telegram"
MAX_TEXT = 4096
MAX_CAPTION = 1024


def keyboard(buttons: Sequence[Button]) -> InlineKeyboardMarkup | None:
    if not buttons:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.title, callback_data=b.payload)] for b in buttons]
    )


def attachment_of(message: Message) -> Attachment | None:
    """The file or place in a Telegram message, by file id."""
    if message.photo:
        return Attachment(MessageKind.PHOTO, f"{CHANNEL}:{message.photo[-1].file_id}")
    if message.voice:
        return Attachment(MessageKind.VOICE, f"{CHANNEL}:{message.voice.file_id}")
    if message.document:
        return Attachment(MessageKind.DOCUMENT, f"{CHANNEL}:{message.document.file_id}")
    if message.sticker:
        return Attachment(MessageKind.STICKER, f"{CHANNEL}:{message.sticker.file_id}")
    if message.location:
        return Attachment(
            MessageKind.LOCATION,
            latitude=message.location.latitude,
            longitude=message.location.longitude,
        )
    return None


CAPTIONED = (MessageKind.PHOTO, MessageKind.VOICE, MessageKind.DOCUMENT)


def pieces(message: OutboundMessage) -> list[OutboundMessage]:
    """The message as Telegram API calls, one each: a file with its caption (when it fits) or
    a place or sticker alone, then the text split under 4096 characters (buttons on the last
    piece). Splitting before queueing means a retry never re-sends a piece that went out."""
    attachment, text = message.attachment, message.text.strip()
    out: list[OutboundMessage] = []
    if attachment is not None:
        with_caption = attachment.kind in CAPTIONED and size(text) <= MAX_CAPTION
        if with_caption and not message.buttons:
            return [OutboundMessage(text, attachment=attachment)]
        out.append(OutboundMessage("", attachment=attachment))
    texts = split_text(text, MAX_TEXT)
    out += [
        OutboundMessage(piece, message.buttons if n == len(texts) else ())
        for n, piece in enumerate(texts, start=1)
    ]
    return out


async def send_one(
    bot: Bot, chat_id: int | str, message: OutboundMessage, thread_id: int | None = None
) -> Message | bool:
    """Exactly one Bot API call for one piece (see `pieces`)."""
    attachment = message.attachment
    if attachment is None:
        return await bot.send_message(
            chat_id,
            message.text,
            reply_markup=keyboard(message.buttons),
            message_thread_id=thread_id,
        )
    if attachment.kind == MessageKind.LOCATION:
        return await bot.send_location(
            chat_id, attachment.latitude, attachment.longitude, message_thread_id=thread_id
        )
    file_id = attachment.file_id() if attachment.channel() == CHANNEL else None
    if file_id is None:  # a file from another channel cannot be passed on by id
        return await bot.send_message(
            chat_id, message.text or "[tệp từ kênh khác]", message_thread_id=thread_id
        )
    caption = message.text or None
    kind = MessageKind(attachment.kind)
    if kind == MessageKind.PHOTO:
        return await bot.send_photo(chat_id, file_id, caption=caption, message_thread_id=thread_id)
    if kind == MessageKind.VOICE:
        return await bot.send_voice(chat_id, file_id, caption=caption, message_thread_id=thread_id)
    if kind == MessageKind.DOCUMENT:
        return await bot.send_document(
            chat_id, file_id, caption=caption, message_thread_id=thread_id
        )
    return await bot.send_sticker(chat_id, file_id, message_thread_id=thread_id)


async def queue(
    outbox: Outbox,
    chat: int | str,
    messages: Sequence[OutboundMessage],
    *,
    thread: int | None = None,
    group: bool = False,
) -> None:
    """Put one turn's messages for a Telegram chat (or forum topic) in the outbox: the bubbles
    joined into as few messages as fit, each as its API calls (`pieces`)."""
    for message in join(messages, MAX_TEXT):
        for piece in pieces(message):
            await outbox.put(Envelope(CHANNEL, str(chat), piece, thread=thread, group=group))


def retry_seconds(exc: RetryAfter) -> float:
    """The wait a 429 asks for, in seconds (python-telegram-bot gives int or timedelta)."""
    wait = exc.retry_after
    return wait.total_seconds() if isinstance(wait, timedelta) else float(wait)


class TelegramTransport:
    """The outbox's way to Telegram: one piece per call, errors sorted into retry or refuse."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def deliver(self, envelope: Envelope) -> None:
        try:
            await send_one(self.bot, int(envelope.chat), envelope.message, envelope.thread)
        except RetryAfter as exc:
            raise RetryLater(retry_seconds(exc), "Telegram 429") from exc
        except Forbidden as exc:  # blocked by the user (or removed from a group)
            raise Blocked(str(exc)) from exc
        except (BadRequest, InvalidToken) as exc:
            raise Refused(str(exc)) from exc
        except (TimedOut, NetworkError) as exc:  # 5xx and connection trouble
            raise RetryLater(None, f"Telegram: {exc}") from exc
