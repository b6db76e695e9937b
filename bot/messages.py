"""The one internal message type every channel adapter converts to and from."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from core.models import MessageKind, utcnow


@dataclass(frozen=True)
class Button:
    title: str
    payload: str


@dataclass(frozen=True)
class Attachment:
    """A photo, voice note, document, sticker or location. Files stay with their channel:
    `ref` is the channel's own id prefixed with the channel ("telegram:AgAC…")."""

    kind: MessageKind
    ref: str | None = None
    latitude: float | None = None
    longitude: float | None = None

    def channel(self) -> str | None:
        return self.ref.split(":", 1)[0] if self.ref else None

    def file_id(self) -> str | None:
        return self.ref.split(":", 1)[1] if self.ref and ":" in self.ref else None


def without_nul(text: str) -> str:
    """`text` without NUL characters, which no PostgreSQL text column can hold (and no person
    means to send)."""
    return text.replace("\x00", "")


# A NUL escape ("\\u0000") in raw JSON, unless its backslash is itself escaped.
_JSON_NUL = re.compile(rb"(?<!\\)((?:\\\\)*)\\u0000")


def storable_json(raw: bytes) -> Any:
    """A channel's JSON update, parsed and made storable as it came otherwise: NUL characters
    (JSON carries one only as the escape \\u0000) dropped, lone surrogates (half an emoji,
    which UTF-8 cannot encode) replaced with "?". ValueError or RecursionError when it is no
    JSON or nested too deep."""
    value = json.loads(raw)
    encoded = json.dumps(value, ensure_ascii=False).encode("utf-8", "replace")
    return json.loads(_JSON_NUL.sub(rb"\1", encoded))


@dataclass(frozen=True)
class InboundMessage:
    """What a resident sent, on any channel (NUL characters dropped from their id and text)."""

    channel: str
    channel_user_id: str
    text: str
    message_id: str | None = None
    received_at: datetime = field(default_factory=utcnow)
    attachment: Attachment | None = None
    # A photo's bytes when the channel uploaded them (the web chat); read, never stored.
    image: bytes | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "channel_user_id", without_nul(self.channel_user_id))
        object.__setattr__(self, "text", without_nul(self.text))


@dataclass(frozen=True)
class OutboundMessage:
    """One reply: text, optional buttons (pressing one sends its payload as text), and
    optionally a file or location relayed from a volunteer."""

    text: str
    buttons: tuple[Button, ...] = ()
    attachment: Attachment | None = None
