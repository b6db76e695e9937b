"""Converting between Telegram's messages and ours: inline keyboards, text split under
Telegram's 4096-character limit at sentence ends, files passed on by Telegram file id."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot.messages import Attachment, Button, OutboundMessage
from core.models import MessageKind

if TYPE_CHECKING:
    from telegram import Bot

CHANNEL = "telegram"
MAX_TEXT = 4096
MAX_CAPTION = 1024
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\n+")


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Pieces of at most `limit` characters, cut after a sentence or line where possible."""
    pieces: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        window = rest[:limit]
        cuts = [m.end() for m in _SENTENCE_END.finditer(window)]
        cut = cuts[-1] if cuts else window.rfind(" ") + 1 or limit
        pieces.append(rest[:cut].strip())
        rest = rest[cut:].strip()
    return [*pieces, rest] if rest else pieces


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


async def send_to_chat(
    bot: Bot,
    chat_id: int | str,
    message: OutboundMessage,
    thread_id: int | None = None,
) -> Message | None:
    """One outbound message: its file (by Telegram file id) or place, then its text."""
    attachment = message.attachment
    file_id = attachment.file_id() if attachment and attachment.channel() == CHANNEL else None
    caption = message.text[:MAX_CAPTION] or None
    if attachment is not None and attachment.kind == MessageKind.LOCATION:
        await bot.send_location(
            chat_id, attachment.latitude, attachment.longitude, message_thread_id=thread_id
        )
    elif attachment is not None and file_id and attachment.kind == MessageKind.PHOTO:
        return await bot.send_photo(chat_id, file_id, caption=caption, message_thread_id=thread_id)
    elif attachment is not None and file_id and attachment.kind == MessageKind.VOICE:
        return await bot.send_voice(chat_id, file_id, caption=caption, message_thread_id=thread_id)
    elif attachment is not None and file_id and attachment.kind == MessageKind.DOCUMENT:
        return await bot.send_document(
            chat_id, file_id, caption=caption, message_thread_id=thread_id
        )
    elif attachment is not None and file_id and attachment.kind == MessageKind.STICKER:
        await bot.send_sticker(chat_id, file_id, message_thread_id=thread_id)
    if not message.text:
        return None
    last: Message | None = None
    pieces = split_text(message.text)
    for number, piece in enumerate(pieces, start=1):
        markup = keyboard(message.buttons) if number == len(pieces) else None
        last = await bot.send_message(
            chat_id, piece, reply_markup=markup, message_thread_id=thread_id
        )
    return last
