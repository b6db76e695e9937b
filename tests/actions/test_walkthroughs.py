"""Walkthroughs: overview, one step at a time, stuck help, leave and come back, events."""

from __future__ import annotations

from typing import Any

from actions.commune import ASK_TEXT
from actions.flows import MAX_PAYLOAD_BYTES
from actions.navigation import ActionNextStep, ActionResume, ActionStopFlow, ActionStuck
from actions.privacy_notice import QUESTIONS, Moment
from actions.walkthroughs import (
    NO_GUIDE_TEXT,
    ActionServiceGuide,
    overview_messages,
    step_text,
)
from core.content.services import SERVICES_DIR, load_service_guide
from tests.actions.helpers import payload_of, recorded, run_action, texts, titles
from tests.factories import make_tracker, press

GUIDE = load_service_guide("birth_registration")
STEPS = len(GUIDE.steps)
STEP_BUTTONS = ["Tiếp theo", "Tôi bị kẹt ở bước này", "Gặp người hỗ trợ", "Thoát"]


async def _start(
    resident: str,
    *,
    intent: str = GUIDE.intent,
    channel: str = "web",
    slots: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    tracker = make_tracker(intent, sender_id=resident, channel=channel, slots=slots)
    events, messages = await run_action(ActionServiceGuide(), tracker)
    assert events == []
    return messages


async def test_overview_then_step_one_with_its_buttons(app_database: str) -> None:
    messages = await _start("r1", channel="zalo")

    overview = overview_messages(GUIDE)
    assert texts(messages) == [*overview, step_text(GUIDE, 1), ASK_TEXT]
    assert overview[0].startswith("Dạ, em hướng dẫn anh/chị")
    assert f"Có {STEPS} bước" in overview[-1]
    step = messages[len(overview)]
    assert step["text"].startswith(f"Bước 1/{STEPS} – {GUIDE.steps[0].title}")
    assert titles(step) == STEP_BUTTONS
    assert payload_of(step, "Tiếp theo") == '/next_step{"service":"birth_registration","step":2}'
    assert payload_of(step, "Tôi bị kẹt ở bước này") == (
        '/stuck{"service":"birth_registration","step":1}'
    )
    assert payload_of(step, "Gặp người hỗ trợ") == (
        '/request_human{"service":"birth_registration","step":1}'
    )
    assert all(len(b["payload"].encode()) <= MAX_PAYLOAD_BYTES for b in step["buttons"])
    assert recorded("r1") == [("service_started", "birth_registration", None)]


async def test_commune_is_asked_only_once(app_database: str) -> None:
    first = await _start("r2")
    assert texts(first)[-1] == ASK_TEXT
    await run_action(ActionNextStep(), press(payload_of(first[-2], "Thoát"), sender_id="r2"))
    again = await _start("r2")
    assert ASK_TEXT not in texts(again)
    other = await _start("r3", slots={"commune_code": "00004"})
    assert ASK_TEXT not in texts(other)


async def test_next_advances_one_step_and_a_double_tap_does_not_skip(app_database: str) -> None:
    messages = await _start("r4")
    next_payload = payload_of(messages[-2], "Tiếp theo")

    _, shown = await run_action(ActionNextStep(), press(next_payload, sender_id="r4"))
    assert texts(shown) == [step_text(GUIDE, 2)]
    assert titles(shown[0]) == STEP_BUTTONS
    _, twice = await run_action(ActionNextStep(), press(next_payload, sender_id="r4"))
    assert texts(twice) == [step_text(GUIDE, 2)]
    assert recorded("r4") == [
        ("service_started", "birth_registration", None),
        ("service_step", "birth_registration", 2.0),
        ("service_step", "birth_registration", 2.0),
    ]


async def test_the_last_step_finishes_once(app_database: str) -> None:
    await _start("r5")
    _, last = await run_action(
        ActionNextStep(),
        press(f'/next_step{{"service":"birth_registration","step":{STEPS}}}', sender_id="r5"),
    )
    assert titles(last[0])[0] == "Xong rồi"
    done = payload_of(last[0], "Xong rồi")
    _, finished = await run_action(ActionNextStep(), press(done, sender_id="r5"))
    assert texts(finished)[0].startswith("Dạ, chúc mừng anh/chị đã làm xong")
    _, again = await run_action(ActionNextStep(), press(done, sender_id="r5"))
    assert texts(again) == texts(finished)
    assert [e[0] for e in recorded("r5")] == [
        "service_started",
        "service_step",
        "service_completed",
    ]


async def test_stuck_shows_that_steps_fixes_then_a_human_with_service_and_step(
    app_database: str,
) -> None:
    await _start("r6")
    number = next(i for i, step in enumerate(GUIDE.steps, start=1) if step.problems)
    problems = GUIDE.steps[number - 1].problems
    _, messages = await run_action(
        ActionStuck(),
        press(f'/stuck{{"service":"birth_registration","step":{number}}}', sender_id="r6"),
    )
    assert texts(messages)[0] == f"Dạ, ở bước {number}, mọi người hay gặp mấy chuyện sau ạ:"
    assert texts(messages)[1 : 1 + len(problems)] == [
        f"❓ {p.problem}\n👉 {p.fix}" for p in problems
    ]
    offer = messages[-1]
    assert payload_of(offer, "Gặp người hỗ trợ") == (
        f'/request_human{{"service":"birth_registration","step":{number}}}'
    )
    assert payload_of(offer, f"Làm tiếp bước {number}") == (
        f'/next_step{{"service":"birth_registration","step":{number}}}'
    )
    assert recorded("r6")[-1] == ("service_stuck", "birth_registration", float(number))


async def test_typed_stuck_uses_the_step_the_resident_is_on(app_database: str) -> None:
    await _start("r7")
    await run_action(
        ActionNextStep(),
        press('/next_step{"service":"birth_registration","step":3}', sender_id="r7"),
    )
    await run_action(ActionStuck(), make_tracker("stuck", sender_id="r7", text="bi ket roi"))
    assert recorded("r7")[-1] == ("service_stuck", "birth_registration", 3.0)


async def test_leave_and_come_back_at_the_same_step(app_database: str) -> None:
    await _start("r8")
    await run_action(
        ActionNextStep(),
        press('/next_step{"service":"birth_registration","step":4}', sender_id="r8"),
    )
    _, stopped = await run_action(
        ActionStopFlow(), press('/stop_flow{"service":"birth_registration"}', sender_id="r8")
    )
    # Kept past the session only with consent: asked here, once.
    assert texts(stopped) == [
        f'Dạ, mình tạm dừng "{GUIDE.name}" ở đây.',
        QUESTIONS[Moment.PROGRESS],
    ]

    _, resumed = await run_action(ActionResume(), make_tracker("resume", sender_id="r8"))
    assert texts(resumed) == [f'Dạ, mình làm tiếp "{GUIDE.name}" nhé.', step_text(GUIDE, 4)]

    _, typed_next = await run_action(ActionNextStep(), make_tracker("next_step", sender_id="r8"))
    assert texts(typed_next) == [step_text(GUIDE, 5)]


async def test_asking_again_offers_to_continue_or_start_over(app_database: str) -> None:
    await _start("r9")
    await run_action(
        ActionNextStep(),
        press('/next_step{"service":"birth_registration","step":3}', sender_id="r9"),
    )
    messages = await _start("r9")
    assert len(messages) == 1
    assert "bước 3/" in texts(messages)[0]
    assert payload_of(messages[0], "Làm tiếp bước 3") == (
        '/next_step{"service":"birth_registration","step":3}'
    )
    over = payload_of(messages[0], "Làm lại từ đầu")
    _, first = await run_action(ActionNextStep(), press(over, sender_id="r9"))
    assert texts(first) == [step_text(GUIDE, 1)]
    assert [e[0] for e in recorded("r9")].count("service_started") == 2


async def test_nothing_to_resume_or_continue(app_database: str) -> None:
    for action, intent in ((ActionResume(), "resume"), (ActionNextStep(), "next_step")):
        _, messages = await run_action(action, make_tracker(intent, sender_id="r10"))
        assert texts(messages) == ["Dạ, anh/chị chưa có việc nào đang làm dở ạ."]
        assert messages[1]["response"] == "utter_ask_how_to_help"
    _, stuck = await run_action(ActionStuck(), make_tracker("stuck", sender_id="r10"))
    assert [m["response"] for m in stuck] == ["utter_stuck"]
    assert recorded("r10") == []


async def test_service_without_a_guide_offers_a_human(app_database: str) -> None:
    events, messages = await run_action(
        ActionServiceGuide(), make_tracker("service_no_such_service", channel=None)
    )
    assert events == []
    assert texts(messages) == [NO_GUIDE_TEXT]
    assert titles(messages[0]) == ["Gặp người hỗ trợ"]


async def test_every_guide_opens_with_an_overview_and_step_one(app_database: str) -> None:
    for path in sorted(SERVICES_DIR.glob("*.yml")):
        guide = load_service_guide(path.stem)
        messages = await _start(guide.key, intent=guide.intent, slots={"commune_code": "00004"})
        assert texts(messages) == [*overview_messages(guide), step_text(guide, 1)]
        assert titles(messages[-1]) == STEP_BUTTONS


async def test_an_old_step_button_after_finishing_starts_a_new_attempt(app_database: str) -> None:
    await _start("r11", slots={"commune_code": "00004"})
    done = f'/next_step{{"service":"birth_registration","step":{STEPS + 1}}}'
    await run_action(ActionNextStep(), press(done, sender_id="r11"))
    _, step = await run_action(
        ActionNextStep(),
        press('/next_step{"service":"birth_registration","step":3}', sender_id="r11"),
    )
    assert texts(step) == [step_text(GUIDE, 3)]
    assert [e[0] for e in recorded("r11")] == [
        "service_started",
        "service_completed",
        "service_started",
        "service_step",
    ]
