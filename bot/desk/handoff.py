"""The handoff coordinator: opens tickets, relays between resident and volunteer, closes them.

Every state change and every message is written to the database first (with its metric event
in the same transaction); then the desks (the Telegram forum desk; the web desk reads the
database) and the resident's channel are told. A resident with an open or claimed ticket is
not sent to Rasa: the router hands their messages here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy.orm import Session

from bot.desk import replies
from bot.desk.hours import DeskHours
from bot.desk.views import MessageView, TicketView, place_of
from bot.messages import InboundMessage, OutboundMessage
from bot.typed_buttons import TypedButtons
from core.db import in_db
from core.models import (
    EventType,
    MessageAuthor,
    MessageKind,
    Ticket,
    TicketReason,
    TicketState,
    utcnow,
)
from core.repositories.announcement_replies import received
from core.repositories.events import record_event
from core.repositories.residents import commune_of
from core.repositories.ticket_messages import NOTE_PREFIX, add_message, mark_relayed
from core.repositories.tickets import (
    NotYourCommune,
    active_ticket,
    claim_ticket,
    close_ticket,
    may_act,
    open_ticket,
    queue_position,
    rate_ticket,
    tickets_opened_since,
    typical_wait_minutes,
)
from core.repositories.volunteers import serves_on_the_web

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]


class NotTheClaimer(PermissionError):
    """Only the volunteer who claimed a ticket may write to the resident or close it."""


class Unreachable(Exception):
    """The resident cannot be reached on their channel now (e.g. Zalo's free-reply window
    closed); the message is kept, and the volunteer is told this reason."""


class ChannelSender(Protocol):
    """Sends messages to a resident on one channel (web mailbox, Telegram, Zalo); raises
    Unreachable when the channel will not deliver them now."""

    async def send(self, channel_user_id: str, messages: Sequence[OutboundMessage]) -> None: ...


class DeskNotifier(Protocol):
    """A place where volunteers see tickets (the Telegram forum desk)."""

    def takes(self, session: Session, commune_code: str | None) -> bool:
        """True when volunteers here will see a ticket of `commune_code` (None: no commune)."""
        ...

    async def opened(self, ticket: TicketView) -> None: ...
    async def resident_message(self, ticket: TicketView, message: MessageView) -> bool: ...
    async def claimed(self, ticket: TicketView) -> None: ...
    async def closed(self, ticket: TicketView) -> None: ...
    async def reminded(self, ticket: TicketView, waited_minutes: int) -> None: ...
    async def escalated(self, ticket: TicketView, waited_minutes: int) -> None: ...


@dataclass(frozen=True)
class DeskPolicy:
    sla_minutes: int
    hours: DeskHours
    expire_after: timedelta
    # At most this many new tickets per commune per window (a flood must not swamp a team).
    new_tickets_per_commune: int = 20
    new_tickets_window: timedelta = timedelta(hours=1)


@dataclass(frozen=True)
class Waiting:
    """A resident's place in the commune's queue and the usual wait, for telling them."""

    position: int
    minutes: int


@dataclass(frozen=True)
class NobodyTakes:
    """No desk would show a ticket of this commune to anyone who may take it."""

    commune: str | None


@dataclass(frozen=True)
class ClaimResult:
    ticket: TicketView
    claimed: bool  # False: someone else had it already


def _attachment_fields(message: InboundMessage) -> dict[str, object]:
    attachment = message.attachment
    if attachment is None:
        return {"kind": MessageKind.TEXT}
    return {
        "kind": attachment.kind,
        "file_ref": attachment.ref,
        "latitude": attachment.latitude,
        "longitude": attachment.longitude,
    }


def active_view(session: Session, resident: str) -> TicketView | None:
    """The resident's open or claimed ticket, if any."""
    ticket = active_ticket(session=session, resident_id=resident)
    return TicketView.of(session, ticket) if ticket else None


