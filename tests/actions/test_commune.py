"""action_set_commune: one match is remembered, several become buttons, none gets help."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.commune import CHOOSE_TEXT, NOT_FOUND_TEXT, ActionSetCommune, choice_payload
from core.db import session_scope
from core.models import FlowKind
from core.places import commune_by_code, resolve_place
from core.repositories.progress import start_flow
from core.repositories.residents import commune_of
from tests.factories import make_tracker


async def _run(tracker: Tracker) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = await ActionSetCommune().run(dispatcher, tracker, {})
    return events, dispatcher.messages


def _stored(resident: str) -> str | None:
    with session_scope() as session:
        return commune_of(session=session, resident_id=resident)


async def test_one_match_is_confirmed_and_remembered(app_database: str) -> None:
    tracker = make_tracker("provide_commune", sender_id="r1", text="toi o phuong ba dinh ha noi")
    events, messages = await _run(tracker)
    assert events == [SlotSet("commune_code", "00004")]
    assert [m["text"] for m in messages] == [
        "Dạ, em đã ghi nhận anh/chị ở Phường Ba Đình, Hà Nội ạ.",
        None,
    ]
    assert messages[1]["response"] == "utter_ask_how_to_help"  # the choices, last
    assert _stored("r1") == "00004"


async def test_several_matches_become_buttons_and_a_press_picks_one(app_database: str) -> None:
    tracker = make_tracker("provide_commune", sender_id="r2", text="xã tân lập")
    events, messages = await _run(tracker)
    expected = resolve_place("xã tân lập").communes
    assert len(expected) > 1
    assert events == []
    assert [m["text"] for m in messages] == [CHOOSE_TEXT]  # the choices in the last bubble
    assert [b["payload"] for b in messages[0]["buttons"]] == [
        choice_payload(c) for c in expected[:6]
    ]
    assert _stored("r2") is None

    chosen = expected[1]
    pressed = make_tracker("provide_commune", sender_id="r2", text=choice_payload(chosen))
    pressed.latest_message["entities"] = [{"entity": "commune_code", "value": chosen.code}]
    events, messages = await _run(pressed)
    assert events == [SlotSet("commune_code", chosen.code)]
    assert _stored("r2") == chosen.code
    assert commune_by_code(chosen.code) == chosen


async def test_province_only_asks_for_the_commune(app_database: str) -> None:
    events, messages = await _run(make_tracker("provide_commune", text="tôi ở tỉnh Tây Ninh"))
    assert events == []
    assert [m["text"] for m in messages] == ["Dạ, anh/chị ở xã, phường nào của Tây Ninh ạ?"]


async def test_nothing_found_explains_what_to_type(app_database: str) -> None:
    events, messages = await _run(make_tracker("provide_commune", text="ở gần chợ"))
    assert events == []
    assert [m["text"] for m in messages] == [NOT_FOUND_TEXT]


async def test_a_resident_with_something_unfinished_can_go_back_to_it(app_database: str) -> None:
    with session_scope() as session:
        start_flow(session=session, resident_id="r7", kind=FlowKind.SERVICE, key="id_card")
    _, messages = await _run(
        make_tracker("provide_commune", sender_id="r7", text="phuong ba dinh ha noi")
    )
    assert [b["payload"] for b in messages[0]["buttons"]] == ["/resume"]
    assert len(messages) == 1


async def test_moving_without_naming_the_new_commune_asks_for_it(app_database: str) -> None:
    tracker = make_tracker(
        "provide_commune",
        sender_id="r8",
        text="tôi chuyển sang xã khác rồi",
        slots={"commune_code": "00004"},
    )
    events, messages = await _run(tracker)
    assert events == []
    assert [m["text"] for m in messages] == [
        "Dạ, hiện em ghi anh/chị ở Phường Ba Đình, Hà Nội. Anh/chị chuyển sang xã, phường nào "
        "ạ? Anh/chị gõ tên kèm tỉnh giúp em nhé."
    ]
