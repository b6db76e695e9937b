"""Joining a turn's bubbles for the paced channels (bot/channels/bubbles.py): order kept,
limits kept in UTF-16 code units, buttons on the bubble they belong to, files alone, long
bubbles still cut after sentences."""

from __future__ import annotations

from bot.channels.bubbles import PARAGRAPH, join, size, split_text
from bot.messages import Attachment, Button, OutboundMessage
from core.models import MessageKind

NEXT = (Button("Tiếp theo", "/next_step"), Button("Thoát", "/stop_flow"))
CONSENT = (Button("Đồng ý", "/consent_yes"), Button("Không", "/consent_no"))


def bubble(text: str, buttons: tuple[Button, ...] = ()) -> OutboundMessage:
    return OutboundMessage(text, buttons)


def test_a_turn_becomes_one_message_with_paragraphs_and_the_buttons_last() -> None:
    turn = [bubble("Dạ, em hướng dẫn."), bubble("Chi phí: 0 đồng."), bubble("Bước 1/5 – Mở app")]
    turn[-1] = bubble(turn[-1].text, NEXT)
    (message,) = join(turn, 4096)
    assert message.text == PARAGRAPH.join(b.text for b in turn)
    assert message.buttons == NEXT


def test_buttons_in_the_middle_end_a_message_so_they_stay_under_their_bubble() -> None:
    turn = [
        bubble("Dạ, em hướng dẫn."),
        bubble("Bước 1/5 – Mở app\nMở VNeID.", NEXT),
        bubble("🔒 Em xin phép lưu."),
        bubble("Anh/chị có đồng ý không ạ?", CONSENT),
    ]
    first, second = join(turn, 4096)
    assert first == OutboundMessage("Dạ, em hướng dẫn.\n\nBước 1/5 – Mở app\nMở VNeID.", NEXT)
    assert second == OutboundMessage("🔒 Em xin phép lưu.\n\nAnh/chị có đồng ý không ạ?", CONSENT)


def test_bubbles_that_do_not_fit_start_a_new_message_whole_and_in_order() -> None:
    turn = [bubble(f"Bước {n}/9 – " + "chữ " * 20) for n in range(1, 10)]
    messages = join(turn, 250)
    assert all(size(m.text) <= 250 for m in messages)
    assert len(messages) > 1
    assert all(m.text.startswith("Bước ") for m in messages)  # the step title first
    paragraphs = [p for m in messages for p in m.text.split(PARAGRAPH)]
    assert paragraphs == [b.text.strip() for b in turn]


def test_a_bubble_longer_than_the_limit_is_cut_after_sentences_and_keeps_its_buttons() -> None:
    sentence = "Dạ, bác làm theo từng bước nhé. "
    turn = [bubble("Mở đầu."), bubble(sentence * 300, NEXT), bubble("Sau đó.")]
    messages = join(turn, 2000)
    assert all(size(m.text) <= 2000 for m in messages)
    assert [bool(m.buttons) for m in messages] == [False] * (len(messages) - 2) + [True, False]
    assert messages[-2].buttons == NEXT
    assert messages[-1].text == "Sau đó."
    body = " ".join(m.text for m in messages[:-1])
    assert body.replace(PARAGRAPH, " ") == ("Mở đầu. " + sentence * 300).strip()
    assert all(m.text.endswith(".") for m in messages)


def test_limits_count_emoji_as_two_units() -> None:
    assert size("🔒a") == 3
    emoji = "🎉" * 1500  # 1,500 characters, 3,000 units
    pieces = split_text(emoji, 2000)
    assert [size(p) for p in pieces] == [2000, 1000]
    (first, second) = join([bubble("🎉" * 600), bubble("🎉" * 600)], 2000)
    assert (size(first.text), size(second.text)) == (1200, 1200)


def test_text_without_spaces_is_cut_hard() -> None:
    assert [len(p) for p in split_text("x" * 5000, 2000)] == [2000, 2000, 1000]


def test_a_file_goes_alone_between_the_joined_texts() -> None:
    photo = OutboundMessage("Bác bấm vào đây", attachment=Attachment(MessageKind.PHOTO, "t:1"))
    turn = [bubble("Một."), bubble("Hai."), photo, bubble("Ba.")]
    assert join(turn, 4096) == [bubble("Một.\n\nHai."), photo, bubble("Ba.")]


def test_empty_bubbles_add_nothing_and_lone_buttons_join_the_text_before() -> None:
    assert join([], 4096) == []
    assert join([bubble("  "), bubble("Một.")], 4096) == [bubble("Một.")]
    assert join([bubble("Một."), bubble("", CONSENT)], 4096) == [bubble("Một.", CONSENT)]
