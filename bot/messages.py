"""The one internal message type every channel adapter converts to and from."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

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


@dataclass(frozen=True)
class InboundMessage:
    """What a resident sent, on any channel."""

    channel: str
    channel_user_id: str
    text: str
    message_id: str | None = None
    received_at: datetime = field(default_factory=utcnow)
    attachment: Attachment | None = None


@dataclass(frozen=True)
class OutboundMessage:
    """One reply: text, optional buttons (pressing one sends its payload as text), and
    optionally a file or location relayed from a volunteer."""

    text: str
    buttons: tuple[Button, ...] = ()
    attachment: Attachment | None = None
