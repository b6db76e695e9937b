"""Service levels for unclaimed tickets: remind the desk after DESK_SLA_MINUTES, escalate to
the commune's leads (and the fallback group) after twice that, expire with an apology after
DESK_EXPIRE_HOURS; and, hourly, delete conversations closed RETENTION_DAYS ago.

The clock counts from `sla_from` (the desk's next opening for tickets that came in out of
hours). Every step is recorded on the ticket with a conditional UPDATE, so it happens once
across replicas and restarts. Time comes from the handoff's clock (tests set it).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from bot.desk.handoff import Handoff
from bot.desk.views import TicketView
from core.db import in_db
from core.repositories.tickets import SlaStep, mark_sla_step, open_tickets
from core.retention import Purged, purge_chat_content

log = logging.getLogger(__name__)
TICK_SECONDS = 30.0
PURGE_SECONDS = 3600.0


@dataclass(frozen=True)
class Due:
    ticket: TicketView
    step: SlaStep | None  # None: expire
    waited_minutes: int


@dataclass
class DeskTimers:
    handoff: Handoff

    async def tick(self, now: datetime | None = None) -> list[Due]:
        """Take every step that is due at `now`; returns what was done."""
        now = now or self.handoff.clock()
        policy = self.handoff.policy
        sla = timedelta(minutes=policy.sla_minutes)

        def due(session: Session) -> list[Due]:
            done: list[Due] = []
            for ticket in open_tickets(session=session):
                view = TicketView.of(session, ticket)
                waited = now - view.sla_from
                minutes = int(waited.total_seconds() // 60)
                if waited >= policy.expire_after:
                    done.append(Due(view, None, minutes))
                    continue
                step = None
                if waited >= 2 * sla and ticket.escalated_at is None:
                    step = SlaStep.ESCALATED
                elif waited >= sla and ticket.reminded_at is None:
                    step = SlaStep.REMINDED
                if step and mark_sla_step(session=session, ticket_id=ticket.id, step=step, now=now):
                    done.append(Due(view, step, minutes))
            return done

        steps = await in_db(due)
        for step in steps:
            await self._act(step)
        return steps

    async def _act(self, due: Due) -> None:
        if due.step is None:
            await self.handoff.expire(due.ticket.id)
            return
        what = "reminded" if due.step == SlaStep.REMINDED else "escalated"
        for notifier in self.handoff.notifiers:
            try:
                await getattr(notifier, what)(due.ticket, due.waited_minutes)
            except Exception:
                log.exception("desk %s: %s of ticket %s failed", notifier, what, due.ticket.id)

    async def purge(self, retention: timedelta) -> Purged:
        """Delete chat content (closed handoff conversations, kept unanswered questions)
        older than `retention`, and the progress of residents without consent whose session
        is over."""
        now = self.handoff.clock()
        return await in_db(
            lambda session: purge_chat_content(session=session, before=now - retention, now=now)
        )

    async def run_forever(self, retention: timedelta, every: float = TICK_SECONDS) -> None:
        """Tick every `every` seconds; purge old conversations once an hour."""
        ticks_per_purge = max(1, int(PURGE_SECONDS // every))
        count = 0
        while True:
            try:
                await self.tick()
                if count % ticks_per_purge == 0:
                    await self.purge(retention)
            except Exception:  # a database hiccup must not stop the timers for good
                log.exception("desk timers: tick failed")
            count += 1
            await asyncio.sleep(every)
