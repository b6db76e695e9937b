"""Reading screenshots with the real Tesseract in the real process pool: a small deterministic
subset of the bench's test set, drawn here into tmp_path; masking; refused images."""

from __future__ import annotations

import asyncio
import io
import random
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from threading import Event

import pytest
from PIL import Image

from bench.screens_gen import PHOTO_EFFECTS, Screen, draw_screen
from core import screens
from core.privacy import ID_MASK, PHONE_MASK
from core.screen_match import Match
from core.screens import ScreenReader

SIM = "vneid_activation.1.0"
OTP = "vneid_activation.5.2"
LOGIN = "public_portal_login.4.0"


def _png(image: Image.Image, kind: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, kind)
    return buffer.getvalue()


# (message, label, size, dark, photo effect or None)
SUBSET = [
    ("Số điện thoại không chính chủ. Vui lòng kiểm tra lại.", SIM, (1080, 2400), False, None),
    ("Mã OTP đã hết hạn. Vui lòng kiểm tra lại.", OTP, (720, 1600), True, None),
    ("Tên đăng nhập hoặc mật khẩu không đúng. Vui lòng kiểm tra lại.", LOGIN,
     (1080, 2400), False, "telegram"),
    ("Mã OTP không đúng. Vui lòng kiểm tra lại.", OTP, (1080, 2400), False, "jpeg30"),
    ("Số dư không đủ để thực hiện giao dịch.", None, (1080, 2400), True, None),
    ("Đăng nhập thành công. Chào mừng bạn đến với VNeID.", None, (720, 1600), False, "moire"),
]  # fmt: skip


def _subset(tmp_path: Path) -> Iterator[tuple[Path, str | None, str]]:
    for number, (message, label, (width, height), dark, effect) in enumerate(SUBSET):
        app = "dichvucong" if label == LOGIN else "vneid"
        image = draw_screen(Screen(app, message, label, width, height, dark, seed=number))
        if effect is not None:
            image = PHOTO_EFFECTS[effect](image, random.Random(number))
        path = tmp_path / f"{number}.{'jpg' if effect else 'png'}"
        path.write_bytes(_png(image, "JPEG" if effect else "PNG"))
        yield path, label, message


@pytest.fixture(scope="module")
def reader() -> Iterator[ScreenReader]:
    pool = ScreenReader()
    yield pool
    pool.close()


async def test_the_subset_is_read_and_unknown_screens_are_not_guessed(
    reader: ScreenReader, tmp_path: Path
) -> None:
    for path, label, message in _subset(tmp_path):
        reading = await reader.read(path.read_bytes())
        assert reading.outcome == "read", path.name
        got = reading.problem.key if reading.problem else None
        assert got == label, f"{path.name} ({message}): {got}, text {reading.text!r}"
    assert len(reader.worker_pids()) <= screens.POOL_WORKERS


async def test_personal_numbers_on_the_screen_are_masked(
    reader: ScreenReader, tmp_path: Path
) -> None:
    screen = Screen("vneid", "Mã OTP không đúng.", OTP, 1080, 2400, False, seed=7)
    reading = await reader.read(_png(draw_screen(screen)))
    assert ID_MASK in reading.text, reading.text
    assert PHONE_MASK in reading.text, reading.text
    assert not re.search(r"\d{6}", reading.text.replace(" ", "")), reading.text


async def test_what_is_not_a_screenshot_is_refused(reader: ScreenReader) -> None:
    assert (await reader.read(b"%PDF-1.4 not an image")).outcome == "not_an_image"
    gif = _png(Image.new("RGB", (64, 64), "white"), "GIF")
    assert (await reader.read(gif)).outcome == "not_an_image"
    buffer = io.BytesIO()
    Image.new("1", (20_000, 20_000)).save(buffer, "PNG")  # 400 MP in a small file
    bomb = buffer.getvalue()
    assert len(bomb) < screens.MAX_IMAGE_BYTES
    assert (await reader.read(bomb)).outcome == "not_an_image"
    too_big = b"\xff\xd8" + bytes(screens.MAX_IMAGE_BYTES)
    assert (await reader.read(too_big)).outcome == "too_large"


async def test_a_blank_image_reads_as_unknown(reader: ScreenReader) -> None:
    reading = await reader.read(_png(Image.new("RGB", (1080, 2400), "#f4f4f4")))
    assert reading.outcome == "read"
    assert reading.problem is None


async def test_a_read_slower_than_the_limit_is_answered_as_failed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A photo that Tesseract takes too long over is answered as failed, never an error (the
    stuck read would raise if it were still awaited when released)."""
    release = Event()

    def stuck(data: bytes) -> tuple[screens.Outcome, str, Match]:
        release.wait(10)
        raise AssertionError("read after its time was up")

    monkeypatch.setattr(screens, "read_in_worker", stuck)
    monkeypatch.setattr(screens, "READ_TIMEOUT_SECONDS", 0.1)
    with ThreadPoolExecutor(max_workers=1) as executor:
        reader = ScreenReader(executor)
        try:
            reading = await reader.read(b"x")
        finally:
            release.set()
    assert reading.outcome == "failed"


async def test_more_images_than_the_pool_may_queue_are_refused_as_busy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    release = Event()
    real = screens.read_in_worker

    def slow(data: bytes) -> tuple[screens.Outcome, str, Match]:
        release.wait(10)
        return real(data)

    monkeypatch.setattr(screens, "read_in_worker", slow)
    with ThreadPoolExecutor(max_workers=screens.MAX_IN_FLIGHT) as executor:
        reader = ScreenReader(executor)
        waiting = [
            asyncio.create_task(reader.read(b"not an image")) for _ in range(screens.MAX_IN_FLIGHT)
        ]
        await asyncio.sleep(0.05)
        assert (await reader.read(b"x")).outcome == "busy"
        release.set()
        outcomes = [(await task).outcome for task in waiting]
    assert outcomes == ["not_an_image"] * screens.MAX_IN_FLIGHT
    assert (await ScreenReader(executor=ThreadPoolExecutor(1)).read(b"y")).outcome != "busy"
