"""Walkthroughs: overview, one step at a time, documents, stuck help, leave and come back, the
commune asked once at the end, events; every turn one question, last, in at most 4 bubbles."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.commune import ASK_TEXT, FINISHED_ASK_TEXT
from actions.flows import bubbles
from actions.navigation import ActionNextStep, ActionResume, ActionStopFlow, ActionStuck
from actions.privacy_notice import QUESTIONS, Moment
from actions.walkthroughs import (
    ASK_MORE_TEXT,
    NO_GUIDE_TEXT,
    ActionServiceGuide,
    ActionShowDocuments,
    documents_messages,
    overview_text,
    show_documents,
    show_step,
    step_messages,
)
from core.content.glossary import load_glossary
from core.content.services import SERVICES_DIR, ServiceGuide, load_service_guide
from nlu.controls import MAX_PAYLOAD_BYTES
from tests.actions.helpers import (
    assert_one_question_last,
    payload_of,
    recorded,
    run_action,
    texts,
    titles,
)
from tests.factories import make_tracker, press

GUIDE = load_service_guide("birth_registration")
STEPS = len(GUIDE.steps)
STEP_BUTTONS = ["Tiếp theo", "Tôi bị kẹt ở bước này", "Gặp người hỗ trợ", "Thoát"]
STEP_ONE_BUTTONS = ["Tiếp theo", "Xem giấy tờ cần chuẩn bị", *STEP_BUTTONS[1:]]
GUIDES = [load_service_guide(path.stem) for path in sorted(SERVICES_DIR.glob("*.yml"))]


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

    assert texts(messages) == [overview_text(GUIDE), *step_messages(GUIDE, 1)]
    assert texts(messages)[0] == (
        "Dạ, em hướng dẫn anh/chị đăng ký khai sinh cho bé, cùng lúc nhập hộ khẩu và làm thẻ "
        "bảo hiểm y tế ạ.\n"
        "Làm ở: ứng dụng VNeID, trang web Cổng Dịch vụ công hoặc UBND xã, phường.\n"
        "Lệ phí: miễn phí nếu khai trong 60 ngày sau khi sinh. "
        "Thời gian: khoảng 3 ngày làm việc.\n"
        f"Có {STEPS} bước, em hướng dẫn từng bước."
    )
    assert_one_question_last(messages)
    step = messages[-1]
    assert step["text"].startswith(f"Bước 1/{STEPS} – {GUIDE.steps[0].title}")
    assert titles(step) == STEP_ONE_BUTTONS
    assert payload_of(step, "Tiếp theo") == '/next_step{"service":"birth_registration","step":2}'
    assert payload_of(step, "Xem giấy tờ cần chuẩn bị") == (
        '/show_documents{"service":"birth_registration","step":1}'
    )
    assert payload_of(step, "Tôi bị kẹt ở bước này") == (
        '/stuck{"service":"birth_registration","step":1}'
    )
    assert payload_of(step, "Gặp người hỗ trợ") == (
        '/request_human{"service":"birth_registration","step":1}'
    )
    assert all(len(b["payload"].encode()) <= MAX_PAYLOAD_BYTES for b in step["buttons"])
    assert recorded("r1") == [("service_started", "birth_registration", None)]


async def test_a_glossary_word_is_explained_at_the_first_step_using_it(app_database: str) -> None:
    assert step_messages(GUIDE, 1)[-1].endswith(
        "\n💡 số định danh: 12 số in trên thẻ căn cước, mỗi người một số."
    )
    words, step_two = step_messages(GUIDE, 2)  # too long together: the words come first
    assert words.startswith("Vài từ anh/chị sẽ gặp ở bước này:\n💡 VNeID: ")
    assert step_two.startswith(f"Bước 2/{STEPS} – ")
    assert "💡 VNeID" not in "".join(
        m for n in range(3, STEPS + 1) for m in step_messages(GUIDE, n)
    )


async def test_the_documents_button_shows_them_then_the_step_again(app_database: str) -> None:
    first = await _start("r12")
    press_documents = press(payload_of(first[-1], "Xem giấy tờ cần chuẩn bị"), sender_id="r12")
    events, messages = await run_action(ActionShowDocuments(), press_documents)
    assert events == []
    assert texts(messages) == [*documents_messages(GUIDE), *step_messages(GUIDE, 1)]
    assert texts(messages)[0].startswith("Dạ, anh/chị cần chuẩn bị:\n• ")
    assert "\n".join(texts(messages)).count("• ") == len(GUIDE.documents)
    assert titles(messages[-1]) == STEP_ONE_BUTTONS
    assert_one_question_last(messages)
    assert recorded("r12") == [("service_started", "birth_registration", None)]

    _, unknown = await run_action(
        ActionShowDocuments(), press('/show_documents{"service":"nope","step":1}')
    )
    assert texts(unknown) == [NO_GUIDE_TEXT]


async def _finish(resident: str, slots: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    done = make_tracker(
        "next_step",
        sender_id=resident,
        entities={"service": GUIDE.key, "step": STEPS + 1},
        slots=slots,
    )
    _, messages = await run_action(ActionNextStep(), done)
    return messages


async def test_the_commune_is_asked_once_at_the_end_only(app_database: str) -> None:
    congratulations = (
        "Dạ, chúc mừng anh/chị đã làm xong các bước đăng ký khai sinh cho bé, cùng lúc nhập hộ "
        "khẩu và làm thẻ bảo hiểm y tế! 🎉"
    )
    first = await _start("r2")
    for number in range(2, STEPS + 1):
        _, step = await run_action(
            ActionNextStep(),
            press(f'/next_step{{"service":"birth_registration","step":{number}}}', sender_id="r2"),
        )
        assert_one_question_last(step)
        assert ASK_TEXT not in texts(step)
    assert ASK_TEXT not in texts(first)

    finished = await _finish("r2")
    assert texts(finished) == [congratulations, FINISHED_ASK_TEXT]
    assert_one_question_last(finished)

    await _start("r2")
    again = await _finish("r2")  # asked once: not again
    assert texts(again) == [congratulations, ASK_MORE_TEXT]
    assert titles(again[-1]) == ["Gặp người hỗ trợ"]
    assert_one_question_last(again)

    await _start("r3", slots={"commune_code": "00004"})
    known = await _finish("r3", slots={"commune_code": "00004"})
    assert texts(known) == [congratulations, ASK_MORE_TEXT]


async def test_next_advances_one_step_and_a_double_tap_does_not_skip(app_database: str) -> None:
    messages = await _start("r4")
    next_payload = payload_of(messages[-1], "Tiếp theo")

    _, shown = await run_action(ActionNextStep(), press(next_payload, sender_id="r4"))
    assert texts(shown) == step_messages(GUIDE, 2)
    assert titles(shown[-1]) == STEP_BUTTONS
    _, twice = await run_action(ActionNextStep(), press(next_payload, sender_id="r4"))
    assert texts(twice) == step_messages(GUIDE, 2)
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
    assert titles(last[-1])[0] == "Xong rồi"
    done = payload_of(last[-1], "Xong rồi")
    _, finished = await run_action(ActionNextStep(), press(done, sender_id="r5"))
    assert texts(finished)[0].startswith("Dạ, chúc mừng anh/chị đã làm xong")
    _, again = await run_action(ActionNextStep(), press(done, sender_id="r5"))
    assert texts(again)[0] == texts(finished)[0]
    assert texts(again)[1] == ASK_MORE_TEXT
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
    assert texts(messages)[:-1] == bubbles(
        [
            f"Dạ, ở bước {number}, mọi người hay gặp mấy chuyện sau ạ:",
            *(f"❓ {p.problem}\n👉 {p.fix}" for p in problems),
        ]
    )
    assert_one_question_last(messages)
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
    assert texts(resumed) == [f'Dạ, mình làm tiếp "{GUIDE.name}" nhé.', *step_messages(GUIDE, 4)]

    _, typed_next = await run_action(ActionNextStep(), make_tracker("next_step", sender_id="r8"))
    assert texts(typed_next) == step_messages(GUIDE, 5)


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
    assert texts(first) == step_messages(GUIDE, 1)
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


@pytest.mark.parametrize("guide", GUIDES, ids=lambda guide: guide.key)
async def test_every_guide_opens_with_one_overview_bubble_and_step_one(
    app_database: str, guide: ServiceGuide
) -> None:
    """A first-time resident (commune unknown): the answer first, then step 1's choices."""
    messages = await _start("first-time", intent=guide.intent)
    assert texts(messages) == [overview_text(guide), *step_messages(guide, 1)]
    assert_one_question_last(messages)
    assert titles(messages[-1]) == (STEP_ONE_BUTTONS if guide.documents else STEP_BUTTONS)
    assert all(len(b["payload"].encode()) <= MAX_PAYLOAD_BYTES for b in messages[-1]["buttons"])


