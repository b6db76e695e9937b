"""The router: every inbound message, whatever its channel, goes through here: to Rasa, or to
the volunteer desk while the resident has an open or claimed handoff ticket.

A photo is read first (bot/screens.py): outside a handoff a known error screen is answered
with its fix, any other photo without words with an honest note; in a handoff the volunteer
gets the image with the masked text read off it."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from functools import partial

from sqlalchemy.orm import Session

from bot.desk.handoff import Handoff, active_view
from bot.desk.replies import CANCEL_PAYLOAD, parse_rating
from bot.desk.views import TicketView
from bot.messages import InboundMessage, OutboundMessage
from bot.rasa_client import ParsedIntent, RasaClient, RasaUnavailable
from bot.screens import Screens, screen_replies, with_screen_text
from bot.typed_buttons import TypedButtons
from core.db import in_db
from core.erasure import erase_rasa_tracker
from core.models import EventType, TicketReason, utcnow
from core.privacy import mask_pii, pseudonymize
from core.repositories.announcement_replies import answered, record_reply
from core.repositories.events import keep_fallback_text, record_events
from core.repositories.residents import commune_of, has_consented
from core.repositories.subscriptions import Subscribed, subscribe
from nlu.controls import (
    ANNOUNCEMENT,
    ERASE_CONVERSATION,
    ERASED_AS,
    HANDOFF,
    STORE_TEXT,
    SUBSCRIBE,
)

log = logging.getLogger(__name__)

FALLBACK_INTENT = "nlu_fallback"
STOP_INTENT = "unsubscribe_announcements"  # stopping announcements answers none of them
MAX_ID_DIGITS = 19  # a row id (core.models.MAX_ID); a longer number names no announcement

ATTACHMENT_REPLY = (
    "Dạ, em là trợ lý tự động nên chưa xem được ảnh, tệp hay tin nhắn thoại ạ. "
    'Bác gõ chữ giúp em, hoặc bấm "Gặp người hỗ trợ" để gửi cho người của Tổ công nghệ số.'
)

BUSY_REPLY = "Dạ, hệ thống đang bận, em chưa trả lời được ngay. Bác thử lại sau ít phút ạ."

EventRow = tuple[EventType, str | None, float | None]


@dataclass(frozen=True)
class Arrival:
    """The resident as their message arrives (recorded): what the turn needs to know."""

    consented: bool
    ticket: TicketView | None  # their open or claimed handoff ticket
    # The announcement sent to them lately on this channel, which this message may answer
    # (core/repositories/announcement_replies.py): context for Rasa and a handoff.
    answering: int | None = None


@dataclass(frozen=True)
class Router:
    rasa: RasaClient
    pseudonym_key: str
    typed_buttons: TypedButtons
    handoff: Handoff
    rasa_tracker_database_url: str | None = None
    screens: Screens | None = None  # reads residents' screenshots (bot/screens.py)

    def resident_id(self, message: InboundMessage) -> str:
        return pseudonymize(message.channel, message.channel_user_id, key=self.pseudonym_key)

    async def handle(self, message: InboundMessage) -> list[OutboundMessage]:
        """Record the message, ask Rasa, record what it understood and answered.

        Rasa may keep the resident's (masked) words only if they agreed to the privacy notice
        (the actions ask it when it is needed). Raises RasaUnavailable when Rasa cannot answer;
        the message_in event is kept. One transaction before Rasa is asked, one after.
        """
        resident = self.resident_id(message)
        channel = message.channel
        arrival = await in_db(partial(_arrive, channel=channel, resident=resident))
        pressed = await self.typed_buttons.payload_for(resident, message.text)
        reading = await self.screens.read(message) if self.screens else None
        if reading is not None:
            key = reading.problem.key if reading.problem else None
            await _recorded(channel, resident, [(EventType.SCREEN_READ, key, None)])
        to_desk = with_screen_text(message, reading) if arrival.ticket else message
        answered = await self._desk_turn(to_desk, resident, pressed or message.text, arrival)
        if answered is None and reading is not None:
            if reading.problem is not None or not message.text.strip():
                answered = screen_replies(reading)  # else its caption goes to Rasa
        elif answered is None and message.attachment is not None and not message.text.strip():
            answered = [OutboundMessage(ATTACHMENT_REPLY)]
        if answered is not None:  # the desk or the gateway answered; Rasa did not see it
            replies = answered
            await _recorded(channel, resident, _outcome(None, replies))
        else:
            replies = await self._rasa_turn(message, resident, pressed, arrival)
        await self.typed_buttons.remember(resident, replies)
        return replies

    async def answer(self, message: InboundMessage) -> list[OutboundMessage]:
        """`handle` for channels that reply later (Telegram, Zalo): when Rasa is down the
        resident gets a polite "busy" reply instead of silence."""
        try:
            return await self.handle(message)
        except RasaUnavailable as exc:
            log.error("Rasa unavailable: %s", exc)
            return [OutboundMessage(BUSY_REPLY)]

    async def _desk_turn(
        self, message: InboundMessage, resident: str, text: str, arrival: Arrival
    ) -> list[OutboundMessage] | None:
        """Replies when the desk, not Rasa, answers: a rating, a cancel, or any message while
        the resident's ticket is open or claimed (the bot keeps quiet then)."""
        rating = parse_rating(text)
        if rating is not None:
            return await self.handoff.rate(resident, *rating)
        if text == CANCEL_PAYLOAD:
            return await self.handoff.cancel(resident)
        if arrival.ticket is None:
            return None
        return await self.handoff.resident_wrote(arrival.ticket, message)

    async def _rasa_turn(
        self, message: InboundMessage, resident: str, pressed: str | None, arrival: Arrival
    ) -> list[OutboundMessage]:
        """Rasa's turn, then its outcome recorded: a handoff, a subscription to announcements,
        erasure, or consent withdrawn (Rasa's copy of the conversation, which holds the words
        they had let us keep, is dropped). A message soon after an announcement reached the
        resident carries it in the metadata (a request for a person names it) and counts as a
        reply to it, unless it stops the announcements."""
        channel = message.channel
        masked = mask_pii(message.text)
        metadata: dict[str, object] = {"channel": channel, STORE_TEXT: arrival.consented}
        if arrival.answering is not None:
            metadata[ANNOUNCEMENT] = arrival.answering
        turn = await self.rasa.turn(resident, pressed or masked, metadata)
        erased = turn.control(ERASE_CONVERSATION)
        if erased is not None:
            # The resident's data is gone: count this exchange under the unlinkable id.
            counted_as = str(erased.get(ERASED_AS) or "erased")
            await _recorded(channel, counted_as, _outcome(turn.intent, turn.messages))
            await forget_conversation(self.rasa, resident, self.rasa_tracker_database_url)
            return turn.messages
        replies = turn.messages
        request = turn.control(HANDOFF)
        if request is not None:
            replies = replies + await self._open_ticket(message, resident, request)
        if turn.control(SUBSCRIBE) is not None:
            await in_db(partial(_subscribe, message=message, resident=resident))
        replying = turn.intent is None or turn.intent.name != STOP_INTENT
        consented = await _recorded(
            channel,
            resident,
            _outcome(turn.intent, replies),
            masked,
            reply_to=arrival.answering if replying else None,
        )
        if arrival.consented and not consented:
            await forget_conversation(self.rasa, resident, self.rasa_tracker_database_url)
        return replies

    async def _open_ticket(
        self, message: InboundMessage, resident: str, request: dict[str, object]
    ) -> list[OutboundMessage]:
        try:
            reason = TicketReason(str(request.get("reason")))
        except ValueError:
            reason = TicketReason.REQUEST_HUMAN
        step = request.get("step")
        return await self.handoff.request(
            resident=resident,
            message=message,
            reason=reason,
            service=str(request["service"]) if request.get("service") else None,
            step=step if isinstance(step, int) else None,
            summary=str(request.get("summary") or ""),
            announcement_id=_announcement_of(request),
        )


