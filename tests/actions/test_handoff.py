"""request_human: the handoff control with reason, service, step and a masked summary of
the words the resident let us keep; the privacy question first (when due), then the commune
(again while it is unknown), one per turn, with the request kept in a slot until nothing is
left to ask, except on the scam path."""

from __future__ import annotations

import json
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet

from actions.commune import ASK_AGAIN_TEXT, ASK_TEXT, PENDING_HANDOFF_SLOT, ActionSetCommune
from actions.consent import AGREED_TEXT, ActionConsent
from actions.flows import ASK_HOW_TO_HELP
from actions.handoff import ActionRequestHuman
from actions.privacy_notice import QUESTIONS, Moment
from core.db import session_scope
from core.repositories.residents import mark_consent_asked
from nlu.controls import ANNOUNCEMENT, STORE_TEXT, payload
from tests.actions.helpers import payload_of, run_action, texts, titles
from tests.factories import make_tracker, press, waiting


def control(messages: list[dict]) -> dict:  # type: ignore[type-arg]
    found = [m["custom"] for m in messages if m.get("custom")]
    assert len(found) == 1, messages
    return found[0]  # type: ignore[no-any-return]


def with_words(tracker: Tracker, said: list[str], *, kept: bool) -> Tracker:
    """`tracker` with earlier user messages as Rasa sends them, marked by the gateway as
    words the resident let us keep (`kept`) or not."""
    metadata: dict[str, Any] = {"channel": "web", STORE_TEXT: kept}
    tracker.events = [{"event": "user", "text": t, "metadata": metadata} for t in said]
    return tracker


def asked_today(resident: str) -> None:
    """The resident was asked the privacy question today and has not answered it: it is not
    asked again, and nothing of theirs is kept."""
    with session_scope() as session:
        mark_consent_asked(session=session, resident_id=resident)


async def test_the_privacy_question_comes_first_and_the_request_waits(app_database: str) -> None:
    tracker = press("/request_human", sender_id="h0")
    events, messages = await run_action(ActionRequestHuman(), tracker)
    assert texts(messages) == [QUESTIONS[Moment.HANDOFF]]
    assert titles(messages[0]) == ["Đồng ý", "Không lưu", "Xem chi tiết"]
    assert [e["name"] for e in events] == [PENDING_HANDOFF_SLOT]
    assert json.loads(events[0]["value"])["reason"] == "request_human"
    # Not answered: the next request goes on without asking again (the commune, here).
    _, again = await run_action(ActionRequestHuman(), tracker)
    assert texts(again) == [ASK_TEXT]


async def test_unknown_commune_is_asked_and_the_request_waits(app_database: str) -> None:
    asked_today("h1")
    tracker = with_words(
        make_tracker("request_human", sender_id="h1"), ["toi can nguoi that"], kept=True
    )
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
        "announcement": None,
    }


def naming_the_commune(resident: str, request: str, **how: Any) -> Tracker:
    """The resident names Phường Ba Đình while `request` waits in the slot, set by
    action_request_human then messages of intents `between` (`how`: see `waiting`)."""
    tracker = make_tracker(
        "provide_commune", sender_id=resident, entities={"commune_code": "00004"}
    )
    return waiting(
        tracker, PENDING_HANDOFF_SLOT, request, **{"set_by": "action_request_human"} | how
    )


async def test_the_commune_answer_sends_the_waiting_request(app_database: str) -> None:
    request = {"handoff": True, "reason": "scam", "service": None, "step": None, "summary": ""}
    tracker = naming_the_commune("h2", json.dumps(request))
    events, messages = await run_action(ActionSetCommune(), tracker)
    assert messages[0]["text"].startswith("Dạ, em đã ghi nhận anh/chị ở Phường Ba Đình")
    assert messages[0]["buttons"] == []
    assert control(messages) == request
    assert events == [SlotSet("commune_code", "00004"), SlotSet(PENDING_HANDOFF_SLOT, None)]


async def test_consent_then_the_commune_then_the_ticket(app_database: str) -> None:
    """The privacy question, the commune question, the commune named after a choice of
    places: the request waits through all of it and opens the ticket."""
    events, messages = await run_action(
        ActionRequestHuman(), press("/request_human", sender_id="h12")
    )
    assert texts(messages) == [QUESTIONS[Moment.HANDOFF]]
    agree = press(payload_of(messages[0], "Đồng ý"), sender_id="h12")
    waiting(agree, PENDING_HANDOFF_SLOT, events[0]["value"], set_by="action_request_human")
    events, messages = await run_action(ActionConsent(), agree)
    assert texts(messages) == [AGREED_TEXT, ASK_TEXT]
    assert [e["name"] for e in events] == [PENDING_HANDOFF_SLOT]
    answer = naming_the_commune(
        "h12", events[0]["value"], set_by="action_consent", between=["provide_commune"]
    )
    events, messages = await run_action(ActionSetCommune(), answer)
    assert control(messages)["reason"] == "request_human"
    assert events == [SlotSet("commune_code", "00004"), SlotSet(PENDING_HANDOFF_SLOT, None)]


