"""Typed button titles are taken as presses of the last reply's buttons."""

from __future__ import annotations

from redis.asyncio import Redis

from bot.messages import Button, OutboundMessage
from bot.typed_buttons import TTL_SECONDS, TypedButtons, comparable

NOTICE = OutboundMessage(
    text="Anh/chị có đồng ý không ạ?",
    buttons=(
        Button("Đồng ý", '/consent{"choice":"yes"}'),
        Button("Không lưu nội dung", '/consent{"choice":"no"}'),
    ),
)
STEP = OutboundMessage(
    text="Bước 2/8 …",
    buttons=(Button("Tiếp theo", '/next_step{"service":"birth_registration","step":3}'),),
)


def test_comparable_ignores_case_diacritics_emoji_and_punctuation() -> None:
    assert comparable("✅ Đồng ý!") == "dong y"
    assert comparable("  dong   Y  ") == "dong y"
    assert comparable("Làm tiếp bước 3") == "lam tiep buoc 3"
    assert comparable("🎉") == ""


async def test_a_typed_title_is_the_buttons_payload(redis: Redis, unique: str) -> None:
    buttons = TypedButtons(redis, prefix=f"test-buttons-{unique}")
    await buttons.remember("r1", [STEP, NOTICE])
    assert await buttons.payload_for("r1", "dong y") == '/consent{"choice":"yes"}'
    assert await buttons.payload_for("r1", "Không lưu nội dung.") == '/consent{"choice":"no"}'
    assert await buttons.payload_for("r1", "tiep theo") == (
        '/next_step{"service":"birth_registration","step":3}'
    )
    assert await buttons.payload_for("r1", "dong y nhe") is None
    assert await buttons.payload_for("r2", "dong y") is None
    ttl = await redis.ttl(f"test-buttons-{unique}:r1")
    assert 0 < ttl <= TTL_SECONDS


async def test_only_the_last_reply_counts(redis: Redis, unique: str) -> None:
    buttons = TypedButtons(redis, prefix=f"test-buttons-{unique}")
    await buttons.remember("r1", [NOTICE])
    await buttons.remember("r1", [STEP])
    assert await buttons.payload_for("r1", "dong y") is None
    await buttons.remember("r1", [OutboundMessage(text="Dạ.")])
    assert await buttons.payload_for("r1", "tiep theo") is None
