"""The router: every inbound message, whatever its channel, goes through here to Rasa."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from bot.messages import InboundMessage, OutboundMessage
from bot.rasa_client import ParsedIntent, RasaClient
from core.db import session_scope
from core.models import EventType
from core.privacy import mask_pii, pseudonymize
from core.repositories.events import record_event
from core.repositories.residents import commune_of

FALLBACK_INTENT = "nlu_fallback"


@dataclass(frozen=True)
class Router:
    rasa: RasaClient
    pseudonym_key: str

    def resident_id(self, message: InboundMessage) -> str:
        return pseudonymize(message.channel, message.channel_user_id, key=self.pseudonym_key)

    async def handle(self, message: InboundMessage) -> list[OutboundMessage]:
        """Record the message, ask Rasa, record what it understood and answered.

        Raises RasaUnavailable when Rasa cannot answer; the message_in event is kept.
        """
        resident = self.resident_id(message)
        await asyncio.to_thread(
            _record, message.channel, resident, [(EventType.MESSAGE_IN, None, None)]
        )
        replies = await self.rasa.send(
            resident, mask_pii(message.text), {"channel": message.channel}
        )
        intent = await self.rasa.latest_intent(resident)
        await asyncio.to_thread(_record, message.channel, resident, _outcome(intent, replies))
        return replies


def _outcome(
    intent: ParsedIntent | None, replies: list[OutboundMessage]
) -> list[tuple[EventType, str | None, float | None]]:
    rows: list[tuple[EventType, str | None, float | None]] = []
    if intent is not None:
        rows.append((EventType.INTENT, intent.name, intent.confidence))
        if intent.name == FALLBACK_INTENT:
            rows.append((EventType.FALLBACK, None, intent.confidence))
    rows.extend((EventType.MESSAGE_OUT, None, None) for _ in replies)
    return rows


def _record(
    channel: str, resident: str, rows: list[tuple[EventType, str | None, float | None]]
) -> None:
    with session_scope() as session:
        commune = commune_of(session=session, resident_id=resident)
        for type_, key, value in rows:
            record_event(
                session=session,
                type=type_,
                channel=channel,
                resident_id=resident,
                commune_code=commune,
                key=key,
                value=value,
            )
