"""request_human: the handoff control with reason, service, step and a masked summary; the
commune asked for first (once) with the request kept in a slot until it is known."""

from __future__ import annotations

import json

from rasa_sdk.events import SlotSet

from actions.commune import ASK_TEXT, PENDING_HANDOFF_SLOT, ActionSetCommune
from actions.handoff import ActionRequestHuman
from tests.actions.helpers import run_action
from tests.factories import make_tracker, press


def control(messages: list[dict]) -> dict:  # type: ignore[type-arg]
    found = [m["custom"] for m in messages if m.get("custom")]
    assert len(found) == 1, messages
    return found[0]  # type: ignore[no-any-return]


async def test_unknown_commune_is_asked_first_and_the_request_waits(app_database: str) -> None:
    tracker = make_tracker("request_human", sender_id="h1", said=["toi can nguoi that"])
    events, messages = await run_action(ActionRequestHuman(), tracker)
    assert [m["text"] for m in messages] == [ASK_TEXT]
    assert len(events) == 1
    assert events[0]["name"] == PENDING_HANDOFF_SLOT
    assert json.loads(events[0]["value"]) == {
        "handoff": True,
        "reason": "request_human",
        "service": None,
        "step": None,
        "summary": "Người dân nhắn gần đây:\n• toi can nguoi that",
    }


async def test_the_commune_answer_sends_the_waiting_request(app_database: str) -> None:
    waiting = {"handoff": True, "reason": "scam", "service": None, "step": None, "summary": ""}
    tracker = make_tracker(
        "provide_commune",
        sender_id="h2",
        entities={"commune_code": "00004"},
        slots={PENDING_HANDOFF_SLOT: json.dumps(waiting)},
    )
    events, messages = await run_action(ActionSetCommune(), tracker)
    assert messages[0]["text"].startswith("Dạ, em đã ghi nhận anh/chị ở Phường Ba Đình")
    assert messages[0]["buttons"] == []
    assert control(messages) == waiting
    assert events == [SlotSet("commune_code", "00004"), SlotSet(PENDING_HANDOFF_SLOT, None)]


async def test_asked_once_then_the_request_goes_without_a_commune(app_database: str) -> None:
    tracker = make_tracker("request_human", sender_id="h3")
    await run_action(ActionRequestHuman(), tracker)
    events, messages = await run_action(ActionRequestHuman(), tracker)
    assert control(messages)["reason"] == "request_human"
    assert events == [SlotSet(PENDING_HANDOFF_SLOT, None)]


async def test_stuck_at_a_step_carries_service_and_step(app_database: str) -> None:
    tracker = press('/request_human{"service":"birth_registration","step":3}', sender_id="h4")
    tracker.slots["commune_code"] = "00004"
    _, messages = await run_action(ActionRequestHuman(), tracker)
    assert control(messages) == {
        "handoff": True,
        "reason": "stuck",
        "service": "birth_registration",
        "step": 3,
        "summary": "",
    }


async def test_scam_and_fallback_reasons(app_database: str) -> None:
    for reason in ("scam", "fallback"):
        tracker = press(f'/request_human{{"reason":"{reason}"}}', sender_id=f"h5-{reason}")
        tracker.slots["commune_code"] = "00004"
        _, messages = await run_action(ActionRequestHuman(), tracker)
        assert control(messages)["reason"] == reason


async def test_summary_keeps_the_last_typed_words_only(app_database: str) -> None:
    said = [
        "xin chao",
        "/greet",
        "[không lưu]",
        "mat ma khong nhan",
        "otp khong ve",
        "giup voi",
        "?",
    ]
    tracker = make_tracker(
        "request_human", sender_id="h6", slots={"commune_code": "00004"}, said=said
    )
    _, messages = await run_action(ActionRequestHuman(), tracker)
    assert control(messages)["summary"] == (
        "Người dân nhắn gần đây:\n• mat ma khong nhan\n• otp khong ve\n• giup voi\n• ?"
    )
