"""The Telegram forum desk: a topic per ticket in the commune's group (`cns desk link`) or in
TELEGRAM_DESK_CHAT_ID, a card with "Nhận hỗ trợ", relaying inside the topic, and /dangky.

Topic routing lives in our own table (desk_topics), not in python-telegram-bot's
conversation state, which ignores topics. A ticket without a commune (a scam reported before
the resident named theirs) goes to the fallback group, where anyone on the roster may claim
it. Only the volunteer who claimed a ticket is relayed to the resident; a message starting
with // stays in the group.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import RetryAfter
from telegram.ext import ContextTypes

from bot.channels.telegram_wire import CHANNEL, attachment_of, queue, retry_seconds
from bot.desk.handoff import Handoff, NotTheClaimer, Unreachable
from bot.desk.views import MessageView, TicketView, commune_name
from bot.messages import Attachment, InboundMessage, OutboundMessage
from bot.outbox import Outbox
from core.db import in_db
from core.models import MessageKind, TicketState
from core.repositories.desk import linked_chat, save_topic, ticket_in_topic, topic_of
from core.repositories.invites import redeem_invite
from core.repositories.tickets import NotYourCommune
from core.repositories.volunteers import communes_of, leads_of, volunteer_by_telegram

if TYPE_CHECKING:
    from telegram import Bot

log = logging.getLogger(__name__)

CLAIM, RESOLVE, TO_BOT = "c", "r", "b"
DIRECT_ATTEMPTS = 3  # a card refused with 429 is tried again after the wait asked for
NOT_REGISTERED = "Anh/chị chưa có trong danh sách tình nguyện viên. Nhắn riêng cho bot: /dangky MÃ"
OTHER_COMMUNE = "Yêu cầu này thuộc xã khác, anh/chị không nhận được ạ."
TAKEN = "Yêu cầu này đã có {name} nhận."
CLAIMED_OK = "Anh/chị đã nhận yêu cầu #{id}."
ONLY_CLAIMER = "Chỉ người đã nhận yêu cầu mới đóng được ạ."
CLAIMED_NOTE = (
    "✋ {name} đã nhận. Tin nhắn của {name} trong chủ đề này sẽ được chuyển cho người dân; "
    "bắt đầu bằng // để ghi chú nội bộ."
)
CLOSED_NOTE = "Yêu cầu #{id}: {state}."
REMINDER = '⏰ Người dân đã chờ {minutes} phút mà chưa ai nhận. Ai rảnh bấm "Nhận hỗ trợ" giúp nhé.'
ESCALATION = "⚠️ Yêu cầu #{id} ({commune}, {reason}) đã chờ {minutes} phút mà chưa ai nhận."
REGISTERED = "Dạ, anh/chị {name} đã được đăng ký làm tình nguyện viên, nhận hỗ trợ cho: {communes}."
BAD_INVITE = "Mã đăng ký không đúng, đã dùng hoặc đã hết hạn. Anh/chị xin mã mới giúp em ạ."
INVITE_USAGE = "Anh/chị gửi: /dangky MÃ (mã do người quản lý cấp) ạ."
RESIDENT_LABEL = "👤 Người dân: "
KIND_LABELS = {
    MessageKind.PHOTO: "[ảnh]",
    MessageKind.VOICE: "[tin nhắn thoại]",
    MessageKind.DOCUMENT: "[tệp]",
    MessageKind.STICKER: "[nhãn dán]",
    MessageKind.LOCATION: "[vị trí]",
}


def button_data(action: str, ticket_id: int) -> str:
    return f"d:{action}:{ticket_id}"


def card_keyboard(ticket: TicketView) -> InlineKeyboardMarkup | None:
    if ticket.state == TicketState.OPEN:
        return InlineKeyboardMarkup(
            [[InlineKeyboardButton("Nhận hỗ trợ", callback_data=button_data(CLAIM, ticket.id))]]
        )
    if ticket.state == TicketState.CLAIMED:
        return InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        "Đóng – đã xong", callback_data=button_data(RESOLVE, ticket.id)
                    )
                ],
                [
                    InlineKeyboardButton(
                        "Trả lại cho bot", callback_data=button_data(TO_BOT, ticket.id)
                    )
                ],
            ]
        )
    return None


@dataclass(frozen=True)
class Topic:
    """A ticket's forum topic: the group, the thread, the card with the buttons."""

    chat: int
    thread: int
    card: int | None


