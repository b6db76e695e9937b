"""End-to-end through /api/chat: a walkthrough, a lesson with its quiz, the privacy question when
a walkthrough is left half-way, the scam emergency path and erasure, with the real trained
model, action server and database."""

from __future__ import annotations

import pytest

from actions.consent import AGREED_TEXT
from actions.flows import bubbles
from actions.privacy_notice import QUESTIONS, Moment, progress_hint
from actions.walkthroughs import step_messages
from core.content.emergency import load_emergency
from core.content.lessons import find_lesson
from core.content.services import load_service_guide
from tests.stack import RunningStack

pytestmark = pytest.mark.e2e

Message = dict[str, object]


def _texts(messages: list[Message]) -> list[str]:
    return [str(m["text"]) for m in messages]


def _titles(message: Message) -> list[str]:
    return [b["title"] for b in message["buttons"]]  # type: ignore[attr-defined]


def _step(messages: list[Message], prefix: str) -> Message:
    found = [m for m in messages if str(m["text"]).startswith(prefix)]
    assert found, f"no message starting {prefix!r} in {_texts(messages)}"
    return found[0]


def test_birth_registration_overview_step_by_step_and_stuck(stack: RunningStack) -> None:
    guide = load_service_guide("birth_registration")
    first = stack.chat("e2e-birth", "dang ky khai sinh cho con")
    texts = _texts(first)
    assert texts[0].startswith("Dạ, em hướng dẫn anh/chị đăng ký khai sinh")
    assert "\nLệ phí: " in texts[0]
    step_one = _step(first, f"Bước 1/{len(guide.steps)}")
    assert _titles(step_one)[:3] == [
        "Tiếp theo",
        "Xem giấy tờ cần chuẩn bị",
        "Tôi bị kẹt ở bước này",
    ]
    assert not any(t.startswith("🔒") for t in texts)  # no privacy question on a first message

    step_two = stack.press("e2e-birth", step_one, "Tiếp theo")
    assert _texts(step_two) == step_messages(guide, 2)

    stuck = stack.press("e2e-birth", step_two[-1], "Tôi bị kẹt ở bước này")
    fixes = [f"❓ {p.problem}\n👉 {p.fix}" for p in guide.steps[1].problems]
    assert fixes
    assert all(fix in "\n\n".join(_texts(stuck)) for fix in fixes)
    assert "Gặp người hỗ trợ" in _titles(stuck[-1])

    assert [e for e in stack.events("e2e-birth") if e[0].startswith("service_")] == [
        ("service_started", "birth_registration"),
        ("service_step", "birth_registration"),
        ("service_stuck", "birth_registration"),
    ]


def test_typed_navigation_leave_and_come_back(stack: RunningStack) -> None:
    guide = load_service_guide("birth_registration")
    stack.chat("e2e-nav", "lam giay khai sinh cho be")
    assert _texts(stack.chat("e2e-nav", "tiep theo"))[-1].startswith(f"Bước 2/{len(guide.steps)}")
    # The first time, leaving asks to keep the place; unanswered, it still lasts the session.
    assert _texts(stack.chat("e2e-nav", "thoat"))[-1] == QUESTIONS[Moment.PROGRESS]
    back = _texts(stack.chat("e2e-nav", "tiep tuc"))
    assert back[-1].startswith(f"Bước 2/{len(guide.steps)}")


def test_lesson_menu_and_a_whole_lesson_with_its_quiz(stack: RunningStack) -> None:
    menu = stack.chat("e2e-lesson", "toi muon hoc ky nang so")
    assert _texts(menu)[0].startswith("Dạ, đây là các bài học kỹ năng số")
    lesson = find_lesson("safe_passwords")
    assert lesson is not None
    messages = stack.press("e2e-lesson", menu[0], lesson.short_name)
    assert _texts(messages)[1].startswith(f"📖 1/{len(lesson.cards)}")
    current = messages[1]
    for _ in lesson.cards:
        messages = stack.press("e2e-lesson", current, "Tiếp theo")
        current = messages[-1]
    for index, question in enumerate(lesson.quiz, start=1):
        assert str(current["text"]).startswith(f"Câu {index}/{len(lesson.quiz)}: ")
        right = next(o.text for o in question.options if o.correct)
        messages = stack.press("e2e-lesson", current, right)
        assert _texts(messages)[0].startswith("✅ Đúng rồi ạ!")
        current = messages[-1]
    assert str(current["text"]).startswith(f'🎉 Chúc mừng anh/chị đã học xong bài "{lesson.name}"!')
    events = [e for e in stack.events("e2e-lesson") if e[0].startswith(("lesson_", "quiz_"))]
    assert events == [
        ("lesson_started", "safe_passwords"),
        *[("quiz_answered", "safe_passwords")] * len(lesson.quiz),
        ("lesson_completed", "safe_passwords"),
    ]
    again = stack.chat("e2e-lesson", "hoc ky nang so")
    assert "đã học xong 1/7 bài" in _texts(again)[0]


def test_leaving_half_way_asks_once_to_keep_the_place(stack: RunningStack) -> None:
    first = stack.chat("e2e-consent", "dang ky khai sinh cho con")
    step_two = stack.press("e2e-consent", _step(first, "Bước 1/"), "Tiếp theo")
    stopped = stack.press("e2e-consent", _step(step_two, "Bước 2/"), "Thoát")
    assert _texts(stopped)[-1] == QUESTIONS[Moment.PROGRESS]
    assert _titles(stopped[-1]) == ["Đồng ý", "Không lưu", "Xem chi tiết"]
    agreed = stack.press("e2e-consent", stopped[-1], "Đồng ý")
    assert _texts(agreed)[:2] == [AGREED_TEXT, progress_hint(kept=True)]
    assert ("consent_given", None) in stack.events("e2e-consent")
    again = stack.chat("e2e-consent", "thoát")
    assert _texts(again)[1] == progress_hint(kept=True)


def test_typing_a_button_title_presses_it(stack: RunningStack) -> None:
    asked = stack.chat("e2e-typed", "/request_human")
    assert _titles(asked[-1])[0] == "Đồng ý"
    assert _texts(stack.chat("e2e-typed", "dong y"))[0] == AGREED_TEXT
    assert ("consent_given", None) in stack.events("e2e-typed")


def test_a_scam_happening_now_gets_the_emergency_steps_first(stack: RunningStack) -> None:
    guide = load_emergency("scam")
    texts = _texts(stack.chat("e2e-scam", "tôi bị lừa chuyển khoản rồi"))
    steps = bubbles([guide.opening, *guide.steps], separator="\n")
    assert texts[: len(steps) + 1] == [*steps, guide.handoff]


def test_erasing_my_data_clears_the_profile_and_the_conversation(stack: RunningStack) -> None:
    stack.chat("e2e-erase", "tôi ở phường Ba Đình, Hà Nội")
    asked = stack.chat("e2e-erase", "xoa du lieu cua toi")
    done = stack.press("e2e-erase", asked[0], "Xóa hết")
    assert _texts(done)[0].startswith("Dạ, em đã xóa xong thông tin của anh/chị.")
    assert stack.event_rows("e2e-erase") == []
    erased = [
        resident for resident, channel in stack.events_of_type("data_erased") if channel == "web"
    ]
    assert len(erased) == 1
    counted = stack.events_of_resident(erased[0])
    assert ("intent", "delete_my_data") in counted
    assert counted[-1] == ("message_out", None)
    tracker = stack.tracker("e2e-erase")
    # Reading the tracker starts an empty session; nothing the resident said is left.
    assert [e for e in tracker["events"] if e["event"] in ("user", "bot")] == []
