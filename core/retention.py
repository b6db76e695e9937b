"""RETENTION_DAYS: chat content older than the retention period is deleted (hourly in the
gateway, and by `cns purge`). Counts in `events` are kept; they hold no chat text."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from core.repositories.events import purge_fallback_texts
from core.repositories.ticket_messages import purge_closed


@dataclass(frozen=True)
class Purged:
    handoff_messages: int
    fallback_texts: int


def purge_chat_content(*, session: Session, before: datetime) -> Purged:
    """Delete handoff conversations of tickets closed before `before`, and the kept words of
    messages the bot did not understand written before it."""
    return Purged(
        handoff_messages=purge_closed(session=session, closed_before=before),
        fallback_texts=purge_fallback_texts(session=session, before=before),
    )
