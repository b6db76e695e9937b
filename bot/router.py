"""The router: every inbound message, whatever its channel, goes through here: to Rasa, or to
the volunteer desk while the resident has an open or claimed handoff ticket."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from functools import partial

from sqlalchemy.orm import Session

from bot.desk.handoff import Handoff
from bot.desk.replies import CANCEL_PAYLOAD, parse_rating
from bot.messages import InboundMessage, OutboundMessage
from bot.rasa_client import ParsedIntent, RasaClient, RasaTurn, RasaUnavailable
from bot.typed_buttons import TypedButtons
from core.controls import CONSENT_INTENT, ERASE_CONVERSATION, ERASED_AS, HANDOFF, STORE_TEXT
from core.db import in_db
from core.erasure import erase_rasa_tracker
from core.models import EventType, TicketReason
from core.privacy import mask_pii, pseudonymize
from core.repositories.events import keep_fallback_text, record_event
from core.repositories.residents import commune_of, consent_notice_due, has_consented

log = logging.getLogger(__name__)

FALLBACK_INTENT = "nlu_fallback"

ATTACHMENT_REPLY = (
    "Dạ, em là trợ lý tự động nên chưa xem được ảnh, tệp hay tin nhắn thoại ạ. "
    'Bác gõ chữ giúp em, hoặc bấm "Gặp người hỗ trợ" để gửi cho người của Tổ công nghệ số.'
)

BUSY_REPLY = "Dạ, hệ thống đang bận, em chưa trả lời được ngay. Bác thử lại sau ít phút ạ."

EventRow = tuple[EventType, str | None, float | None]


@dataclass(frozen=True)
class ResidentState:
    """What the router needs to know about a resident after recording their events."""

    consented: bool
    notice_due: bool


@dataclass(frozen=True)
class Router:
    rasa: RasaClient
    pseudonym_key: str
    typed_buttons: TypedButtons
    handoff: Handoff
    rasa_tracker_database_url: str | None = None

    def resident_id(self, message: InboundMessage) -> str:
        return pseudonymize(message.channel, message.channel_user_id, key=self.pseudonym_key)

    async def handle(self, message: InboundMessage) -> list[OutboundMessage]:
        """Record the message, ask Rasa, record what it understood and answered.

        Rasa may keep the resident's (masked) words only if they agreed to the privacy notice.
        A resident who has not answered the notice gets it after the reply, so that help in an
        emergency comes first. Raises RasaUnavailable when Rasa cannot answer; the message_in
        event is kept.
        """
        resident = self.resident_id(message)
        channel = message.channel
        before = await _recorded(channel, resident, [(EventType.MESSAGE_IN, None, None)])
        pressed = await self.typed_buttons.payload_for(resident, message.text)
        answered = await self._desk_turn(message, resident, pressed or message.text)
        if answered is None and message.attachment is not None and not message.text.strip():
            answered = [OutboundMessage(ATTACHMENT_REPLY)]
        if answered is not None:  # the desk or the gateway answered; Rasa did not see it
            replies = answered
            await _recorded(channel, resident, _outcome(None, replies))
        else:
            metadata = {"channel": channel, STORE_TEXT: before.consented}
            turn = await self.rasa.send(resident, pressed or mask_pii(message.text), metadata)
            intent = await self.rasa.latest_intent(resident)
            replies = await self._reply(channel, resident, intent, turn, message.text, before)
            request = turn.control(HANDOFF)
            if request is not None:
                opened = await self._open_ticket(message, resident, request)
                await _recorded(channel, resident, _outcome(None, opened))
                replies = replies + opened
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
        self, message: InboundMessage, resident: str, text: str
    ) -> list[OutboundMessage] | None:
        """Replies when the desk, not Rasa, answers: a rating, a cancel, or any message while
        the resident's ticket is open or claimed (the bot keeps quiet then)."""
        rating = parse_rating(text)
        if rating is not None:
            return await self.handoff.rate(resident, *rating)
        if text == CANCEL_PAYLOAD:
            return await self.handoff.cancel(resident)
        ticket = await self.handoff.active(resident)
        if ticket is None:
            return None
        return await self.handoff.resident_wrote(ticket, message)

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
        )

    async def _reply(
        self,
        channel: str,
        resident: str,
        intent: ParsedIntent | None,
        turn: RasaTurn,
        text: str,
        before: ResidentState,
    ) -> list[OutboundMessage]:
        """Record the outcome and finish the turn: erasure, consent withdrawn (Rasa's copy of
        the conversation, which holds the words they had let us keep, is dropped), or the
        privacy notice if due."""

        erased = turn.control(ERASE_CONVERSATION)
        if erased is not None:
            # The resident's data is gone: count this exchange under the unlinkable id.
            counted_as = str(erased.get(ERASED_AS) or "erased")
            await _recorded(channel, counted_as, _outcome(intent, turn.messages))
            await forget_conversation(self.rasa, resident, self.rasa_tracker_database_url)
            return turn.messages

        after = await _recorded(channel, resident, _outcome(intent, turn.messages), mask_pii(text))
        if before.consented and not after.consented:
            await forget_conversation(self.rasa, resident, self.rasa_tracker_database_url)
        if not after.notice_due:
            return turn.messages
        notice = await self.rasa.trigger_intent(resident, CONSENT_INTENT)
        await _recorded(channel, resident, _outcome(None, notice.messages))
        return turn.messages + notice.messages


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
    channel: str, resident: str, rows: list[EventRow], words: str | None = None
) -> ResidentState:
    """`_record` on a worker thread, bounded in time (core.db.in_db)."""
    return await in_db(partial(_record, channel=channel, resident=resident, rows=rows, words=words))


def _record(
    session: Session, *, channel: str, resident: str, rows: list[EventRow], words: str | None
) -> ResidentState:
    """Append the events (stamped with the resident's commune); the resident's state after.

    `words` (already masked) are kept with a fallback event, for the team's list of questions
    the bot missed, only when the resident consented to their words being stored.
    """
    commune = commune_of(session=session, resident_id=resident)
    consented = has_consented(session=session, resident_id=resident)
    for type_, key, value in rows:
        event = record_event(
            session=session,
            type=type_,
            channel=channel,
            resident_id=resident,
            commune_code=commune,
            key=key,
            value=value,
        )
        if type_ == EventType.FALLBACK and words and consented:
            keep_fallback_text(session=session, event=event, text=words)
    return ResidentState(
        consented=consented,
        notice_due=consent_notice_due(session=session, resident_id=resident),
    )
