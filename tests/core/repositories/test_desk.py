"""The Telegram desk routing store: commune → group, ticket ↔ forum topic."""

from __future__ import annotations

from sqlalchemy.orm import Session

from core.models import TicketReason
from core.repositories.desk import link_desk, linked_chat, save_topic, ticket_in_topic, topic_of
from core.repositories.tickets import open_ticket


def test_links_route_communes_and_can_move(session: Session) -> None:
    link_desk(session=session, chat_id=-1001, communes=["00004", "00008"])
    link_desk(session=session, chat_id=-1002, communes=["00008"])
    assert linked_chat(session=session, commune_code="00004") == -1001
    assert linked_chat(session=session, commune_code="00008") == -1002
    assert linked_chat(session=session, commune_code="00011") is None
    assert linked_chat(session=session, commune_code=None) is None


def test_topics_map_both_ways(session: Session) -> None:
    ticket, _ = open_ticket(
        session=session,
        resident_id="r1",
        channel="telegram",
        channel_user_id="42",
        commune_code="00004",
        reason=TicketReason.REQUEST_HUMAN,
    )
    save_topic(session=session, ticket_id=ticket.id, chat_id=-1001, thread_id=77, card_message_id=5)
    assert ticket_in_topic(session=session, chat_id=-1001, thread_id=77) == ticket.id
    assert ticket_in_topic(session=session, chat_id=-1001, thread_id=78) is None
    topic = topic_of(session=session, ticket_id=ticket.id)
    assert topic is not None
    assert (topic.chat_id, topic.thread_id, topic.card_message_id) == (-1001, 77, 5)
