"""The handoff coordinator on SQLite and PostgreSQL, with memory channel and desk: one ticket
per resident, queue replies, claims only by the commune's volunteers (by the fallback desk for
a ticket without a commune), no ticket when nobody could take it, relaying (stored first,
masked, `//` notes kept in; without consent only for the ticket's life), closing with the
rating, cancel, events with their times."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.desk.handoff import Handoff, NotTheClaimer
from bot.desk.replies import TEAM_BUSY, parse_rating
from bot.messages import InboundMessage
from bot.rasa_client import RasaClient
from bot.router import BUSY_REPLY, Router
from bot.typed_buttons import TypedButtons
from cns.stack import free_port
from core.db import session_scope
from core.kv import make_redis
from core.models import EventType, Ticket, TicketMessage, TicketReason, VolunteerRole
from core.privacy import pseudonymize
from core.repositories.events import list_events
from core.repositories.residents import set_commune, set_consent
from core.repositories.ticket_messages import messages_of
from core.repositories.tickets import NotYourCommune
from core.repositories.volunteers import add_volunteer, set_web_login
from tests.bot.desk.memory import Clock, MemoryDesk, MemorySender, make_handoff

BA_DINH, OTHER = "00004", "00008"


@dataclass
class Desk:
    handoff: Handoff
    sender: MemorySender
    desk: MemoryDesk
    clock: Clock
    lan: int  # volunteer of Ba Dinh
    minh: int  # volunteer of Ba Dinh
    xa_khac: int  # volunteer of another commune


@pytest.fixture
def desk(app_database: str) -> Desk:
    with session_scope() as session:
        lan = add_volunteer(session=session, display_name="Chị Lan", communes=[BA_DINH]).id
        minh = add_volunteer(session=session, display_name="Anh Minh", communes=[BA_DINH]).id
        other = add_volunteer(session=session, display_name="Chị Hoa", communes=[OTHER]).id
    sender, memory, clock = MemorySender(), MemoryDesk(), Clock()
    return Desk(make_handoff(sender, memory, clock), sender, memory, clock, lan, minh, other)


def said(user: str, text: str) -> InboundMessage:
    return InboundMessage(channel="web", channel_user_id=user, text=text)


async def ask(desk: Desk, resident: str, user: str, **kwargs: object) -> list[str]:
    with session_scope() as session:
        set_commune(session=session, resident_id=resident, commune_code=BA_DINH)
    replies = await desk.handoff.request(
        resident=resident,
        message=said(user, "gap nguoi"),
        reason=TicketReason.REQUEST_HUMAN,
        **kwargs,  # type: ignore[arg-type]
    )
    return [r.text for r in replies]


def texts_of(session: Session, ticket_id: int) -> list[str]:
    return [m.text for m in messages_of(session=session, ticket_id=ticket_id)]


def events(resident: str) -> list[tuple[str, str | None, float | None]]:
    """The resident's handoff and rating events (message counts left out)."""
    with session_scope() as session:
        rows = list_events(session=session, resident_id=resident)
        return [(e.type, e.key, e.value) for e in rows if e.type != EventType.MESSAGE_OUT]


async def test_a_request_opens_one_ticket_and_tells_the_place_in_the_queue(desk: Desk) -> None:
    first = await ask(desk, "r1", "u1")
    assert first[0].startswith("Dạ, em đã báo Tổ công nghệ số Phường Ba Đình, Hà Nội.")
    assert "lượt thứ 1" in first[1]
    assert "khoảng 30 phút" in first[1]
    second = await ask(desk, "r2", "u2")
    assert "lượt thứ 2" in second[1]
    again = await ask(desk, "r1", "u1")
    assert len(again) == 1
    assert "lượt thứ 1" in again[0]
    assert [name for name, _, _ in desk.desk.told] == ["opened", "opened"]
    assert events("r1") == [("handoff_requested", "request_human", None)]


async def test_out_of_hours_the_resident_is_told_when_someone_answers(desk: Desk) -> None:
    desk.clock.now = desk.clock.now.replace(hour=13)  # 20:00 in Vietnam
    replies = await ask(desk, "r1", "u1")
    assert "ngoài giờ hỗ trợ" in replies[0]
    assert replies[1].startswith("Khoảng 7:30 ngày mai sẽ có người nhắn lại")