def _announcement_of(request: dict[str, object]) -> int | None:
    """The announcement a handoff request names (from a button a stranger can type: any
    value), as a number; None when it names none."""
    value = request.get(ANNOUNCEMENT)
    if isinstance(value, str) and value.isdecimal() and len(value) <= MAX_ID_DIGITS:
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return None


async def forget_conversation(
    rasa: RasaClient, resident: str, rasa_tracker_database_url: str | None
) -> None:
    """Drop Rasa's copy of a conversation once the resident's data was erased (or their
    consent to keeping their words withdrawn)."""
    await rasa.forget(resident)
    if rasa_tracker_database_url:
        await asyncio.to_thread(erase_rasa_tracker, rasa_tracker_database_url, resident)


def _outcome(intent: ParsedIntent | None, replies: list[OutboundMessage]) -> list[EventRow]:
    rows: list[EventRow] = []
    if intent is not None:
        rows.append((EventType.INTENT, intent.name, intent.confidence))
        if intent.name == FALLBACK_INTENT:
            rows.append((EventType.FALLBACK, intent.candidate, intent.confidence))
    rows.extend((EventType.MESSAGE_OUT, None, None) for _ in replies)
    return rows


async def _recorded(
    channel: str,
    resident: str,
    rows: list[EventRow],
    words: str | None = None,
    reply_to: int | None = None,
) -> bool:
    """`_record` on a worker thread, bounded in time (core.db.in_db)."""
    return await in_db(
        partial(
            _record, channel=channel, resident=resident, rows=rows, words=words, reply_to=reply_to
        )
    )


