"""Matching a screen's OCR text to a guide's problem: accents, case and OCR noise tolerated,
unknown and ambiguous screens left unknown."""

from __future__ import annotations

import pytest

from core.content.services import find_service_guide
from core.screen_match import (
    MATCH_THRESHOLD,
    ScreenProblem,
    fold,
    guide_index,
    index_guides,
    match_screen,
)

SIM = ScreenProblem("vneid_activation", 1, 0)
OTP = ScreenProblem("vneid_activation", 5, 2)
LOGIN = ScreenProblem("public_portal_login", 4, 0)


def test_fold_drops_case_accents_and_punctuation() -> None:
    assert fold("Mã OTP  đã HẾT hạn!") == "ma otp da het han"
    assert fold("Số điện thoại\nkhông chính chủ.") == "so dien thoai khong chinh chu"


def test_every_indexed_problem_exists_in_its_guide() -> None:
    for text, problem in guide_index():
        guide = find_service_guide(problem.service)
        assert guide is not None
        found = guide.steps[problem.step - 1].problems[problem.index]
        assert text in {fold(t) for t in found.screen_texts}


@pytest.mark.parametrize(
    ("screen", "expected"),
    [
        ("VNeID\nThông báo\nSố điện thoại không chính chủ. Vui lòng kiểm tra lại.\nĐóng", SIM),
        ("SO THUE BAO KHONG CHINH CHU", SIM),
        ("Thông báo\nMã 0TP khônq đúng. Vui\nlòng kiểm tra lại.", OTP),  # OCR: 0 for O, q
        ("Ma OTP da het han", OTP),
        ("Tên đăng nhập hoặc\nmật khẩu không đúng", LOGIN),  # broken over two lines
    ],
)
def test_known_screens_are_matched(screen: str, expected: ScreenProblem) -> None:
    match = match_screen(screen)
    assert match.problem == expected
    assert match.score >= MATCH_THRESHOLD


@pytest.mark.parametrize(
    "screen",
    [
        "",
        "Đăng nhập thành công. Chào mừng bạn đến với VNeID.",
        "Mật khẩu không đúng định dạng",
        "Số dư không đủ để thực hiện giao dịch.",
        "Số điện thoại",  # a form label on every screen
        "Mã xác thực đã được gửi đến số điện thoại của bạn.",
    ],
)
def test_unknown_screens_stay_unknown(screen: str) -> None:
    assert match_screen(screen).problem is None


def test_a_screen_showing_two_problems_is_not_guessed() -> None:
    both = "Mã OTP không đúng\nTên đăng nhập hoặc mật khẩu không đúng"
    match = match_screen(both)
    assert match.problem is None
    assert match.score >= MATCH_THRESHOLD
    assert match.runner_up >= MATCH_THRESHOLD


def test_the_same_text_on_two_problems_is_refused() -> None:
    guide = find_service_guide("vneid_activation")
    assert guide is not None
    steps = list(guide.steps)
    first = steps[0].problems[0]
    second = steps[4].problems[2].model_copy(update={"screen_texts": first.screen_texts})
    problems = list(steps[4].problems)
    problems[2] = second
    steps[4] = steps[4].model_copy(update={"problems": problems})
    with pytest.raises(ValueError, match="on two problems"):
        index_guides([guide.model_copy(update={"steps": steps})])


def test_problem_keys_round_trip() -> None:
    assert OTP.key == "vneid_activation.5.2"
    assert ScreenProblem.from_key(OTP.key) == OTP
    assert ScreenProblem.from_key("vneid_activation.x.2") is None
    assert ScreenProblem.from_key("nothing") is None
