"""The one internal message type every channel adapter converts to and from."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from core.models import utcnow


@dataclass(frozen=True)
class Button:
    title: str
    payload: str


@dataclass(frozen=True)
class InboundMessage:
    """What a resident sent, on any channel."""

    channel: str
    channel_user_id: str
    text: str
    message_id: str | None = None
    received_at: datetime = field(default_factory=utcnow)


@dataclass(frozen=True)
class OutboundMessage:
    """One bot reply: text and optional buttons (pressing one sends its payload as text)."""

    text: str
    buttons: tuple[Button, ...] = ()
