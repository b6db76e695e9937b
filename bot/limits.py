"""Request body size limits: an ASGI middleware that refuses a body larger than its path's limit
with 413, before the app reads it.

The declared `Content-Length` is checked first; a body without one (chunked) is counted as it
streams in, and once it passes the limit the app sees the client as gone and whatever it
would have answered is replaced by the refusal. Nothing the gateway accepts is near the
limits: the web chat and the desk take 2,000 characters, and the largest Telegram update (a
4,096-character message quoting another, with entities and a keyboard) stays well under
the webhooks' limit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

API_BODY_LIMIT = 64 * 1024
WEBHOOK_BODY_LIMIT = 256 * 1024


@dataclass
class _Body:
    """What one request has sent so far, and whether the answer went out."""

    received: int = 0
    too_large: bool = False
    started: bool = False


class BodyLimit:
    """Refuses request bodies over `limit` bytes (`per_prefix` overrides it for paths starting
    with a prefix) with `refusal`, a ready response (413)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        limit: int,
        refusal: Response,
        per_prefix: Sequence[tuple[str, int]] = (),
    ) -> None:
        self.app = app
        self.limit = limit
        self.refusal = refusal
        self.per_prefix = tuple(per_prefix)

    def limit_for(self, path: str) -> int:
        for prefix, limit in self.per_prefix:
            if path.startswith(prefix):
                return limit
        return self.limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        if _declared_length(scope) > limit:
            await self.refusal(scope, receive, send)
            return
        body = _Body()

        async def counted() -> Message:
            if body.too_large:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                body.received += len(message.get("body", b""))
                if body.received > limit and not body.started:
                    body.too_large = True
                    return {"type": "http.disconnect"}
            return message

        async def answer(message: Message) -> None:
            if body.too_large:  # the refusal goes out instead
                return
            body.started = True
            await send(message)

        try:
            await self.app(scope, counted, answer)
        except Exception:
            if not body.too_large:
                raise  # a failure of its own; a body cut short is answered below
        if body.too_large:
            await self.refusal(scope, receive, send)


def _declared_length(scope: Scope) -> int:
    """The request's Content-Length, 0 when absent or unreadable (the server rejects those)."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else 0
    return 0
