"""Service-level timers with a controllable clock: remind after the SLA, escalate after twice
it, expire with an apology; each step once, across replicas and restarts (state in the DB)."""

from __future__ import annotations

from datetime import timedelta

from bot.desk.timers import DeskTimers
from bot.messages import InboundMessage
from core.db import session_scope
from core.models import EventType, Ticket, TicketReason
from core.repositories.events import list_events
from core.repositories.residents import set_commune, set_consent
from tests.bot.desk.memory import Clock, MemoryDesk, MemorySender, make_handoff


async def open_one(clock: Clock, sender: MemorySender, desk: MemoryDesk) -> int:
    handoff = make_handoff(sender, desk, clock, sla_minutes=15)
    with session_scope() as session:
        set_commune(session=session, resident_id="r1", commune_code="00004")
    await handoff.request(
        resident="r1",
        message=InboundMessage(channel="web", channel_user_id="u1", text="gap nguoi"),
        reason=TicketReason.REQUEST_HUMAN,
    )
    ticket = await handoff.active("r1")
    assert ticket is not None
    return ticket.id


async def test_remind_escalate_expire_each_once(app_database: str) -> None:
    clock, sender, desk = Clock(), MemorySender(), MemoryDesk()
    ticket = await open_one(clock, sender, desk)
    start = clock.now

    def replica() -> DeskTimers:  # a fresh gateway each time: nothing kept in memory
        return DeskTimers(make_handoff(sender, desk, clock, sla_minutes=15))

    assert await replica().tick(start + timedelta(minutes=14)) == []
    reminded = await replica().tick(start + timedelta(minutes=15))
    assert [(d.step, d.waited_minutes) for d in reminded] == [("reminded_at", 15)]
    assert await replica().tick(start + timedelta(minutes=20)) == []  # not twice
    escalated = await replica().tick(start + timedelta(minutes=31))
    assert [(d.step, d.waited_minutes) for d in escalated] == [("escalated_at", 31)]
    assert await replica().tick(start + timedelta(hours=23)) == []
    clock.now = start + timedelta(hours=24)
    expired = await replica().tick()
    assert [d.step for d in expired] == [None]
    assert desk.calls("reminded") == [(ticket, 15)]
    assert desk.calls("escalated") == [(ticket, 31)]
    assert desk.calls("closed") == [(ticket, "expired")]
    assert sender.texts("u1")[-2].startswith("Dạ, em xin lỗi bác, lâu quá mà chưa có người")
    with session_scope() as session:
        row = session.get(Ticket, ticket)
        assert row is not None
        assert row.state == "expired"
        types = [e.type for e in list_events(session=session, resident_id="r1")]
    assert EventType.HANDOFF_EXPIRED in types
    assert await replica().tick(start + timedelta(hours=30)) == []


async def test_two_replicas_ticking_together_remind_once(app_database: str) -> None:
    clock, sender, desk = Clock(), MemorySender(), MemoryDesk()
    await open_one(clock, sender, desk)
    later = clock.now + timedelta(minutes=16)
    a = DeskTimers(make_handoff(sender, desk, clock, sla_minutes=15))
    b = DeskTimers(make_handoff(sender, desk, clock, sla_minutes=15))
    done = [*(await a.tick(later)), *(await b.tick(later))]
    assert len(done) == 1
    assert len(desk.calls("reminded")) == 1


async def test_out_of_hours_the_clock_starts_at_the_next_opening(app_database: str) -> None:
    clock, sender, desk = Clock(), MemorySender(), MemoryDesk()
    clock.now = clock.now.replace(hour=13)  # 20:00 in Vietnam
    await open_one(clock, sender, desk)
    timers = DeskTimers(make_handoff(sender, desk, clock, sla_minutes=15))
    # 07:30 next morning in Vietnam is 00:30 UTC on the next day.
    opening = clock.now.replace(hour=0, minute=30) + timedelta(days=1)
    assert await timers.tick(opening + timedelta(minutes=14)) == []
    assert len(await timers.tick(opening + timedelta(minutes=15))) == 1


async def test_old_conversations_are_purged_after_retention(app_database: str) -> None:
    """(A resident who agreed to their words being kept; without that they go at closing.)"""
    clock, sender, desk = Clock(), MemorySender(), MemoryDesk()
    ticket = await open_one(clock, sender, desk)
    with session_scope() as session:
        set_consent(session=session, resident_id="r1", consent=True)
    handoff = make_handoff(sender, desk, clock, sla_minutes=15)
    view = await handoff.active("r1")
    assert view is not None
    await handoff.resident_wrote(view, InboundMessage("web", "u1", "toi o thon 3"))
    await handoff.cancel("r1")
    timers = DeskTimers(handoff)
    clock.advance(days=89)
    assert (await timers.purge(timedelta(days=90))).handoff_messages == 0
    clock.advance(days=2)
    assert (await timers.purge(timedelta(days=90))).handoff_messages == 1
    with session_scope() as session:
        row = session.get(Ticket, ticket)
        assert row is not None
        assert row.summary == ""
        assert row.state == "cancelled"