class TelegramDesk:
    """The DeskNotifier for Telegram forum groups, and the handlers of desk updates."""

    BUTTON_PATTERN = r"^d:[crb]:\d+$"

    def __init__(
        self, bot: Bot, handoff: Handoff, outbox: Outbox, fallback_chat_id: int | None
    ) -> None:
        self.bot = bot
        self.handoff = handoff
        self.outbox = outbox
        self.fallback_chat_id = fallback_chat_id

    def __repr__(self) -> str:
        return "TelegramDesk"

    # ------------------------------------------------------------- notifications

    def takes(self, session: Session, commune_code: str | None) -> bool:
        """A ticket of `commune_code` gets a topic: in the commune's group, else the fallback."""
        if self.fallback_chat_id is not None:
            return True
        return linked_chat(session=session, commune_code=commune_code) is not None

    async def opened(self, ticket: TicketView) -> None:
        chat = await in_db(
            lambda session: linked_chat(session=session, commune_code=ticket.commune_code)
        )
        chat = chat or self.fallback_chat_id
        if chat is None:
            return  # only the web desk serves this commune
        topic = await self.bot.create_forum_topic(chat, ticket.title())
        thread = topic.message_thread_id
        # Its id is kept (the card's buttons change when the ticket is claimed or closed), so
        # the card goes at once, not through the stream; counted with the outbox's sends.
        card = await self._direct(
            chat,
            lambda: self.bot.send_message(
                chat, ticket.card(), message_thread_id=thread, reply_markup=card_keyboard(ticket)
            ),
        )
        await in_db(
            lambda session: save_topic(
                session=session,
                ticket_id=ticket.id,
                chat_id=chat,
                thread_id=thread,
                card_message_id=card.message_id,
            )
        )

    async def resident_message(self, ticket: TicketView, message: MessageView) -> bool:
        topic = await self._topic(ticket.id)
        if topic is None:
            return False
        kind = MessageKind(message.kind)
        text = RESIDENT_LABEL + (message.text or KIND_LABELS.get(kind, ""))
        attachment = None
        if kind != MessageKind.TEXT:
            attachment = Attachment(kind, message.file_ref, message.latitude, message.longitude)
        await self._post(topic, OutboundMessage(text, attachment=attachment))
        return True

    async def claimed(self, ticket: TicketView) -> None:
        topic = await self._topic(ticket.id)
        if topic is not None:
            await self._update_card(topic, ticket)
            await self._post(topic, OutboundMessage(CLAIMED_NOTE.format(name=ticket.claimer_name)))

    async def closed(self, ticket: TicketView) -> None:
        topic = await self._topic(ticket.id)
        if topic is None:
            return
        await self._update_card(topic, ticket)
        note = CLOSED_NOTE.format(id=ticket.id, state=ticket.state_label)
        await self._post(topic, OutboundMessage(note))
        await self.bot.close_forum_topic(topic.chat, topic.thread)

    async def reminded(self, ticket: TicketView, waited_minutes: int) -> None:
        topic = await self._topic(ticket.id)
        if topic is not None:
            await self._post(topic, OutboundMessage(REMINDER.format(minutes=waited_minutes)))

    async def escalated(self, ticket: TicketView, waited_minutes: int) -> None:
        text = ESCALATION.format(
            id=ticket.id,
            commune=ticket.commune_name,
            reason=ticket.reason_label,
            minutes=waited_minutes,
        )
        topic = await self._topic(ticket.id)
        if topic is not None:
            await self._post(topic, OutboundMessage(text))
        leads = await in_db(
            lambda session: [
                v.telegram_user_id
                for v in leads_of(session=session, commune_code=ticket.commune_code)
                if v.telegram_user_id
            ]
        )
        for lead in leads:  # a lead who never opened a chat with the bot ends in dead letters
            await queue(self.outbox, lead, [OutboundMessage(text)])
        if self.fallback_chat_id and (topic is None or topic.chat != self.fallback_chat_id):
            await queue(self.outbox, self.fallback_chat_id, [OutboundMessage(text)], group=True)

    # ------------------------------------------------------------------ handlers

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None or not query.data:
            return
        _, action, number = query.data.split(":")
        ticket_id = int(number)
        volunteer = await self._volunteer(query.from_user.id)
        if volunteer is None:
            await query.answer(NOT_REGISTERED, show_alert=True)
            return
        try:
            if action == CLAIM:
                # The fallback group takes tickets without a commune (a scam reported first).
                chat = query.message.chat.id if query.message else None
                in_fallback = chat is not None and chat == self.fallback_chat_id
                result = await self.handoff.claim(ticket_id, volunteer, fallback_desk=in_fallback)
                if result.claimed:
                    await query.answer(CLAIMED_OK.format(id=ticket_id))
                else:
                    await query.answer(
                        TAKEN.format(name=result.ticket.claimer_name), show_alert=True
                    )
                return
            await self.handoff.close(ticket_id, volunteer, returned_to_bot=action == TO_BOT)
            await query.answer()
        except NotYourCommune:
            await query.answer(OTHER_COMMUNE, show_alert=True)
        except (NotTheClaimer, LookupError):
            await query.answer(ONLY_CLAIMER, show_alert=True)

    async def on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A message in a desk topic: relayed when the claimer wrote it (`//` = note)."""
        message, user, chat = update.effective_message, update.effective_user, update.effective_chat
        if message is None or user is None or chat is None or not message.message_thread_id:
            return
        thread = message.message_thread_id
        ticket_id = await in_db(
            lambda session: ticket_in_topic(session=session, chat_id=chat.id, thread_id=thread)
        )
        volunteer = await self._volunteer(user.id)
        if ticket_id is None or volunteer is None:
            return
        inbound = InboundMessage(
            channel=CHANNEL,
            channel_user_id=str(user.id),
            text=message.text or message.caption or "",
            attachment=attachment_of(message),
        )
        try:
            await self.handoff.volunteer_wrote(ticket_id, volunteer, inbound.text, inbound)
        except (NotTheClaimer, NotYourCommune, LookupError):
            return  # other volunteers talking among themselves: nothing reaches the resident
        except Unreachable as exc:  # e.g. Zalo's free-reply window closed: tell the volunteer
            await queue(
                self.outbox, chat.id, [OutboundMessage(f"⚠️ {exc}")], thread=thread, group=True
            )

    async def on_register(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/dangky CODE in a private chat: a one-time invite puts this account on the roster."""
        message, user = update.effective_message, update.effective_user
        if message is None or user is None:
            return
        if not context.args:
            await message.reply_text(INVITE_USAGE)
            return
        code, name = context.args[0], user.full_name or str(user.id)

        def redeem(session: Session) -> tuple[str, list[str]] | None:
            volunteer = redeem_invite(
                session=session, code=code, telegram_user_id=user.id, display_name=name
            )
            if volunteer is None:
                return None
            codes = sorted(communes_of(session=session, volunteer_id=volunteer.id))
            return volunteer.display_name, codes

        done = await in_db(redeem)
        if done is None:
            await message.reply_text(BAD_INVITE)
            return
        communes = ", ".join(commune_name(code) for code in done[1])
        await message.reply_text(REGISTERED.format(name=done[0], communes=communes))

    # ------------------------------------------------------------------ internals

    async def _volunteer(self, telegram_user_id: int) -> int | None:
        def find(session: Session) -> int | None:
            volunteer = volunteer_by_telegram(session=session, telegram_user_id=telegram_user_id)
            return volunteer.id if volunteer else None

        return await in_db(find)

    async def _topic(self, ticket_id: int) -> Topic | None:
        def find(session: Session) -> Topic | None:
            topic = topic_of(session=session, ticket_id=ticket_id)
            return Topic(topic.chat_id, topic.thread_id, topic.card_message_id) if topic else None

        return await in_db(find)

    async def _direct(self, group: int, call: Callable[[], Awaitable[Message]]) -> Message:
        """A send to a desk group outside the outbox's stream, in its pacing; after a 429,
        again once its wait is over (DIRECT_ATTEMPTS in all)."""
        attempts = 1
        while True:
            try:
                return await self.outbox.direct(CHANNEL, call, group=str(group))
            except RetryAfter as exc:
                if attempts >= DIRECT_ATTEMPTS:
                    raise
                attempts += 1
                await asyncio.sleep(retry_seconds(exc))

    async def _post(self, topic: Topic, message: OutboundMessage) -> None:
        await queue(self.outbox, topic.chat, [message], thread=topic.thread, group=True)

    async def _update_card(self, topic: Topic, ticket: TicketView) -> None:
        if topic.card is not None:
            await self.bot.edit_message_reply_markup(
                topic.chat, topic.card, reply_markup=card_keyboard(ticket)
            )