async def test_any_other_message_abandons_the_request_and_the_slot_is_cleared(
    app_database: str,
) -> None:
    """The resident asked for a person, was asked their commune, asked about a service
    instead; their commune named later opens no ticket, and the request is forgotten."""
    asked_today("h13")
    events, messages = await run_action(
        ActionRequestHuman(), press("/request_human", sender_id="h13")
    )
    assert texts(messages) == [ASK_TEXT]
    answer = naming_the_commune("h13", events[0]["value"], between=["service_id_card"])
    events, messages = await run_action(ActionSetCommune(), answer)
    assert not any(m.get("custom") for m in messages)  # no ticket
    assert texts(messages) == ["Dạ, em đã ghi nhận anh/chị ở Phường Ba Đình, Hà Nội ạ."]
    assert messages[-1].get("response") == ASK_HOW_TO_HELP
    assert events == [SlotSet("commune_code", "00004"), SlotSet(PENDING_HANDOFF_SLOT, None)]


async def test_answering_the_privacy_question_after_something_else_opens_nothing(
    app_database: str,
) -> None:
    events, messages = await run_action(
        ActionRequestHuman(), press("/request_human", sender_id="h14")
    )
    assert texts(messages) == [QUESTIONS[Moment.HANDOFF]]
    agree = press(payload_of(messages[0], "Đồng ý"), sender_id="h14")
    agree.slots["commune_code"] = "00004"
    waiting(
        agree,
        PENDING_HANDOFF_SLOT,
        events[0]["value"],
        set_by="action_request_human",
        between=["start_lessons"],
    )
    events, messages = await run_action(ActionConsent(), agree)
    assert texts(messages) == [AGREED_TEXT]  # the answer is taken, the request is not
    assert not any(m.get("custom") for m in messages)
    assert messages[-1].get("response") == ASK_HOW_TO_HELP
    assert events == [SlotSet(PENDING_HANDOFF_SLOT, None)]


async def test_a_request_of_an_earlier_session_opens_no_ticket(app_database: str) -> None:
    """The slot carried over into a new session: neither naming the commune nor an old
    button of the privacy question opens the ticket; both forget the request."""
    events, messages = await run_action(
        ActionRequestHuman(), press("/request_human", sender_id="h15")
    )
    request = events[0]["value"]
    answer = naming_the_commune("h15", request, carried_over=True)
    events, named = await run_action(ActionSetCommune(), answer)
    assert not any(m.get("custom") for m in named)
    assert events == [SlotSet("commune_code", "00004"), SlotSet(PENDING_HANDOFF_SLOT, None)]
    agree = press(payload_of(messages[0], "Đồng ý"), sender_id="h15")
    agree.slots["commune_code"] = "00004"
    waiting(agree, PENDING_HANDOFF_SLOT, request, set_by="action_request_human", carried_over=True)
    events, agreed = await run_action(ActionConsent(), agree)
    assert not any(m.get("custom") for m in agreed)
    assert events == [SlotSet(PENDING_HANDOFF_SLOT, None)]


async def test_asking_again_instead_of_naming_the_commune_asks_again(app_database: str) -> None:
    asked_today("h3")
    tracker = press("/request_human", sender_id="h3")
    _, first = await run_action(ActionRequestHuman(), tracker)
    events, again = await run_action(ActionRequestHuman(), tracker)
    assert [m["text"] for m in first] == [ASK_TEXT]
    assert [m["text"] for m in again] == [ASK_AGAIN_TEXT]  # no ticket nobody could claim
    assert [e["name"] for e in events] == [PENDING_HANDOFF_SLOT]
    assert json.loads(events[0]["value"])["reason"] == "request_human"


async def test_a_scam_never_waits_for_consent_nor_the_commune(app_database: str) -> None:
    tracker = press('/request_human{"reason":"scam"}', sender_id="h3-scam")
    events, messages = await run_action(ActionRequestHuman(), tracker)
    assert [m.get("text") for m in messages] == [None]
    assert control(messages)["reason"] == "scam"
    assert events == [SlotSet(PENDING_HANDOFF_SLOT, None)]


async def test_stuck_at_a_step_carries_service_and_step(app_database: str) -> None:
    asked_today("h4")
    tracker = press('/request_human{"service":"birth_registration","step":3}', sender_id="h4")
    tracker.slots["commune_code"] = "00004"
    _, messages = await run_action(ActionRequestHuman(), tracker)
    assert control(messages) == {
        "handoff": True,
        "reason": "stuck",
        "service": "birth_registration",
        "step": 3,
        "summary": "",
        "announcement": None,
    }


