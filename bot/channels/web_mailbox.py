"""Messages for web chat residents that arrive outside a request (a volunteer's replies, the
bot resuming after a handoff): kept in Redis per resident (by their issued id) for a day,
fetched by the page with `GET /api/chat/updates`."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from redis.asyncio import Redis

from bot.messages import OutboundMessage

TTL_SECONDS = 24 * 3600
KEEP = 200  # the newest messages kept per sender
FILE_NOTE = (
    "(Người hỗ trợ vừa gửi một ảnh hoặc tệp; trang web này chưa hiện được. "
    "Bác nhắn lại để người hỗ trợ viết bằng chữ giúp bác nhé.)"
)


@dataclass(frozen=True)
class WebMailbox:
    redis: Redis
    prefix: str = "webchat"

    def _key(self, sender: str) -> str:
        return f"{self.prefix}:{sender}"

    async def send(self, channel_user_id: str, messages: Sequence[OutboundMessage]) -> None:
        key = self._key(channel_user_id)
        for message in messages:
            number = await self.redis.incr(f"{key}:seq")
            text = message.text
            if message.attachment is not None:
                text = f"{text}\n{FILE_NOTE}".strip()
            item = {
                "id": number,
                "text": text,
                "buttons": [{"title": b.title, "payload": b.payload} for b in message.buttons],
            }
            await self.redis.rpush(key, json.dumps(item, ensure_ascii=False))
        await self.redis.ltrim(key, -KEEP, -1)
        await self.redis.expire(key, TTL_SECONDS)
        await self.redis.expire(f"{key}:seq", TTL_SECONDS)

    async def fetch(self, sender: str, after: int) -> list[dict[str, object]]:
        """The messages numbered above `after`, oldest first."""
        raw = await self.redis.lrange(self._key(sender), 0, -1)
        items = [json.loads(entry) for entry in raw]
        return [item for item in items if int(item["id"]) > after]
