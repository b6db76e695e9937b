"""RETENTION_DAYS: chat content older than the retention period is deleted (hourly in the
gateway, and by `cns purge`). Counts in `events` are kept; they hold no chat text. Where a
resident who has not agreed to the privacy notice is in a walkthrough or lesson is kept only
for their session (SESSION_LENGTH after they last moved), then deleted by the same purge."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from core.models import utcnow
from core.repositories.events import purge_fallback_texts
from core.repositories.progress import purge_unconsented
from core.repositories.ticket_messages import purge_closed

# Rasa's session_expiration_time (data/domain.yml, minutes): a conversation idle this long
# starts a new session.
SESSION_LENGTH = timedelta(minutes=60)


@dataclass(frozen=True)
class Purged:
    handoff_messages: int
    fallback_texts: int
    progress: int


def purge_chat_content(
    *, session: Session, before: datetime, now: datetime | None = None
) -> Purged:
    """Delete handoff conversations of tickets closed before `before`, the kept words of
    messages the bot did not understand written before it, and the progress of residents
    without consent whose session is over."""
    return Purged(
        handoff_messages=purge_closed(session=session, closed_before=before),
        fallback_texts=purge_fallback_texts(session=session, before=before),
        progress=purge_unconsented(
            session=session, touched_before=(now or utcnow()) - SESSION_LENGTH
        ),
    )