async def test_only_a_volunteer_of_the_commune_claims_and_only_once(desk: Desk) -> None:
    await ask(desk, "r1", "u1")
    ticket = await desk.handoff.active("r1")
    assert ticket is not None
    with pytest.raises(NotYourCommune):
        await desk.handoff.claim(ticket.id, desk.xa_khac)
    desk.clock.advance(minutes=4)
    won = await desk.handoff.claim(ticket.id, desk.lan)
    lost = await desk.handoff.claim(ticket.id, desk.minh)
    assert won.claimed
    assert not lost.claimed
    assert lost.ticket.claimer_name == "Chị Lan"
    assert desk.sender.texts("u1")[-1].startswith("Dạ, Chị Lan ở Tổ công nghệ số đã nhận")
    assert events("r1")[-1] == ("handoff_claimed", "request_human", 240.0)


async def test_messages_are_stored_masked_then_relayed_both_ways(desk: Desk) -> None:
    await ask(desk, "r1", "u1")
    ticket = await desk.handoff.active("r1")
    assert ticket is not None
    waiting = await desk.handoff.resident_wrote(ticket, said("u1", "so cua toi 0912345678"))
    assert "lượt thứ 1" in waiting[0].text
    with pytest.raises(NotTheClaimer):
        await desk.handoff.volunteer_wrote(ticket.id, desk.lan, "chào bác")
    await desk.handoff.claim(ticket.id, desk.lan)
    claimed = await desk.handoff.active("r1")
    assert claimed is not None
    assert await desk.handoff.resident_wrote(claimed, said("u1", "mã OTP 482913")) == []
    await desk.handoff.volunteer_wrote(ticket.id, desk.lan, "Dạ bác đợi em chút")
    await desk.handoff.volunteer_wrote(ticket.id, desk.lan, "// bác này cần gọi lại")
    with pytest.raises(NotTheClaimer):
        await desk.handoff.volunteer_wrote(ticket.id, desk.minh, "em nhắn thay")
    with session_scope() as session:
        rows = [
            (m.author, m.text, m.relayed_at is not None)
            for m in messages_of(session=session, ticket_id=ticket.id)
        ]
    assert rows == [
        ("resident", "so cua toi [số điện thoại]", True),
        ("resident", "mã OTP [dãy số]", True),
        ("volunteer", "Dạ bác đợi em chút", True),
        ("note", "// bác này cần gọi lại", False),
    ]
    assert [t for _, t in desk.desk.calls("resident_message")] == [rows[0][1], rows[1][1]]
    assert desk.sender.texts("u1")[-1] == "Dạ bác đợi em chút"  # the note never left


async def test_closing_resumes_the_bot_and_asks_for_a_rating_once(desk: Desk) -> None:
    await ask(desk, "r1", "u1")
    ticket = await desk.handoff.active("r1")
    assert ticket is not None
    await desk.handoff.claim(ticket.id, desk.lan)
    with pytest.raises(NotTheClaimer):
        await desk.handoff.close(ticket.id, desk.minh, returned_to_bot=False)
    desk.clock.advance(minutes=20)
    closed = await desk.handoff.close(ticket.id, desk.lan, returned_to_bot=False)
    assert closed.state == "resolved"
    assert await desk.handoff.active("r1") is None
    rating = [m for u, m in desk.sender.sent if u == "u1" and m.buttons][-1]
    assert [b.title for b in rating.buttons] == ["1", "2", "3", "4", "5"]
    assert desk.sender.texts("u1")[-1] == "Dạ, bác còn cần hỗ trợ gì nữa không ạ?"
    score = parse_rating(rating.buttons[3].payload)
    assert score == (ticket.id, 4)
    await desk.handoff.rate("someone-else", ticket.id, 1)  # not theirs: ignored
    await desk.handoff.rate("r1", ticket.id, 4)
    await desk.handoff.rate("r1", ticket.id, 1)  # once only
    kinds = [(t, v) for t, _, v in events("r1") if t in {"handoff_resolved", "csat"}]
    assert kinds == [("handoff_resolved", 1200.0), ("csat", 4.0)]
    assert ("closed", ticket.id, "resolved") in desk.desk.told


