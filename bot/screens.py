"""Screenshots residents send: read them (core.screens) and answer a known error with its fix.

The gateway answers a recognised screen itself, with the guide's own wording (the problem and
its fix, as "Tôi bị kẹt ở bước này" shows them) and two buttons: go on with the walkthrough at
that step, or "Vẫn chưa được", which asks for a person about that service and step. Both are
ordinary button payloads Rasa already understands, so no intent, story or retraining is needed
for a photo; Rasa never sees the image or its text.

The image is fetched by the channel's file id when the message is handled (Telegram: getFile
and the download, through TELEGRAM_API_BASE_URL) or comes with the web chat's upload; it is
read in memory and dropped. Only the masked text is kept, and only where a volunteer needs it:
in a handoff, next to the image's file id.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace

from bot.messages import Button, InboundMessage, OutboundMessage
from core.content.services import find_service_guide
from core.models import MessageKind
from core.screen_match import ScreenProblem
from core.screens import MAX_IMAGE_BYTES, ScreenReader, ScreenReading
from nlu.controls import payload

log = logging.getLogger(__name__)

# A channel's file id → the file's bytes (None: too large, or the channel would not give it).
Fetch = Callable[[str], Awaitable[bytes | None]]

UNKNOWN_SCREEN_REPLY = (
    "Dạ, em đã xem ảnh nhưng chưa nhận ra lỗi này ạ. "
    'Anh/chị gõ vài chữ về việc đang làm, hoặc bấm "Gặp người hỗ trợ" để người của Tổ công '
    "nghệ số xem giúp."
)
NOT_A_SCREEN_REPLY = (
    "Dạ, em chưa mở được ảnh này ạ. Anh/chị chụp lại màn hình (ảnh JPG hoặc PNG) rồi gửi "
    'lại giúp em, hoặc bấm "Gặp người hỗ trợ".'
)
TOO_LARGE_REPLY = "Dạ, ảnh lớn quá (quá 10 MB) ạ. Anh/chị chụp màn hình rồi gửi lại giúp em."
BUSY_SCREEN_REPLY = (
    "Dạ, em đang xem nhiều ảnh quá, chưa đọc được ảnh này ạ. Anh/chị gửi lại sau ít phút giúp em."
)
HUMAN_BUTTON = Button("Gặp người hỗ trợ", "/request_human")
OCR_NOTE = "🔎 Chữ đọc được trên ảnh (đã che số cá nhân):"


@dataclass
class Screens:
    """The gateway's screenshot reader, with a file fetcher per channel (added by the channel
    when it starts, as it adds its sender to the handoff)."""

    reader: ScreenReader
    fetchers: dict[str, Fetch] = field(default_factory=dict)

    async def read(self, message: InboundMessage) -> ScreenReading | None:
        """What the message's photo shows; None when it carries no photo we can fetch."""
        attachment = message.attachment
        if attachment is None or attachment.kind != MessageKind.PHOTO:
            return None
        data = message.image
        if data is None:
            fetch = self.fetchers.get(attachment.channel() or "")
            file_id = attachment.file_id()
            if fetch is None or file_id is None:
                return None
            try:
                data = await fetch(file_id)
            except Exception as error:  # the channel's API failed: the photo is just not read
                log.warning("screenshot not fetched from %s: %r", message.channel, error)
                return ScreenReading("failed")
            if data is None:
                return ScreenReading("too_large")
        reading = await self.reader.read(data)
        problem = reading.problem.key if reading.problem else None
        log.info("screenshot %s: %s (%.2f s)", reading.outcome, problem, reading.seconds)
        return reading


def within_limit(size: int | None) -> bool:
    """Whether a file of `size` bytes may be fetched (None: the channel did not say; the
    reader checks the bytes it gets)."""
    return size is None or size <= MAX_IMAGE_BYTES


def screen_replies(reading: ScreenReading) -> list[OutboundMessage]:
    """The answer to a screenshot outside a handoff: the fix of the problem it shows, or an
    honest word that it was not recognised (or could not be read)."""
    if reading.outcome == "too_large":
        return [OutboundMessage(TOO_LARGE_REPLY)]
    if reading.outcome == "busy":
        return [OutboundMessage(BUSY_SCREEN_REPLY)]
    if reading.outcome != "read":
        return [OutboundMessage(NOT_A_SCREEN_REPLY, (HUMAN_BUTTON,))]
    fix = fix_replies(reading.problem) if reading.problem else None
    return fix or [OutboundMessage(UNKNOWN_SCREEN_REPLY, (HUMAN_BUTTON,))]


def fix_replies(problem: ScreenProblem) -> list[OutboundMessage] | None:
    """The problem's fix from its guide, with "go on at that step" and "Vẫn chưa được"."""
    guide = find_service_guide(problem.service)
    if guide is None or not 1 <= problem.step <= len(guide.steps):
        return None
    step = guide.steps[problem.step - 1]
    if not 0 <= problem.index < len(step.problems):
        return None
    where: dict[str, str | int] = {"service": guide.key, "step": problem.step}
    return [
        OutboundMessage(
            f"Dạ, em đọc được ảnh rồi ạ. Đây là lỗi ở bước {problem.step}/{len(guide.steps)} "
            f"– {step.title} ({guide.in_short.what})."
        ),
        OutboundMessage(
            step.problems[problem.index].advice,
            (
                Button(f"Làm tiếp bước {problem.step}", payload("next_step", **where)),
                Button("Vẫn chưa được", payload("request_human", **where)),
            ),
        ),
    ]


def with_screen_text(message: InboundMessage, reading: ScreenReading | None) -> InboundMessage:
    """The message as the volunteer gets it in a handoff: the caption, then the masked text
    read off the image (the image itself goes by its file id)."""
    if reading is None or not reading.text.strip():
        return message
    text = "\n".join(part for part in (message.text, OCR_NOTE, reading.text.strip()) if part)
    return replace(message, text=text, image=None)
