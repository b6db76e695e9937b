"""End-to-end over the real Telegram wire format (fake Bot API, trained model, action server,
gateway with its Tesseract pool): a screenshot the bot does not know, sent during a handoff,
reaches the volunteers' forum topic as the resident's photo (forwarded by its Telegram file id)
with the text read off it — the 12-digit ID number and the phone number on it masked — and no
table of the database holds either number, nor the image."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image, ImageDraw

from actions.privacy_notice import consent_buttons
from bench.screens_gen import font
from bot.screens import OCR_NOTE
from core.privacy import ID_MASK, PHONE_MASK
from core.repositories.desk import link_desk
from tests.e2e.test_telegram_handoff import Chat, buttons, text_of
from tests.e2e.test_what_is_kept import _database_text
from tests.stack import RunningStack

pytestmark = pytest.mark.e2e

COMMUNE = "00025"  # Phường Giảng Võ, Hà Nội: a desk group of its own
ID_NUMBER = "001203012345"
PHONE = "0912 345 678"
LINES = (
    "Hồ sơ chưa được tiếp nhận",
    f"Số định danh: {ID_NUMBER}",
    f"Số điện thoại: {PHONE}",
    "Mã lỗi: HS-7731. Liên hệ bộ phận một cửa.",
)


def unknown_screen() -> bytes:
    """A phone screenshot of an error no guide knows, with a (made-up) ID and phone number."""
    image = Image.new("RGB", (1080, 1400), "#ffffff")
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, 1080, 160), fill="#0b4fb3")
    draw.text((60, 50), "Cổng dịch vụ công", font=font(56, "-Bold"), fill="#ffffff")
    for row, line in enumerate(LINES):
        draw.text((60, 280 + row * 120), line, font=font(48), fill="#1c1c1c")
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _unmasked(text: str) -> bool:
    """Whether `text` shows the ID or the phone number's digits in a row, whatever separators
    between them."""
    numbers = (ID_NUMBER, PHONE)
    return any(re.search(r"\D{0,3}".join(_digits(n)), text) for n in numbers)


def test_an_unknown_screen_in_a_handoff_reaches_the_volunteer_masked(stack: RunningStack) -> None:
    tg = stack.telegram
    group = tg.forum_group("Tổ công nghệ số Giảng Võ")
    with stack.session() as session:
        link_desk(session=session, chat_id=group["id"], communes=[COMMUNE])
    resident = tg.user("Bảy")
    me = Chat(stack, resident["id"])
    desk = Chat(stack, group["id"])

    # A handoff: the privacy question (agreed: whatever can be kept, is), the commune, the ticket.
    tg.user_text(resident, "toi muon gap nguoi ho tro")
    question = me.text("Anh/chị đồng ý không ạ?")
    agree = consent_buttons(None)[0]["title"]
    assert agree in [title for title, _ in buttons(question)]
    tg.press(resident, question, text=agree)
    me.text("anh/chị ở xã, phường nào")
    tg.user_text(resident, "phuong giang vo ha noi")
    me.text("lượt thứ 1")
    card = desk.next(lambda m: buttons(m) != [], "no ticket card")
    topic = Chat(stack, group["id"], card["message_thread_id"])
    topic.seen = (0, 0)

    image = unknown_screen()
    sent = tg.user_photo(resident, image)
    file_id = sent["photo"][-1]["file_id"]

    photo = topic.next(lambda m: m.get("method") == "sendPhoto", "no photo in the topic")
    assert tg.file_bytes(photo["photo"][-1]["file_id"]) == image
    by_id = [c["params"].get("photo") for c in tg.calls("sendPhoto")]
    assert file_id in by_id  # passed on by its file id: the gateway never re-uploads it
    read = text_of(photo)  # the caption, or (too long for one) the message after the photo
    if OCR_NOTE not in read:
        read = text_of(topic.text(OCR_NOTE))
    assert "Hồ sơ chưa được tiếp nhận" in read, read
    assert ID_MASK in read, read
    assert PHONE_MASK in read, read
    assert not _unmasked(read), read
    assert not any("em đọc được ảnh" in text_of(m) for m in me.all())  # the bot kept quiet

    kept = [(table, row) for table, row in _database_text(stack) if OCR_NOTE in row]
    assert kept, "the masked text is kept with the ticket's messages"
    for table, row in _database_text(stack):
        assert not _unmasked(row), (table, row)
    assert not _unmasked(stack.logs())
