"""Request body size limits: an ASGI middleware that refuses a body larger than its path's limit
with 413, before the app reads it.

The declared `Content-Length` is checked first; a body without one (chunked) is counted as it
streams in, and once it passes the limit the app sees the client as gone and whatever it
would have answered is replaced by the refusal. Nothing the gateway accepts is near the
limits: the web chat and the desk take 2,000 characters, and the largest Telegram update (a
4,096-character message quoting another, with entities and a keyboard) stays well under
the webhooks' limit. The web chat's photo upload may carry an image of up to 10 MB (the
reader's own cap, core.screens.MAX_IMAGE_BYTES) plus the form around it; a larger one is
refused with its own polite words (a prefix may have its own refusal).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.screens import MAX_IMAGE_BYTES

API_BODY_LIMIT = 64 * 1024
WEBHOOK_BODY_LIMIT = 256 * 1024
PHOTO_BODY_LIMIT = MAX_IMAGE_BYTES + API_BODY_LIMIT  # the image and the form's other fields


@dataclass
class _Body:
    """What one request has sent so far, and whether the answer went out."""

    received: int = 0
    too_large: bool = False
    started: bool = False


class BodyLimit:
    """Refuses request bodies over `limit` bytes with `refusal`, a ready response (413).
    `per_prefix` overrides them for paths starting with a prefix (the first that matches):
    `(prefix, limit)` or `(prefix, limit, refusal)`."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        limit: int,
        refusal: Response,
        per_prefix: Sequence[tuple[str, int] | tuple[str, int, Response]] = (),
    ) -> None:
        self.app = app
        self.limit = limit
        self.refusal = refusal
        self.per_prefix = tuple(per_prefix)

    def limit_for(self, path: str) -> tuple[int, Response]:
        """The limit of `path`'s bodies and the answer to a larger one."""
        for prefix, limit, *refusal in self.per_prefix:
            if path.startswith(prefix):
                return limit, refusal[0] if refusal else self.refusal
        return self.limit, self.refusal

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit, refusal = self.limit_for(scope["path"])
        if _declared_length(scope) > limit:
            await refusal(scope, receive, send)
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
            await refusal(scope, receive, send)


def _declared_length(scope: Scope) -> int:
    """The request's Content-Length, 0 when absent or unreadable (the server rejects those)."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else 0
    return 0
