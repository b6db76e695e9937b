"""The conversation rules' checker (tests/conversation_rules.py) on good and bad turns."""

from __future__ import annotations

import pytest

from tests.conversation_rules import (
    MAX_BUBBLES,
    SCREEN_CHARS,
    SCREEN_LINES,
    Bubble,
    asks_in_words,
    assert_follows_rules,
    is_question,
    violations,
)

STEP_BUTTONS = [
    {"title": "Tiếp theo", "payload": '/next_step{"service":"birth_registration","step":2}'},
    {"title": "Tôi bị kẹt ở bước này", "payload": "/stuck"},
]
CONSENT_BUTTONS = [
    {"title": "Đồng ý", "payload": '/consent{"choice":"yes"}'},
    {"title": "Không lưu", "payload": '/consent{"choice":"no"}'},
]
OVERVIEW = "Dạ, em hướng dẫn anh/chị đăng ký khai sinh ạ. Làm ở UBND xã hoặc trên VNeID."
STEP_ONE = "Bước 1/5 – Chuẩn bị giấy tờ\nGiấy chứng sinh và căn cước của bố hoặc mẹ."


def _bubble(text: str, buttons: list[dict[str, str]] | None = None) -> Bubble:
    return {"text": text, "buttons": buttons or []}


def _rules(turn: list[Bubble]) -> list[str]:
    return [v.rule for v in violations(turn)]


@pytest.mark.parametrize(
    "text",
    [
        "Anh/chị ở xã, phường nào?",
        "Anh/chị ở xã, phường nào ạ?",
        "Bác cần em giúp gì nữa không ạ ?",
        "Mình làm tiếp nhé? 🙂",
        "Bác đã làm xong chưa ạ? 👍🏻 ",
        "Anh/chị có đồng ý không?\n",
        "Anh/chị ở đâu ạ？",
        "Có đúng không ạ?ạ",  # a doubled particle
        # A question put to the resident inside the text: the commune question.
        'Anh/chị ở xã, phường nào ạ? Gõ tên là được, không cần dấu, ví dụ: "xa tan lap".',
        "Anh/chị có đồng ý cho em lưu không ạ ? Không đồng ý thì em vẫn hỗ trợ bình thường.",
    ],
)
def test_a_text_ending_with_a_question_mark_asks(text: str) -> None:
    assert asks_in_words(text)
    assert is_question(_bubble(text))


@pytest.mark.parametrize(
    "text",
    [
        "Dạ, em đã ghi nhận anh/chị ở Phường Ba Đình, Hà Nội ạ.",
        "Quên mật khẩu? Bấm “Quên mật khẩu” rồi nhập số điện thoại.",  # a ? inside
        "Anh/chị tự hỏi: Ai đăng tin này? Đăng ngày nào? Chưa chắc thì chưa chia sẻ.",
        "Chi phí: miễn phí\nThời gian: trong ngày",
        "Dạ",
        "Xem thêm: https://dichvucong.gov.vn/p/home/dvc-tthc-thu-tuc-hanh-chinh.html?id=1",
        "",
    ],
)
def test_a_text_not_ending_with_a_question_mark_does_not_ask(text: str) -> None:
    assert not asks_in_words(text)
    assert not is_question(_bubble(text))


def test_a_bubble_with_buttons_asks_whatever_its_words() -> None:
    assert is_question(_bubble(STEP_ONE, STEP_BUTTONS))


def test_an_overview_then_step_one_with_its_buttons_follows_the_rules() -> None:
    turn = [_bubble(OVERVIEW), _bubble(STEP_ONE, STEP_BUTTONS)]
    assert violations(turn) == []
    assert_follows_rules(turn, "a service question")


def test_an_answer_without_any_buttons_follows_the_rules() -> None:
    assert violations([_bubble("Dạ, em cảm ơn anh/chị ạ.")]) == []
    assert violations([]) == []


def test_more_than_four_bubbles_break_the_rules() -> None:
    turn = [_bubble(f"Ý số {n}.") for n in range(MAX_BUBBLES)]
    assert violations(turn) == []
    assert _rules([*turn, _bubble("Một ý nữa.")]) == ["few bubbles"]


def test_step_buttons_and_the_privacy_notice_are_two_questions() -> None:
    turn = [
        _bubble(OVERVIEW),
        _bubble(STEP_ONE, STEP_BUTTONS),
        _bubble("Em có được lưu tin nhắn của anh/chị không ạ?", CONSENT_BUTTONS),
    ]
    assert _rules(turn) == ["one question"]


def test_buttons_and_a_question_in_words_are_two_questions() -> None:
    turn = [_bubble(STEP_ONE, STEP_BUTTONS), _bubble("Anh/chị ở xã, phường nào ạ?")]
    assert _rules(turn) == ["one question", "current choices last"]
    asked_twice = [_bubble("Anh/chị ở xã nào?"), _bubble("Anh/chị cần làm gì ạ?")]
    assert _rules(asked_twice) == ["one question"]


def test_the_commune_question_before_step_one_is_a_second_question() -> None:
    commune = "Anh/chị ở xã, phường nào ạ? Gõ tên là được, không cần dấu."
    assert _rules([_bubble(commune), _bubble(STEP_ONE, STEP_BUTTONS)]) == ["one question"]


def test_the_current_choices_come_last() -> None:
    turn = [_bubble(STEP_ONE, STEP_BUTTONS), _bubble("Chúc anh/chị làm thủ tục thuận lợi.")]
    [violation] = violations(turn)
    assert (violation.rule, violation.bubble) == ("current choices last", 1)
    assert "bubble 1 has" in str(violation)


def test_a_bubble_longer_than_a_phone_screen_breaks_the_rules() -> None:
    assert violations([_bubble("a" * SCREEN_CHARS)]) == []
    assert _rules([_bubble("a" * (SCREEN_CHARS + 1))]) == ["one phone screen"]
    lines = "\n".join(f"• Giấy tờ số {n}" for n in range(SCREEN_LINES))
    assert violations([_bubble(lines)]) == []
    [violation] = violations([_bubble(OVERVIEW), _bubble(f"{lines}\n• Một dòng nữa")])
    assert (violation.rule, violation.bubble) == ("one phone screen", 1)


def test_a_failing_turn_is_described_with_every_violation() -> None:
    turn = [_bubble("x" * (SCREEN_CHARS + 1), STEP_BUTTONS)] * (MAX_BUBBLES + 1)
    with pytest.raises(AssertionError) as failure:
        assert_follows_rules(turn, "'xin chào'")
    message = str(failure.value)
    assert message.startswith("the answer to 'xin chào' breaks the conversation rules:")
    for rule in ("few bubbles", "one question", "one phone screen (bubble 5)"):
        assert rule in message
    assert "['Tiếp theo', 'Tôi bị kẹt ở bước này']" in message
