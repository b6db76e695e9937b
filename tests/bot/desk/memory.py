"""Memory backends for desk tests (errbot style): a channel that keeps what it was sent and a
desk that keeps what it was told, plus a clock the test moves by hand."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from bot.desk.handoff import DeskPolicy, Handoff
from bot.desk.hours import DeskHours
from bot.desk.views import MessageView, TicketView
from bot.messages import OutboundMessage

# 10:00 in Vietnam (UTC+7), inside the default desk hours.
OPEN_HOURS = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)


@dataclass
class MemorySender:
    sent: list[tuple[str, OutboundMessage]] = field(default_factory=list)

    async def send(self, channel_user_id: str, messages: Sequence[OutboundMessage]) -> None:
        self.sent.extend((channel_user_id, m) for m in messages)

    def texts(self, user: str) -> list[str]:
        return [m.text for u, m in self.sent if u == user]


@dataclass
class MemoryDesk:
    told: list[tuple[str, int, object]] = field(default_factory=list)
    takes_all: bool = True  # False: a desk that shows no commune's tickets to anyone

    def takes(self, session: Session, commune_code: str | None) -> bool:
        return self.takes_all

    def calls(self, what: str) -> list[tuple[int, object]]:
        return [(ticket, extra) for name, ticket, extra in self.told if name == what]

    async def opened(self, ticket: TicketView) -> None:
        self.told.append(("opened", ticket.id, ticket.state))

    async def resident_message(self, ticket: TicketView, message: MessageView) -> bool:
        self.told.append(("resident_message", ticket.id, message.text))
        return True

    async def claimed(self, ticket: TicketView) -> None:
        self.told.append(("claimed", ticket.id, ticket.claimer_name))

    async def closed(self, ticket: TicketView) -> None:
        self.told.append(("closed", ticket.id, ticket.state))

    async def reminded(self, ticket: TicketView, waited_minutes: int) -> None:
        self.told.append(("reminded", ticket.id, waited_minutes))

    async def escalated(self, ticket: TicketView, waited_minutes: int) -> None:
        self.told.append(("escalated", ticket.id, waited_minutes))


@dataclass
class Clock:
    now: datetime = OPEN_HOURS

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def make_handoff(
    sender: MemorySender, desk: MemoryDesk, clock: Clock, *, sla_minutes: int = 30
) -> Handoff:
    policy = DeskPolicy(
        sla_minutes=sla_minutes,
        hours=DeskHours.parse("07:30-17:00"),
        expire_after=timedelta(hours=24),
    )
    return Handoff(senders={"web": sender}, policy=policy, notifiers=[desk], clock=clock)