def _record(
    session: Session,
    *,
    channel: str,
    resident: str,
    rows: list[EventRow],
    words: str | None,
    reply_to: int | None = None,
) -> bool:
    """Append the events (stamped with the resident's commune); whether the resident has
    consented, after.

    `words` (already masked) are kept with a fallback event, for the team's list of questions
    the bot missed, only when the resident consented to their words being stored. `reply_to`:
    the announcement the message answers (`announcement_reply`, once per announcement).
    """
    commune = commune_of(session=session, resident_id=resident)
    consented = has_consented(session=session, resident_id=resident)
    events = record_events(
        session=session, channel=channel, resident_id=resident, commune_code=commune, rows=rows
    )
    if reply_to is not None:
        record_reply(
            session=session,
            resident_id=resident,
            channel=channel,
            commune_code=commune,
            announcement_id=reply_to,
        )
    if words and consented:
        for event in events:
            if event.type == EventType.FALLBACK:
                keep_fallback_text(session=session, event=event, text=words)
    return consented


def _subscribe(session: Session, *, message: InboundMessage, resident: str) -> None:
    """The SUBSCRIBE control: the action checked consent and commune; only the gateway knows
    the chat id the announcements go to."""
    done = subscribe(
        session=session,
        resident_id=resident,
        channel=message.channel,
        channel_user_id=message.channel_user_id,
    )
    if done not in (Subscribed.NEW, Subscribed.ALREADY):
        log.warning("subscription not made: %s", done.value)


def _arrive(session: Session, *, channel: str, resident: str) -> Arrival:
    """Record the message_in event; the resident's consent and ticket, and the announcement
    their message may answer."""
    consented = _record(
        session,
        channel=channel,
        resident=resident,
        rows=[(EventType.MESSAGE_IN, None, None)],
        words=None,
    )
    return Arrival(
        consented=consented,
        ticket=active_view(session, resident),
        answering=answered(session=session, resident_id=resident, channel=channel, now=utcnow()),
    )