async def test_scam_and_fallback_reasons(app_database: str) -> None:
    for reason in ("scam", "fallback"):
        asked_today(f"h5-{reason}")
        tracker = press(f'/request_human{{"reason":"{reason}"}}', sender_id=f"h5-{reason}")
        tracker.slots["commune_code"] = "00004"
        _, messages = await run_action(ActionRequestHuman(), tracker)
        assert control(messages)["reason"] == reason


async def test_summary_keeps_the_last_typed_words_only(app_database: str) -> None:
    said = ["xin chao", "/greet", "mat ma khong nhan", "otp khong ve", "giup voi", "?"]
    asked_today("h6")
    tracker = make_tracker("request_human", sender_id="h6", slots={"commune_code": "00004"})
    tracker = with_words(tracker, said, kept=True)
    tracker.events.insert(3, {"event": "user", "text": "ten toi la Lan", "metadata": {}})
    _, messages = await run_action(ActionRequestHuman(), tracker)
    assert control(messages)["summary"] == (
        "Người dân nhắn gần đây:\n• mat ma khong nhan\n• otp khong ve\n• giup voi\n• ?"
    )


async def test_without_consent_no_words_reach_the_slot_or_the_control(app_database: str) -> None:
    """Finding 11: the slot and the control stay in Rasa's tracker and the summary on the
    ticket, so a resident who refused consent must have none of their words there."""
    said = ["toi la Nguyen Van Be o xom Dong", "can nguoi giup"]
    tracker = with_words(make_tracker("request_human", sender_id="h7"), said, kept=False)
    events, _ = await run_action(ActionRequestHuman(), tracker)  # the privacy question
    assert json.loads(events[0]["value"])["summary"] == ""
    events, _ = await run_action(ActionRequestHuman(), tracker)  # the commune
    assert json.loads(events[0]["value"])["summary"] == ""
    tracker.slots["commune_code"] = "00004"
    _, messages = await run_action(ActionRequestHuman(), tracker)
    assert control(messages)["summary"] == ""
    assert "Nguyen" not in json.dumps(messages)


ASK_MORE_PAYLOAD = payload("request_human", announcement="12")  # "Hỏi thêm" under no. 12


async def test_ask_more_under_an_announcement_names_it_in_the_request(app_database: str) -> None:
    asked_today("h8")
    tracker = press(ASK_MORE_PAYLOAD, sender_id="h8")
    tracker.slots["commune_code"] = "00004"
    events, messages = await run_action(ActionRequestHuman(), tracker)
    assert control(messages) == {
        "handoff": True,
        "reason": "request_human",  # the gateway makes it "announcement" once it checked it
        "service": None,
        "step": None,
        "summary": "",
        "announcement": 12,
    }
    assert events == [SlotSet(PENDING_HANDOFF_SLOT, None)]


async def test_a_request_soon_after_an_announcement_names_the_one_the_gateway_gave(
    app_database: str,
) -> None:
    asked_today("h9")
    tracker = make_tracker("request_human", sender_id="h9", text="cho toi hoi them")
    tracker.latest_message["metadata"][ANNOUNCEMENT] = 7
    tracker.slots["commune_code"] = "00004"
    _, messages = await run_action(ActionRequestHuman(), tracker)
    assert control(messages)[ANNOUNCEMENT] == 7
    # The button pressed wins over the context.
    pressed = press(ASK_MORE_PAYLOAD, sender_id="h9")
    pressed.latest_message["metadata"][ANNOUNCEMENT] = 7
    pressed.slots["commune_code"] = "00004"
    _, messages = await run_action(ActionRequestHuman(), pressed)
    assert control(messages)[ANNOUNCEMENT] == 12


async def test_a_typed_payload_without_a_number_names_no_announcement(app_database: str) -> None:
    for typed in ('/request_human{"announcement":"abc"}', '/request_human{"announcement":[1]}'):
        asked_today("h10")
        tracker = press(typed, sender_id="h10")
        tracker.slots["commune_code"] = "00004"
        _, messages = await run_action(ActionRequestHuman(), tracker)
        assert control(messages)[ANNOUNCEMENT] is None


async def test_the_announcement_waits_with_the_request_through_the_privacy_question(
    app_database: str,
) -> None:
    tracker = press(ASK_MORE_PAYLOAD, sender_id="h11")
    tracker.slots["commune_code"] = "00004"
    events, messages = await run_action(ActionRequestHuman(), tracker)
    assert texts(messages) == [QUESTIONS[Moment.HANDOFF]]
    assert json.loads(events[0]["value"])[ANNOUNCEMENT] == 12
    agree = press('/consent{"choice":"yes","reason":"handoff"}', sender_id="h11")
    agree.slots["commune_code"] = "00004"
    waiting(agree, PENDING_HANDOFF_SLOT, events[0]["value"], set_by="action_request_human")
    events, messages = await run_action(ActionConsent(), agree)
    assert control(messages)[ANNOUNCEMENT] == 12
    assert events == [SlotSet(PENDING_HANDOFF_SLOT, None)]
