"""action_service_guide: the overview and first steps, and the service_started event."""

from __future__ import annotations

from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from actions.services import (
    FIRST_STEPS_SHOWN,
    HUMAN_BUTTON,
    NO_GUIDE_TEXT,
    ActionServiceGuide,
    overview_messages,
    step_text,
)
from core.content.services import load_service_guide
from core.db import session_scope
from core.models import EventType
from core.repositories.events import list_events
from tests.factories import make_tracker


def _events(type_: EventType) -> list[tuple[str, str, str | None, str | None]]:
    with session_scope() as session:
        return _rows(session, type_)


def _rows(session: Session, type_: EventType) -> list[tuple[str, str, str | None, str | None]]:
    return [
        (e.resident_id, e.channel, e.commune_code, e.key)
        for e in list_events(session=session, type=type_)
    ]


async def test_vneid_activation_overview_then_first_steps(app_database: str) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("service_vneid_activation", sender_id="r-42", channel="zalo")

    events = await ActionServiceGuide().run(dispatcher, tracker, {})

    assert events == []
    guide = load_service_guide("vneid_activation")
    texts = [m["text"] for m in dispatcher.messages]
    overview = overview_messages(guide)
    assert texts[: len(overview)] == overview
    assert overview[0].startswith("Dạ, em hướng dẫn anh/chị kích hoạt tài khoản định danh")
    assert "• " + guide.documents[0] in overview[1]
    steps = texts[len(overview) : len(overview) + FIRST_STEPS_SHOWN]
    assert steps == [step_text(guide, i) for i in range(FIRST_STEPS_SHOWN)]
    assert steps[0].startswith(f"Bước 1/{len(guide.steps)} – {guide.steps[0].title}")
    remaining = texts[len(overview) + FIRST_STEPS_SHOWN]
    assert remaining.startswith("Các bước tiếp theo:")
    assert f"{len(guide.steps)}. {guide.steps[-1].title}" in remaining
    assert len(texts) == len(overview) + FIRST_STEPS_SHOWN + 2
    assert dispatcher.messages[-1]["buttons"] == [HUMAN_BUTTON]
    assert _events(EventType.SERVICE_STARTED) == [("r-42", "zalo", None, "vneid_activation")]


async def test_commune_slot_is_carried_on_the_event(app_database: str) -> None:
    tracker = make_tracker("service_vneid_activation", slots={"commune_code": "00004"})
    await ActionServiceGuide().run(CollectingDispatcher(), tracker, {})
    assert _events(EventType.SERVICE_STARTED) == [
        ("resident-1", "web", "00004", "vneid_activation")
    ]


async def test_service_without_a_guide_offers_a_human(app_database: str) -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionServiceGuide().run(
        dispatcher, make_tracker("service_no_such_service", channel=None), {}
    )
    assert events == []
    assert [(m["text"], m["buttons"]) for m in dispatcher.messages] == [
        (NO_GUIDE_TEXT, [HUMAN_BUTTON])
    ]
    assert _events(EventType.SERVICE_STARTED) == []