async def test_the_resident_can_cancel_while_waiting(desk: Desk) -> None:
    await ask(desk, "r1", "u1")
    replies = await desk.handoff.cancel("r1")
    assert replies[0].text.startswith("Dạ, em đã huỷ yêu cầu")
    assert await desk.handoff.active("r1") is None
    assert (await desk.handoff.cancel("r1"))[0].text.startswith("Dạ, bác hiện không có")
    assert [t for t, _, _ in events("r1")] == [EventType.HANDOFF_REQUESTED.value]


async def test_messages_count_as_stored_rows(desk: Desk) -> None:
    """Every resident message during a handoff is a row before any desk hears of it."""
    await ask(desk, "r1", "u1")
    ticket = await desk.handoff.active("r1")
    assert ticket is not None
    for n in range(3):
        await desk.handoff.resident_wrote(ticket, said("u1", f"tin {n}"))
    with session_scope() as session:
        count = session.query(TicketMessage).filter_by(ticket_id=ticket.id).count()
    assert count == 3 == len(desk.desk.calls("resident_message"))


async def test_a_ticket_without_a_commune_is_taken_by_the_fallback_desk(desk: Desk) -> None:
    """Finding 8: a scam reported before the commune was known opens at once, and a team lead
    (the fallback desk on the web) can claim it; before, nobody could."""
    with session_scope() as session:
        lead = add_volunteer(
            session=session, display_name="Anh Tuấn", communes=[OTHER], role=VolunteerRole.LEAD
        ).id
    replies = await desk.handoff.request(
        resident="r9", message=said("u9", "cuu toi"), reason=TicketReason.SCAM
    )
    assert replies[0].text.startswith("Dạ, em đã báo Tổ công nghệ số.")
    ticket = await desk.handoff.active("r9")
    assert ticket is not None
    assert ticket.commune_code is None
    with pytest.raises(NotYourCommune):
        await desk.handoff.claim(ticket.id, desk.lan)
    assert (await desk.handoff.claim(ticket.id, lead)).claimed
    await desk.handoff.volunteer_wrote(ticket.id, lead, "Dạ, bác ở xã nào ạ?")
    await desk.handoff.close(ticket.id, lead, returned_to_bot=False)
    assert desk.sender.texts("u9")[1] == "Dạ, bác ở xã nào ạ?"


async def test_nobody_to_take_it_is_said_honestly_and_no_ticket_opens(desk: Desk) -> None:
    """Finding 8: no desk shows the commune's tickets to anyone (no group, no fallback group,
    no volunteer on the web desk): the resident is not told that help is coming."""
    desk.desk.takes_all = False
    plain = await ask(desk, "r1", "u1")
    assert plain[0].startswith("Dạ, em xin lỗi bác, Tổ công nghệ số Phường Ba Đình, Hà Nội chưa")
    assert "Trung tâm phục vụ hành chính công Phường Ba Đình" in plain[-1]
    assert not any("đã báo" in text for text in plain)
    urgent = await desk.handoff.request(
        resident="r9", message=said("u9", "cuu"), reason=TicketReason.SCAM
    )
    assert "gọi 113" in urgent[1].text
    assert await desk.handoff.active("r1") is None
    assert await desk.handoff.active("r9") is None
    assert desk.desk.told == []
    with session_scope() as session:  # a volunteer of Ba Dinh can now sign in to the web desk
        set_web_login(session=session, volunteer_id=desk.lan, username="lan", password="x" * 12)
    assert (await ask(desk, "r1", "u1"))[0].startswith("Dạ, em đã báo")


async def test_without_consent_the_conversation_goes_with_the_ticket(desk: Desk) -> None:
    """Finding 11: a resident who did not agree to their words being kept has them stored only
    while the ticket is active; one who agreed keeps them for RETENTION_DAYS (purge)."""
    with session_scope() as session:
        set_consent(session=session, resident_id="r2", consent=True)
    for resident, user in (("r1", "u1"), ("r2", "u2")):
        await ask(desk, resident, user, summary=f"Người dân nhắn gần đây:\n• toi la {user}")
        ticket = await desk.handoff.active(resident)
        assert ticket is not None
        await desk.handoff.resident_wrote(ticket, said(user, f"nha {user} o thon Dong"))
        await desk.handoff.cancel(resident)
    with session_scope() as session:
        kept = {
            t.resident_id: (t.summary, texts_of(session, t.id))
            for t in session.scalars(select(Ticket))
        }
    assert kept == {
        "r1": ("", []),
        "r2": ("Người dân nhắn gần đây:\n• toi la u2", ["nha u2 o thon Dong"]),
    }


