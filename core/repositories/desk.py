"""The Telegram desk's own routing store: which group takes a commune's handoffs, and which
forum topic holds which ticket (python-telegram-bot's ConversationHandler ignores topics)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import DeskLink, DeskTopic


def link_desk(*, session: Session, chat_id: int, communes: Iterable[str]) -> None:
    """Route these communes' handoffs to the forum group `chat_id` (replacing older links)."""
    for code in set(communes):
        link = session.get(DeskLink, code)
        if link is None:
            session.add(DeskLink(commune_code=code, chat_id=chat_id))
        else:
            link.chat_id = chat_id
    session.flush()


def linked_chat(*, session: Session, commune_code: str | None) -> int | None:
    if commune_code is None:
        return None
    link = session.get(DeskLink, commune_code)
    return link.chat_id if link else None


def links(*, session: Session) -> list[DeskLink]:
    return list(session.scalars(select(DeskLink).order_by(DeskLink.chat_id, DeskLink.commune_code)))


def save_topic(
    *, session: Session, ticket_id: int, chat_id: int, thread_id: int, card_message_id: int
) -> None:
    session.add(
        DeskTopic(
            ticket_id=ticket_id,
            chat_id=chat_id,
            thread_id=thread_id,
            card_message_id=card_message_id,
        )
    )
    session.flush()


def topic_of(*, session: Session, ticket_id: int) -> DeskTopic | None:
    return session.get(DeskTopic, ticket_id)


def ticket_in_topic(*, session: Session, chat_id: int, thread_id: int) -> int | None:
    return session.scalars(
        select(DeskTopic.ticket_id).where(
            DeskTopic.chat_id == chat_id, DeskTopic.thread_id == thread_id
        )
    ).one_or_none()
