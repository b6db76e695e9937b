"""Factories for test objects (trackers as the action server receives them, button presses,
gateway settings, staff logins, announcement delivery rows)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from rasa_sdk import Tracker
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from cns.stack import free_port
from core.models import Delivery, utcnow
from core.repositories.announcements import Target
from core.repositories.staff import add_staff
from core.repositories.volunteers import add_volunteer, set_web_login
from core.settings import Settings


def make_tracker(
    intent: str,
    *,
    sender_id: str = "resident-1",
    channel: str | None = "web",
    text: str = "",
    slots: dict[str, Any] | None = None,
    entities: dict[str, Any] | None = None,
    said: list[str] | None = None,
) -> Tracker:
    """A tracker whose latest message has `intent`, as the action server receives it;
    `said` are earlier user messages (as user events)."""
    metadata = {"channel": channel} if channel else {}
    return Tracker(
        sender_id=sender_id,
        slots=slots or {},
        latest_message={
            "intent": {"name": intent, "confidence": 0.97},
            "entities": [{"entity": k, "value": v} for k, v in (entities or {}).items()],
            "text": text,
            "metadata": metadata,
        },
        events=[{"event": "user", "text": t} for t in (said or [])],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


def press(payload: str, *, sender_id: str = "resident-1", channel: str | None = "web") -> Tracker:
    """The tracker after a button press: Rasa reads `/intent{json}` as intent and entities."""
    intent, _, raw = payload.removeprefix("/").partition("{")
    entities: dict[str, Any] = json.loads("{" + raw) if raw else {}
    return make_tracker(
        intent, sender_id=sender_id, channel=channel, text=payload, entities=entities
    )


def waiting(
    tracker: Tracker,
    slot: str,
    value: Any,
    *,
    set_by: str,
    between: Sequence[str] = (),
    carried_over: bool = False,
) -> Tracker:
    """`tracker` as Rasa sends it while a request waits in `slot`: the action `set_by` set it
    to `value` in this session (in an earlier one when `carried_over`), then the resident sent
    messages of the intents `between`, then the latest message."""
    set_it = {"event": "slot", "name": slot, "value": value}
    tracker.slots[slot] = value
    tracker.events = [
        {"event": "session_started"},
        {"event": "action", "name": set_by},
        set_it,
        *([{"event": "session_started"}, set_it] if carried_over else []),
        {"event": "action", "name": "action_listen"},
        *({"event": "user", "parse_data": {"intent": {"name": i}}} for i in between),
        {
            "event": "user",
            "text": tracker.latest_message["text"],
            "parse_data": tracker.latest_message,
        },
    ]
    return tracker


def offline_settings(database_url: str, **overrides: Any) -> Settings:
    """Gateway settings for in-process app tests: the test database, Rasa and the action
    server pointed at a port where nothing listens, no .env file, OCR workers started only
    when a photo comes."""
    nobody = f"http://127.0.0.1:{free_port()}"
    # The OCR workers start at the first photo: most app tests send none.
    values: dict[str, Any] = {
        "database_url": database_url,
        "rasa_url": nobody,
        "screens_warm_start": False,
    }
    values["actions_url"] = nobody
    return Settings(_env_file=None, **(values | overrides))


def add_desk_and_report_logins(*, session: Session, commune: str, password: str) -> None:
    """Volunteer "Chị Lan" of `commune`, who signs in to /desk as `lan`, and province staff
    member "Anh Hùng" of province 01, who signs in to /admin as `hung`; both with `password`."""
    lan = add_volunteer(session=session, display_name="Chị Lan", communes=[commune])
    set_web_login(session=session, volunteer_id=lan.id, username="lan", password=password)
    add_staff(
        session=session, username="hung", display_name="Anh Hùng", password=password,
        province_code="01",
    )  # fmt: skip


def claim_deliveries(
    *,
    session: Session,
    announcement_id: int,
    targets: Iterable[tuple[Target, str, str | None]],
    now: datetime | None = None,
) -> dict[tuple[str, str], int]:
    """Delivery rows of an announcement (target, status, reason), as the gateway's fan-out
    claims them (core/repositories/announcements.py `fan_out`), in one INSERT … ON CONFLICT DO
    NOTHING at `now`; the ids of those made now, by (resident id, channel): a row that was
    already there is someone else's claim."""
    now = now or utcnow()
    rows = [
        {
            "announcement_id": announcement_id,
            "resident_id": target.resident_id,
            "channel": target.channel,
            "status": status,
            "reason": reason,
            "created_at": now,
            "updated_at": now,
        }
        for target, status, reason in targets
    ]
    if not rows:
        return {}
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(Delivery)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["announcement_id", "resident_id", "channel"])
        .returning(Delivery.resident_id, Delivery.channel, Delivery.id)
    )
    return {(r, c): i for r, c, i in session.execute(statement).tuples()}
