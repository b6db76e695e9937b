"""Typed button titles: a resident who types "dong y" under an "Đồng ý" button pressed it.

Many residents type what a button says instead of tapping it (or their app shows no buttons).
The buttons of the bot's last reply are remembered per resident in Redis for a day; a message
that equals one of their titles, ignoring case, diacritics and punctuation, is sent to Rasa as
that button's payload, so it lands exactly where the button would have.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from redis.asyncio import Redis

from bot.messages import OutboundMessage
from nlu.vietnamese import strip_diacritics

TTL_SECONDS = 24 * 3600
_NOT_WORD = re.compile(r"[^\w]+")


def comparable(text: str) -> str:
    """`text` without case, diacritics, emoji or punctuation ("✅ Đồng ý!" → "dong y")."""
    return " ".join(_NOT_WORD.sub(" ", strip_diacritics(text).lower()).split())


@dataclass(frozen=True)
class TypedButtons:
    redis: Redis
    prefix: str = "buttons"

    def _key(self, resident: str) -> str:
        return f"{self.prefix}:{resident}"

    async def remember(self, resident: str, replies: list[OutboundMessage]) -> None:
        """Keep the buttons of this reply (the ones the resident now sees last)."""
        buttons = {
            comparable(button.title): button.payload
            for reply in replies
            for button in reply.buttons
            if comparable(button.title)
        }
        if buttons:
            await self.redis.set(self._key(resident), json.dumps(buttons), ex=TTL_SECONDS)
        else:
            await self.redis.delete(self._key(resident))

    async def payload_for(self, resident: str, text: str) -> str | None:
        """The payload of the remembered button whose title `text` spells, if any."""
        raw = await self.redis.get(self._key(resident))
        if not raw:
            return None
        payload = json.loads(raw).get(comparable(text))
        return payload if isinstance(payload, str) else None