@pytest.mark.parametrize(
    "payload",
    [
        '/csat{"value": "x"}',
        "/csat{",
        '/csat{"ticket": -1, "score": 3}',
        '/csat{"ticket": 99999999999999999999, "score": 3}',
        '/csat{"ticket": 1e400, "score": 3}',
        '/csat{"ticket": 1, "score": 1e400}',
        '/csat{"ticket": 1, "score": 99}',
        '/csat{"ticket": 1.5, "score": 2}',
        '/csat{"ticket": "1", "score": true}',
        "/csat[1, 2]",
        '/csat"ticket"',
        '/csat{"ticket": 1, "score": 2, "x": ' + "[" * 1990 + "]" * 1990 + "}",
    ],
)
def test_anything_else_typed_after_csat_is_no_rating(payload: str) -> None:
    assert parse_rating(payload) is None


def test_a_rating_buttons_payload_is_a_rating() -> None:
    assert parse_rating('/csat{"ticket":12,"score":5}') == (12, 5)


def resident_router(desk: Desk) -> Router:
    """The router in front of the desk; Rasa is unreachable (it answers "busy")."""
    return Router(
        rasa=RasaClient(f"http://127.0.0.1:{free_port()}"),
        pseudonym_key="k",
        typed_buttons=TypedButtons(make_redis(None)),
        handoff=desk.handoff,
    )


async def test_hostile_rating_payloads_reach_no_ticket(desk: Desk) -> None:
    router = resident_router(desk)
    for payload in (
        '/csat{"ticket": 99999999999999999999, "score": 3}',
        '/csat{"ticket": 1e400, "score": 3}',
        '/csat{"x": ' + "[" * 1990 + "]" * 1990 + "}",
    ):
        replies = await router.answer(said("u1", payload))
        assert [r.text for r in replies] == [BUSY_REPLY]


async def test_nul_characters_from_a_resident_in_a_handoff_are_dropped(desk: Desk) -> None:
    router = resident_router(desk)
    resident = pseudonymize("web", "u1", key="k")
    await ask(desk, resident, "u1")
    waiting = await router.answer(said("u\x001", "chào\x00 bác"))
    assert "lượt thứ 1" in waiting[0].text
    ticket = await desk.handoff.active(resident)
    assert ticket is not None
    with session_scope() as session:
        texts = [m.text for m in messages_of(session=session, ticket_id=ticket.id)]
    assert texts == ["chào bác"]


async def test_a_commune_gets_at_most_so_many_new_tickets_per_window(desk: Desk) -> None:
    """Residents rotating identities cannot flood a commune's team with tickets."""
    desk.handoff.policy = replace(
        desk.handoff.policy, new_tickets_per_commune=2, new_tickets_window=timedelta(minutes=30)
    )
    await ask(desk, "r1", "u1")
    await ask(desk, "r2", "u2")
    assert (await desk.handoff.cancel("r2"))[0].text.startswith("Dạ, em đã huỷ")  # still counts
    busy = await ask(desk, "r3", "u3")
    assert busy == [TEAM_BUSY.text]
    assert await desk.handoff.active("r3") is None
    assert events("r3") == []
    assert [name for name, _, _ in desk.desk.told] == ["opened", "opened", "closed"]
    # A resident already waiting is told their place, not that the team is busy.
    assert "lượt thứ 1" in (await ask(desk, "r1", "u1"))[0]
    # Another commune is not affected.
    with session_scope() as session:
        set_commune(session=session, resident_id="r4", commune_code=OTHER)
    other = await desk.handoff.request(
        resident="r4", message=said("u4", "gap nguoi"), reason=TicketReason.SCAM
    )
    assert other[0].text.startswith("Dạ, em đã báo")
    # Once the window has passed, the commune takes new tickets again.
    desk.clock.advance(minutes=31)
    assert (await ask(desk, "r3", "u3"))[0].startswith("Dạ, em đã báo")