@dataclass
class Handoff:
    senders: dict[str, ChannelSender]
    policy: DeskPolicy
    notifiers: list[DeskNotifier] = field(default_factory=list)
    clock: Clock = utcnow
    # Remembers the buttons sent outside a request (the rating), so typing "5" presses "5".
    typed_buttons: TypedButtons | None = None

    # ------------------------------------------------------------------ resident side

    async def active(self, resident: str) -> TicketView | None:
        return await in_db(lambda session: active_view(session, resident))

    async def request(
        self,
        *,
        resident: str,
        message: InboundMessage,
        reason: TicketReason,
        service: str | None = None,
        step: int | None = None,
        summary: str = "",
        announcement_id: int | None = None,
    ) -> list[OutboundMessage]:
        """Open a ticket for the resident's own commune (or report the one already open).

        `announcement_id`: the announcement the resident asks about; the ticket carries it
        (a plain request becomes reason ANNOUNCEMENT) only when it reached this resident, so
        a typed id of another's is a plain request. When no desk would show it to anyone, no
        ticket is opened (the bot keeps answering) and the resident is told honestly where to
        get help instead; when the commune got its fill of new tickets lately, the resident is
        asked to try again later."""
        now = self.clock()
        if await in_db(lambda session: self._commune_is_full(session, resident, now)):
            return [replies.TEAM_BUSY]

        def open_(session: Session) -> tuple[TicketView, bool, Waiting] | NobodyTakes:
            commune = commune_of(session=session, resident_id=resident)
            if active_ticket(session=session, resident_id=resident) is None and not self._taken(
                session, commune
            ):
                return NobodyTakes(commune)
            about = (
                received(session=session, resident_id=resident, announcement_id=announcement_id)
                if announcement_id is not None
                else None
            )
            ticket, created = open_ticket(
                session=session,
                resident_id=resident,
                channel=message.channel,
                channel_user_id=message.channel_user_id,
                commune_code=commune,
                reason=TicketReason.ANNOUNCEMENT
                if about is not None and reason == TicketReason.REQUEST_HUMAN
                else reason,
                announcement_id=about.id if about is not None else None,
                service=service,
                step=step,
                summary=summary,
                now=now,
                sla_from=self.policy.hours.next_opening(now),
            )
            if created:
                self._event(session, ticket, EventType.HANDOFF_REQUESTED, now=now)
            return TicketView.of(session, ticket), created, self._waiting(session, ticket)

        opened = await in_db(open_)
        if isinstance(opened, NobodyTakes):
            log.warning("handoff: no desk takes tickets of commune %s", opened.commune)
            return replies.nobody_to_take(
                place_of(opened.commune), urgent=reason == TicketReason.SCAM
            )
        ticket, created, waiting = opened
        if not created:
            return replies.still_waiting(waiting.position, waiting.minutes)
        await self._notify("opened", ticket)
        if not self.policy.hours.is_open(now):
            return replies.queued_after_hours(ticket.team, self.policy.hours.describe_opening(now))
        return replies.queued(ticket.team, waiting.position, waiting.minutes)

    def _commune_is_full(self, session: Session, resident: str, now: datetime) -> bool:
        if active_ticket(session=session, resident_id=resident) is not None:
            return False  # no new ticket: they are told their place in the queue
        commune = commune_of(session=session, resident_id=resident)
        since = now - self.policy.new_tickets_window
        opened = tickets_opened_since(session=session, commune_code=commune, since=since)
        if opened < self.policy.new_tickets_per_commune:
            return False
        log.warning("Commune %s got %d new tickets since %s: refusing more", commune, opened, since)
        return True

    async def resident_wrote(
        self, ticket: TicketView, message: InboundMessage
    ) -> list[OutboundMessage]:
        """Store what the resident sent, then put it before the volunteers."""

        waiting_for_claim = ticket.state == TicketState.OPEN

        def store(session: Session) -> tuple[MessageView, Waiting | None]:
            stored = add_message(
                session=session,
                ticket_id=ticket.id,
                author=MessageAuthor.RESIDENT,
                text=message.text,
                now=self.clock(),
                **_attachment_fields(message),  # type: ignore[arg-type]
            )
            row = session.get(Ticket, ticket.id)
            waiting = self._waiting(session, row) if waiting_for_claim and row else None
            return MessageView.of(session, stored), waiting

        stored, waiting = await in_db(store)
        relayed = [await n.resident_message(ticket, stored) for n in self.notifiers]
        if any(relayed):
            await in_db(lambda session: mark_relayed(session=session, message_id=stored.id))
        if waiting is None:
            return []
        return replies.still_waiting(waiting.position, waiting.minutes)

    async def cancel(self, resident: str) -> list[OutboundMessage]:
        """The resident no longer needs a person ("Thôi, không cần nữa")."""
        ticket = await self.active(resident)
        if ticket is None:
            return [replies.NOTHING_TO_CANCEL]
        closed = await self._close(ticket.id, TicketState.CANCELLED, None)
        if closed is not None:
            await self._notify("closed", closed)
        return [replies.CANCELLED]

    async def rate(self, resident: str, ticket_id: int, score: int) -> list[OutboundMessage]:
        def store(session: Session) -> bool:
            ticket = session.get(Ticket, ticket_id)
            if ticket is None or ticket.resident_id != resident or ticket.rating is not None:
                return False
            rate_ticket(session=session, ticket_id=ticket_id, rating=score)
            self._event(session, ticket, EventType.CSAT, now=self.clock(), value=float(score))
            return True

        await in_db(store)
        return [replies.THANKS_FOR_RATING]

    # ----------------------------------------------------------------- volunteer side

    async def claim(
        self, ticket_id: int, volunteer_id: int, *, fallback_desk: bool = False
    ) -> ClaimResult:
        """Raises LookupError for an unknown ticket, NotYourCommune for another commune's.
        `fallback_desk`: pressed in the fallback group, which takes tickets without a commune."""
        now = self.clock()

        def take(session: Session) -> ClaimResult:
            claim = claim_ticket(
                session=session,
                ticket_id=ticket_id,
                volunteer_id=volunteer_id,
                now=now,
                fallback_desk=fallback_desk,
            )
            view = TicketView.of(session, claim.ticket)
            if claim.claimed:
                waited = (now - view.created_at).total_seconds()
                self._event(session, claim.ticket, EventType.HANDOFF_CLAIMED, now=now, value=waited)
            return ClaimResult(view, claim.claimed)

        result = await in_db(take)
        if result.claimed:
            await self._notify("claimed", result.ticket)
            await self._to_resident(
                result.ticket, [replies.claimed(result.ticket.claimer_name or "")]
            )
        return result

    async def volunteer_wrote(
        self,
        ticket_id: int,
        volunteer_id: int,
        text: str,
        message: InboundMessage | None = None,
    ) -> MessageView:
        """Store the volunteer's message; relay it unless it is a `//` note.

        `message` carries a file or location sent from Telegram. Raises NotTheClaimer."""
        note = text.lstrip().startswith(NOTE_PREFIX)

        def store(session: Session) -> tuple[TicketView, MessageView]:
            ticket = self._claimed_by(session, ticket_id, volunteer_id)
            stored = add_message(
                session=session,
                ticket_id=ticket_id,
                author=MessageAuthor.NOTE if note else MessageAuthor.VOLUNTEER,
                volunteer_id=volunteer_id,
                text=text,
                now=self.clock(),
                **(_attachment_fields(message) if message else {}),  # type: ignore[arg-type]
            )
            return TicketView.of(session, ticket), MessageView.of(session, stored)

        ticket, stored = await in_db(store)
        if not note:
            outbound = OutboundMessage(
                stored.text, attachment=message.attachment if message else None
            )
            if await self._to_resident(ticket, [outbound], tell_volunteer=True):
                await in_db(lambda session: mark_relayed(session=session, message_id=stored.id))
        return stored

    async def close(
        self, ticket_id: int, volunteer_id: int, *, returned_to_bot: bool
    ) -> TicketView:
        """ "Đóng – đã xong" or "Trả lại cho bot": the bot resumes and asks for a rating."""
        await in_db(lambda session: self._claimed_by(session, ticket_id, volunteer_id))
        closed = await self._close(
            ticket_id, TicketState.RESOLVED, "bot" if returned_to_bot else None
        )
        if closed is None:
            raise NotTheClaimer(f"ticket {ticket_id} is not active")
        await self._notify("closed", closed)
        await self._to_resident(closed, replies.resumed(closed.id, returned_to_bot=returned_to_bot))
        return closed

    async def expire(self, ticket_id: int) -> TicketView | None:
        """Nobody claimed it in time: apologise, advise, let the bot answer again."""
        closed = await self._close(ticket_id, TicketState.EXPIRED, None)
        if closed is not None:
            await self._notify("closed", closed)
            await self._to_resident(closed, replies.expired(closed.place))
        return closed

    # -------------------------------------------------------------------- internals

    def _waiting(self, session: Session, ticket: Ticket) -> Waiting:
        return Waiting(
            position=queue_position(session=session, ticket=ticket),
            minutes=typical_wait_minutes(
                session=session, commune_code=ticket.commune_code, default=self.policy.sla_minutes
            ),
        )

    def _taken(self, session: Session, commune: str | None) -> bool:
        """True when some desk shows a ticket of `commune` to someone who may take it."""
        if serves_on_the_web(session=session, commune_code=commune):
            return True
        return any(notifier.takes(session, commune) for notifier in self.notifiers)

    def _claimed_by(self, session: Session, ticket_id: int, volunteer_id: int) -> Ticket:
        ticket = session.get(Ticket, ticket_id)
        if ticket is None:
            raise LookupError(f"no ticket {ticket_id}")
        if not may_act(session=session, ticket=ticket, volunteer_id=volunteer_id):
            raise NotYourCommune(f"volunteer {volunteer_id} does not serve {ticket.commune_code}")
        if ticket.state != TicketState.CLAIMED or ticket.claimed_by != volunteer_id:
            raise NotTheClaimer(f"ticket {ticket_id} is not claimed by volunteer {volunteer_id}")
        return ticket

    async def _close(
        self, ticket_id: int, state: TicketState, key: str | None
    ) -> TicketView | None:
        now = self.clock()
        kind = {
            TicketState.RESOLVED: EventType.HANDOFF_RESOLVED,
            TicketState.EXPIRED: EventType.HANDOFF_EXPIRED,
        }.get(state)

        def close(session: Session) -> TicketView | None:
            ticket = close_ticket(session=session, ticket_id=ticket_id, state=state, now=now)
            if ticket is None:
                return None
            view = TicketView.of(session, ticket)
            if kind is not None:
                took = (now - view.created_at).total_seconds()
                self._event(session, ticket, kind, now=now, value=took, key=key)
            return view

        return await in_db(close)

    def _event(
        self,
        session: Session,
        ticket: Ticket,
        type_: EventType,
        *,
        now: datetime,
        value: float | None = None,
        key: str | None = None,
    ) -> None:
        record_event(
            session=session,
            type=type_,
            channel=ticket.channel,
            resident_id=ticket.resident_id,
            commune_code=ticket.commune_code,
            key=key or ticket.reason,
            value=value,
            ticket_id=ticket.id,
            occurred_at=now,
        )

    async def _to_resident(
        self, ticket: TicketView, messages: list[OutboundMessage], *, tell_volunteer: bool = False
    ) -> bool:
        """Send to the resident; False when it could not be sent. With `tell_volunteer`, an
        Unreachable resident raises, so the volunteer hears why."""
        sender = self.senders.get(ticket.channel)
        if sender is None or not ticket.channel_user_id:
            log.warning("ticket %s: no way to reach the resident on %s", ticket.id, ticket.channel)
            return False
        try:
            await sender.send(ticket.channel_user_id, messages)
        except Unreachable:
            if tell_volunteer:
                raise
            log.warning("ticket %s: resident unreachable on %s", ticket.id, ticket.channel)
            return False
        except Exception:  # the ticket and its messages are stored; the volunteer can retry
            log.exception("ticket %s: sending to the resident failed", ticket.id)
            return False

        def count(session: Session) -> None:
            for _ in messages:
                record_event(
                    session=session,
                    type=EventType.MESSAGE_OUT,
                    channel=ticket.channel,
                    resident_id=ticket.resident_id,
                    commune_code=ticket.commune_code,
                    ticket_id=ticket.id,
                )

        await in_db(count)
        if self.typed_buttons is not None and any(m.buttons for m in messages):
            await self.typed_buttons.remember(ticket.resident_id, messages)
        return True

    async def _notify(self, what: str, ticket: TicketView) -> None:
        for notifier in self.notifiers:
            try:
                await getattr(notifier, what)(ticket)
            except Exception:  # one desk failing must not stop the others or the resident
                log.exception("desk %s: %s of ticket %s failed", notifier, what, ticket.id)
