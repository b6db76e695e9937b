"""Messages for web chat residents that arrive outside a request (a volunteer's replies, the
bot resuming after a handoff): kept in Redis per resident (by their issued id) for a day,
fetched by the page with `GET /api/chat/updates`. Announcements (`post_once`) are kept until
they expire, and each is posted once across restarts (a ledger in the same transaction)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import WatchError

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

    @staticmethod
    def _item(number: int, message: OutboundMessage) -> str:
        text = message.text
        if message.attachment is not None:
            text = f"{text}\n{FILE_NOTE}".strip()
        item = {
            "id": number,
            "text": text,
            "buttons": [{"title": b.title, "payload": b.payload} for b in message.buttons],
        }
        return json.dumps(item, ensure_ascii=False)

    async def send(self, channel_user_id: str, messages: Sequence[OutboundMessage]) -> None:
        key = self._key(channel_user_id)
        for message in messages:
            number = await self.redis.incr(f"{key}:seq")
            await self.redis.rpush(key, self._item(number, message))
        await self.redis.ltrim(key, -KEEP, -1)
        await self.redis.expire(key, TTL_SECONDS)
        await self.redis.expire(f"{key}:seq", TTL_SECONDS)

    async def post_once(
        self,
        ledger: str,
        posts: Sequence[tuple[str, str, OutboundMessage]],
        seconds: int,
    ) -> int:
        """Post each (ledger key, resident, message) unless Redis hash `ledger` names its key
        already, kept `seconds` (at least a day); the ledger is written in the same
        transaction. How many were posted now. (A number taken by a post that then found its
        key in the ledger is skipped: numbers only need to grow.)"""
        if not posts:
            return 0
        keep = max(seconds, TTL_SECONDS)
        numbers = [await self.redis.incr(f"{self._key(user)}:seq") for _, user, _ in posts]
        while True:
            async with self.redis.pipeline(transaction=True) as pipe:
                await pipe.watch(ledger)
                seen = await pipe.hmget(ledger, [key for key, _, _ in posts])
                pipe.multi()  # type: ignore[no-untyped-call]
                fresh = 0
                for (_, user, message), number, done in zip(posts, numbers, seen, strict=True):
                    if done is not None:
                        continue
                    fresh += 1
                    key = self._key(user)
                    pipe.rpush(key, self._item(number, message))
                    pipe.ltrim(key, -KEEP, -1)
                    pipe.expire(key, keep)
                    pipe.expire(f"{key}:seq", keep)
                pipe.hset(ledger, mapping={key: "1" for key, _, _ in posts})
                pipe.expire(ledger, keep)
                try:
                    await pipe.execute()
                except WatchError:
                    continue
                return fresh

    async def fetch(self, sender: str, after: int) -> list[dict[str, object]]:
        """The messages numbered above `after`, oldest first."""
        raw = await self.redis.lrange(self._key(sender), 0, -1)
        items = [json.loads(entry) for entry in raw]
        return [item for item in items if int(item["id"]) > after]