@pytest.mark.parametrize("guide", GUIDES, ids=lambda guide: guide.key)
def test_every_step_and_the_documents_turn_fit(guide: ServiceGuide) -> None:
    """Steps and documents of every guide: one question, last, at most 4 bubbles, at most 5
    buttons (what Zalo shows)."""
    for number in range(1, len(guide.steps) + 1):
        dispatcher = CollectingDispatcher()
        show_step(dispatcher, guide, number)
        assert_one_question_last(dispatcher.messages)
        assert len(dispatcher.messages[-1]["buttons"]) <= 5
    documents = CollectingDispatcher()
    show_documents(documents, guide, 1)
    assert_one_question_last(documents.messages)


@pytest.mark.parametrize("guide", GUIDES, ids=lambda guide: guide.key)
def test_every_glossary_word_is_explained_at_its_first_step(guide: ServiceGuide) -> None:
    shown = ["\n".join(step_messages(guide, n)) for n in range(1, len(guide.steps) + 1)]
    for term in load_glossary().terms:
        used = [
            n for n, step in enumerate(guide.steps) if term.used_in(f"{step.title}\n{step.text}")
        ]
        explained = [n for n, text in enumerate(shown) if term.line in text]
        assert explained == used[:1], term.term


@pytest.mark.parametrize("guide", GUIDES, ids=lambda guide: guide.key)
async def test_every_stuck_turn_fits(app_database: str, guide: ServiceGuide) -> None:
    for number in range(1, len(guide.steps) + 1):
        tracker = press(f'/stuck{{"service":"{guide.key}","step":{number}}}', sender_id="s")
        _, messages = await run_action(ActionStuck(), tracker)
        assert_one_question_last(messages)


async def test_an_old_step_button_after_finishing_starts_a_new_attempt(app_database: str) -> None:
    await _start("r11", slots={"commune_code": "00004"})
    done = f'/next_step{{"service":"birth_registration","step":{STEPS + 1}}}'
    await run_action(ActionNextStep(), press(done, sender_id="r11"))
    _, step = await run_action(
        ActionNextStep(),
        press('/next_step{"service":"birth_registration","step":3}', sender_id="r11"),
    )
    assert texts(step) == step_messages(GUIDE, 3)
    assert [e[0] for e in recorded("r11")] == [
        "service_started",
        "service_completed",
        "service_started",
        "service_step",
    ]
